"""Issue #13: how long a TAB takes to complete task names on 1,000 and 1,000,000 records (CSV, SQLite):
the first TAB (empty cache: it answers what it could read within its budget) and the next ones (cache).

Usage: python benchmarks/bench_completion.py
"""

import os
import sys
import tempfile
import time
from pathlib import Path

from timing import best_time, data_file

TASKLOG = [sys.executable, "-m", "tasklog_cli"]
REPEAT = 5


def tab_environment(spec: str, cache: Path) -> dict[str, str]:
    """What bash's script passes for a TAB after `tasklog ls -r SPEC -t task_0`."""
    return {
        **os.environ,
        "XDG_CACHE_HOME": str(cache),
        "_TASKLOG_COMPLETE": "complete_bash",
        "_TASKLOG_COMPLETE_LINE": f"tasklog ls -r {spec} -t task_0",
    }


def first_tab(spec: str) -> float:
    """Best time of a TAB with an empty cache (each in a new cache folder)."""
    best = float("inf")
    for _ in range(REPEAT):
        with tempfile.TemporaryDirectory() as folder:
            seconds, _ = best_time(TASKLOG, 1, env=tab_environment(spec, Path(folder)))
            best = min(best, seconds)
            time.sleep(2)  # let the reader it left behind finish before its folder goes
    return best


def next_tab(spec: str) -> float:
    """Best time of a TAB once the cache knows the store."""
    with tempfile.TemporaryDirectory() as folder:
        environment = tab_environment(spec, Path(folder))
        for _ in range(20):  # until the reader of the first TAB has filled the cache
            if best_time(TASKLOG, 1, env=environment)[1].strip():
                break
            time.sleep(1)
        seconds, answer = best_time(TASKLOG, REPEAT, env=environment)
        if not answer.strip():
            raise SystemExit(f"no answer from the cache for {spec}")
        return seconds


def main() -> None:
    bare, _ = best_time([sys.executable, "-c", "pass"], REPEAT)
    help_time, _ = best_time([*TASKLOG, "--help"], REPEAT)
    print(f"python -c pass: {bare * 1000:.0f} ms, tasklog --help: {help_time * 1000:.0f} ms")
    print("| store | records | first TAB (empty cache) | next TAB (cached) |")
    print("|---|---|---|---|")
    for count in (1000, 1_000_000):
        for suffix, label in ((".csv", "CSV"), (".db", "SQLite")):
            spec = str(data_file(count, suffix))
            first, cached = first_tab(spec), next_tab(spec)
            print(f"| {label} | {count:,} | {first * 1000:.0f} ms | {cached * 1000:.0f} ms |")


if __name__ == "__main__":
    main()
