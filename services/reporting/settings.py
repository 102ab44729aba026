"""Settings of the reporting service (env prefix ONESTOP_REPORTING_)."""

from typing import Literal

from pydantic_settings import SettingsConfigDict

from libs.settings import ServiceSettings
from services.reporting.domain import CountingRules


class ReportingSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="ONESTOP_REPORTING_", extra="ignore")

    port: int = 8004
    # Counting rules (quy ước đếm, docs/domain.md marks them unconfirmed): see services/reporting/domain/rules.py.
    # `judge_to_minute` and `timezone` are baked into the daily rollups: change them, then rebuild.
    attribute_to: Literal["receiving", "competent", "either"] = "either"
    withdrawn_stopped_on_time: bool = True
    supplement_within_deadline: bool = True
    channel_split_includes_carried_over: bool = False
    judge_to_minute: bool = True
    timezone: str = "Asia/Ho_Chi_Minh"
    # Form 06 from the daily rollups + a few rows in SQL (PostgreSQL); False: the domain over loaded facts.
    fast_form06: bool = True
    gauge_interval_seconds: float = 15.0
    due_soon_working_hours: float = 8.0  # a pending dossier within one working day of its appointment
    rebuild_batch: int = 10000
    rebuild_grace_seconds: float = 10.0  # keep the replaced tables this long for readers still on them

    def rules(self) -> CountingRules:
        return CountingRules(
            attribute_to=self.attribute_to, withdrawn_stopped_on_time=self.withdrawn_stopped_on_time,
            supplement_within_deadline=self.supplement_within_deadline,
            channel_split_includes_carried_over=self.channel_split_includes_carried_over,
            judge_to_minute=self.judge_to_minute, timezone=self.timezone,
        )
