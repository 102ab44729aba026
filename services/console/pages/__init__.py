"""The console's routes, one module per area (sign-in, desk, online submissions, work queue, result files, reports,
notices, citizen look-up and online filing)."""
