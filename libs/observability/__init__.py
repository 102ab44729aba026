"""Telemetry shared by the services: metrics registry, tracing, JSON logs with PII masking."""

from libs.observability.logging import mask_pii, setup_logging
from libs.observability.metrics import PipelineMetrics, new_registry
from libs.observability.tracing import make_tracer_provider

__all__ = ["PipelineMetrics", "make_tracer_provider", "mask_pii", "new_registry", "setup_logging"]
