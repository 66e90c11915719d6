"""What every benchmark script shares: the synthetic data files and timing a whole process."""

import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).parent


def data_file(count: int, suffix: str) -> Path:
    """benchmarks/data/records_COUNT.{csv,db}, generated when missing."""
    path = HERE / "data" / f"records_{count}{suffix}"
    if not path.exists():
        subprocess.run([sys.executable, str(HERE / "generate.py"), str(count)], check=True)
    return path


def best_time(
    command: list[str], repeat: int, stdin: str | None = None, env: dict[str, str] | None = None
) -> tuple[float, str]:
    """Best wall time of `repeat` runs of a whole process (start-up included), and its last stdout."""
    best, out = float("inf"), ""
    for _ in range(repeat):
        started = time.perf_counter()
        out = subprocess.run(command, input=stdin, capture_output=True, text=True, check=True, env=env).stdout
        best = min(best, time.perf_counter() - started)
    return best, out
