"""Settings of the processing service (env prefix ONESTOP_PROCESSING_)."""

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from libs.settings import ServiceSettings


class ProcessingSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="ONESTOP_PROCESSING_", extra="ignore")

    port: int = 8002
    # How often the overdue / due-soon sweep runs. Often, so its warnings come in small waves: a same-day
    # procedure warns for every case it receives, and 30 s of a busy desk at once (6,000 events) held up
    # every consumer for seconds (bench/README.md). A sweep with nothing to raise reads only an index.
    sweep_seconds: float = Field(default=5.0, gt=0)
    sweep_page_size: int = Field(default=200, ge=1, le=5000)  # cases locked and checked per transaction
    due_soon_hours: float = Field(default=8.0, ge=0)  # working hours before the appointment that warn "due soon"
