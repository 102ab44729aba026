"""`make bench`: every benchmark in turn; each prints its table and writes bench/results/<name>.json.

Figures only — nothing here asserts on time. Arguments after `--` go to every script, e.g.
`make bench ARGS="--rate 100 --seconds 60"` for the pipeline."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SCRIPTS = ["pipeline.py", "capacity.py", "replay.py", "report_query.py", "sweep.py", "console.py"]


def main(argv: list[str]) -> int:
    failed = []
    for script in SCRIPTS:
        path = HERE / script
        if not path.exists():
            print(f"== {script}: not written yet, skipped")
            continue
        print(f"== {script}")
        args = argv if script == "pipeline.py" else []
        if subprocess.call([sys.executable, str(path), *args]) != 0:
            failed.append(script)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
