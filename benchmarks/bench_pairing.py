"""Issue #14 (items 1-2) figures in one run: cold `runtimes`/`tasks` on 1,000,000 CSV records against the
csv.reader pairing loop (csv_pairing_loop.py) and DuckDB, SQLite against the raw window query, and the
peak memory of every run command on 10,000,000 records (generate them once: `generate.py 10000000`)."""

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

from bench_runtimes import WINDOW_QUERY
from timing import HERE, best_time, data_file

DUCKDB_QUERY = """
import sys, duckdb
QUERY = '''
WITH records AS (
  SELECT * FROM read_csv(?, header = true, quote = '"', escape = '"',
    columns = {'task_name': 'VARCHAR', 'action': 'VARCHAR', 'created': 'DOUBLE', 'run_id': 'VARCHAR'})
), paired AS (
  SELECT task_name, action, created, lag(action) OVER w AS prev_action, lag(created) OVER w AS prev_created
  FROM records WINDOW w AS (PARTITION BY task_name, run_id ORDER BY created)
), runs AS (
  SELECT task_name, action,
    CASE WHEN action <> 'run' AND prev_action = 'run' THEN created - prev_created END AS d
  FROM paired
)
SELECT task_name, count(*) FILTER (WHERE action = 'run') AS runs,
  count(d) FILTER (WHERE action = 'success') AS success, count(d) FILTER (WHERE action = 'fail') AS fail,
  min(d), quantile_cont(d, 0.5), quantile_cont(d, 0.95), max(d), avg(d)
FROM runs GROUP BY task_name ORDER BY task_name
'''
for row in duckdb.connect().execute(QUERY, [sys.argv[1]]).fetchall():
    print(*row, sep="\\t")
"""

TASKLOG = [sys.executable, "-m", "tasklog_cli"]


def peak(command: list[str]) -> tuple[float, float]:
    """Wall seconds and peak memory (MB) of one whole process."""
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    assert process.returncode in (0, 1), (command, process.returncode)
    return time.perf_counter() - started, usage.ru_maxrss / 1024


def runs_per_task(tsv: str) -> dict[str, int]:
    rows = [line.split("\t") for line in tsv.splitlines() if line]
    return {fields[0]: int(fields[1]) for fields in rows if fields[0] != "task_name"}


def cold(records: int, repeat: int) -> None:
    csv_path = data_file(records, ".csv")
    sqlite_path = csv_path.with_suffix(".db")
    loop = [sys.executable, str(HERE / "csv_pairing_loop.py"), str(csv_path)]
    duck = [sys.executable, "-c", DUCKDB_QUERY, str(csv_path)]
    loop_time, loop_out = best_time(loop, repeat)
    duck_time, duck_out = best_time(duck, repeat)
    for command in ("runtimes", "tasks"):
        ours, out = best_time([*TASKLOG, command, "-r", str(csv_path), "-o", "tsv"], repeat)
        if command == "runtimes":
            assert runs_per_task(out) == runs_per_task(loop_out) == runs_per_task(duck_out)
        print(f"CSV {records:,} {command}: {ours:.2f} s | csv.reader loop {loop_time:.2f} s: "
              f"{ours / loop_time:.2f}x (goal <= 1.5x) | DuckDB {duck_time:.2f} s: {ours / duck_time:.2f}x "
              "(goal <= 3x)")  # fmt: skip
    window, _ = best_time([sys.executable, "-c", WINDOW_QUERY, str(sqlite_path)], repeat)
    for command in ("runtimes", "tasks"):
        ours, _ = best_time([*TASKLOG, command, "-r", str(sqlite_path), "-o", "tsv"], repeat)
        print(f"SQLite {records:,} {command}: {ours:.2f} s | raw sqlite3 window query {window:.2f} s: "
              f"{ours / window:.2f}x (goal <= 1.2x)")  # fmt: skip


def memory(records: int, folder: Path) -> None:
    for suffix in (".csv", ".db"):
        store = folder / f"records_{records}{suffix}"
        if not store.exists():
            print(f"{store} is missing: python benchmarks/generate.py {records} --out {folder}")
            continue
        for command in (
            ["runtimes"], ["tasks"], ["check", "--max-failures", "3"], ["timeline", "task_07", "-n", "20"],
            ["runs", "-n", "50"], ["runs", "-o", "jsonl"],
        ):  # fmt: skip
            took, megabytes = peak([*TASKLOG, *command, "-r", str(store)])
            print(f"{suffix[1:]:6} {records:,} {' '.join(command):28} {took:7.1f} s {megabytes:7.0f} MB "
                  "(goal < 250 MB)")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--large", type=int, default=10_000_000)
    parser.add_argument("--large-folder", type=Path, default=HERE / "data")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    cold(args.records, args.repeat)
    memory(args.large, args.large_folder)
    help_time, _ = best_time([*TASKLOG, "--help"], 5)
    bare, _ = best_time([sys.executable, "-c", "pass"], 5)
    print(f"start-up: --help {help_time * 1000:.0f} ms, python -c pass {bare * 1000:.0f} ms: "
          f"+{(help_time - bare) * 1000:.0f} ms (goal <= +200 ms)")  # fmt: skip


if __name__ == "__main__":
    main()
