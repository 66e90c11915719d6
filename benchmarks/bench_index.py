"""Issue #14 items 3-4 in one run: the run index on a large CSV and SQLite store (copied, since 10,000
records are appended to them): the first command (which builds the index), `tasks`, `runtimes`, `check`
and `runs -n 50` on the unchanged store, each after appending 10,000 records, and `ls --since` a 1 h
window; wall time of the whole process (start-up included) and its peak memory."""

import argparse
import csv
import os
import resource
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from generate import COLUMNS, START, synthetic_records
from timing import data_file

APPENDED = 10_000


def run(command: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """Wall seconds and peak MB of one whole process, and its stdout."""
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    wall = time.perf_counter() - started
    if done.returncode not in (0, 1):
        raise SystemExit(f"{command} failed: {done.stderr}")
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return wall, peak, done.stdout


def best(command: list[str], env: dict[str, str], repeat: int = 3) -> float:
    return min(run(command, env)[0] for _ in range(repeat))


def append(store: Path, batch: int) -> None:
    """Append records that start after the store's last one (a later hour of the same scheduler)."""
    later = START + 30_000_000.0 + batch * 100_000.0
    rows = [(task, action, created - START + later, run_id) for task, action, created, run_id in
            synthetic_records(APPENDED, seed=100 + batch)]  # fmt: skip
    if store.suffix == ".csv":
        with store.open("a", encoding="utf-8", newline="") as file:
            csv.writer(file).writerows(rows)
    else:
        with sqlite3.connect(store) as connection:
            connection.executemany(f"INSERT INTO tasks ({', '.join(COLUMNS)}) VALUES (?, ?, ?, ?)", rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=10_000_000)
    parser.add_argument("--data", type=Path, default=None, help="folder holding records_N.csv/.db")
    parser.add_argument("--stores", default=".csv,.db", help="which of the two stores to time")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="tasklog-bench-index-"))
    env = {**os.environ, "XDG_CACHE_HOME": str(work / "cache")}
    pass_time = best([sys.executable, "-c", "pass"], env, 5)
    print(f"records: {args.records:,}; python -c pass: {pass_time * 1000:.0f} ms")
    try:
        for suffix in args.stores.split(","):
            name = f"records_{args.records}{suffix}"
            source = args.data / name if args.data else data_file(args.records, suffix)
            store = work / source.name
            shutil.copyfile(source, store)
            tasklog = [sys.executable, "-m", "tasklog_cli"]
            repo = ["-r", str(store)]
            wall, peak, _ = run([*tasklog, "tasks", *repo, "-o", "tsv"], env)
            print(f"{suffix:4} first `tasks` (builds the index): {wall:.1f} s, peak {peak:.0f} MB")
            for command in (["tasks"], ["runtimes"], ["check", "--max-failures", "3"], ["runs", "-n", "50"]):
                full = [*tasklog, *command, *repo, "-o", "tsv"]
                print(f"{suffix:4} unchanged: {' '.join(command):24} {best(full, env):.2f} s")
            for batch, command in enumerate((["tasks"], ["runtimes"], ["check", "--max-failures", "3"])):
                append(store, batch)
                wall, _, _ = run([*tasklog, *command, *repo, "-o", "tsv"], env)
                print(f"{suffix:4} after +{APPENDED:,}: {' '.join(command):24} {wall:.2f} s")
            if suffix == ".csv":
                last_hour = START + 30_000_000.0 + 2 * 100_000.0 + 3_600
                window = ["ls", *repo, "-S", f"@{last_hour}", "-U", f"@{last_hour + 3600}", "-o", "tsv"]
                indexed = best([*tasklog, *window], env)
                wall, _, _ = run([*tasklog, *window, "--no-index"], env)
                print(f"{suffix:4} ls -S/-U a 1 h window: {indexed:.2f} s (without the index {wall:.1f} s)")
            store.unlink()
    finally:
        shutil.rmtree(work)


if __name__ == "__main__":
    main()
