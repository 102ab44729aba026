"""The console's routes, one module per area (sign-in, desk, work queue, reports, notices, citizen)."""
