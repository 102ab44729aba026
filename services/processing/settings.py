"""Settings of the processing service (env prefix ONESTOP_PROCESSING_)."""

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from libs.settings import ServiceSettings


class ProcessingSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="ONESTOP_PROCESSING_", extra="ignore")

    port: int = 8002
    sweep_seconds: float = Field(default=30.0, gt=0)  # how often the overdue / due-soon sweep runs
    sweep_page_size: int = Field(default=200, ge=1, le=5000)  # cases locked and checked per transaction
    due_soon_hours: float = Field(default=8.0, ge=0)  # working hours before the appointment that warn "due soon"
