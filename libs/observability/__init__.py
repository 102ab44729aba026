"""Telemetry shared by the services: metrics registry, tracing, JSON logs with PII masking, consumer lag."""

from libs.observability.context import DossierLogContext, log_context
from libs.observability.logging import mask_pii, mask_value, setup_logging
from libs.observability.metrics import Children, PipelineMetrics, new_registry
from libs.observability.tracing import current_traceparent, make_tracer_provider, stored_context

__all__ = [
    "Children",
    "DossierLogContext",
    "PipelineMetrics",
    "current_traceparent",
    "log_context",
    "make_tracer_provider",
    "mask_pii",
    "mask_value",
    "new_registry",
    "setup_logging",
    "stored_context",
]
