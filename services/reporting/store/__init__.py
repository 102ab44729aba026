"""Reporting's SQL, and the only place it is written.

- `tables`: the fixed tables Alembic owns and the tables of one read-model generation;
- `generations`: which generation is live, creating, swapping, dropping generations;
- `writer`: a batch's fact rows and rollup deltas into one generation (set-based statements);
- `queries`: what reports and gauges read from the live generation.
"""
