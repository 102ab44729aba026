"""py-spy around a benchmark: record each service while the load runs, then print the hottest frames.

Used by `pipeline.py --profile DIR`; on its own, `python bench/profile.py DIR/*.txt` summarises saved records
(py-spy's raw "collapsed stack" format: one line per distinct stack with its sample count)."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from pathlib import Path

PY_SPY = Path(sys.executable).parent / "py-spy"


def record(pid: int, out: Path, seconds: float) -> subprocess.Popen[bytes]:
    """Sample a live process for `seconds` into a collapsed-stack file (100 Hz, only while it holds the GIL:
    time in Python, not waits)."""
    return subprocess.Popen(
        [str(PY_SPY), "record", "--pid", str(pid), "--duration", str(int(seconds)), "--rate", "100",
         "--format", "raw", "--output", str(out), "--nonblocking", "--gil"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )


def summary(path: Path, top: int = 25) -> str:
    """Inclusive share of samples per frame (a frame counted once per stack), hottest first."""
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack:
            continue
        n = int(count)
        total += n
        frames = stack.split(";")
        for frame in set(frames):
            inclusive[_short(frame)] += n
        own[_short(frames[-1])] += n
    lines = [f"{path.stem}: {total} samples", "  inclusive%  self%  frame"]
    for frame, n in inclusive.most_common(top):
        lines.append(f"  {100 * n / total:9.1f}  {100 * own[frame] / total:5.1f}  {frame}")
    return "\n".join(lines)


def summaries(folder: Path) -> str:
    return "\n".join(summary(path) for path in sorted(folder.glob("*.txt")))


def _short(frame: str) -> str:
    # "func (path/to/module.py:123)" → "func (module.py)"; line numbers would split one function's samples
    name, _, where = frame.partition(" (")
    file = where.rsplit(":", 1)[0].rstrip(")")
    parts = Path(file).parts
    return f"{name} ({'/'.join(parts[-2:])})"


if __name__ == "__main__":
    for arg in sys.argv[1:]:
        print(summary(Path(arg)))
