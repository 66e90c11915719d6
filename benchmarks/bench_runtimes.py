"""Issue #3 figures in one run: `tasklog runtimes` on 1,000,000 records against the same per-task figures
by hand: a raw sqlite3 window-function query on SQLite, and a plain csv.reader pairing loop on CSV."""

import argparse
import sys

from timing import best_time, data_file

WINDOW_QUERY = """
import sqlite3, sys
QUERY = '''
WITH ordered AS (
  SELECT task_name, action, created,
         LAG(action) OVER w AS prev_action, LAG(created) OVER w AS prev_created
  FROM tasks WINDOW w AS (PARTITION BY task_name, run_id ORDER BY created)
)
SELECT task_name,
  SUM(action = 'run') AS runs,
  SUM(action = 'success' AND prev_action = 'run') AS success,
  SUM(action = 'fail' AND prev_action = 'run') AS fail,
  SUM(action = 'terminate' AND prev_action = 'run') AS terminate,
  SUM(action = 'inaction' AND prev_action = 'run') AS inaction,
  MIN(CASE WHEN action != 'run' AND prev_action = 'run' THEN created - prev_created END) AS min,
  MAX(CASE WHEN action != 'run' AND prev_action = 'run' THEN created - prev_created END) AS max,
  AVG(CASE WHEN action != 'run' AND prev_action = 'run' THEN created - prev_created END) AS mean
FROM ordered GROUP BY task_name ORDER BY task_name
'''
for row in sqlite3.connect(sys.argv[1]).execute(QUERY):
    print(*row, sep="\\t")
"""

CSV_PAIRING_LOOP = """
import csv, statistics, sys
from collections import defaultdict
open_runs, durations, counts = {}, defaultdict(list), defaultdict(lambda: defaultdict(int))
with open(sys.argv[1], newline="", encoding="utf-8") as file:
    rows = csv.reader(file)
    header = next(rows)
    task_at, action_at, created_at, run_at = (
        header.index(name) for name in ("task_name", "action", "created", "run_id"))
    ordered = sorted(rows, key=lambda row: (row[task_at], float(row[created_at])))
for row in ordered:
    task, action, created, run_id = row[task_at], row[action_at], float(row[created_at]), row[run_at]
    if action == "run":
        open_runs[(task, run_id)] = created
        counts[task]["runs"] += 1
    elif (task, run_id) in open_runs:
        durations[task].append(created - open_runs.pop((task, run_id)))
        counts[task][action] += 1
for task in sorted(counts):
    values = sorted(durations[task])
    print(task, counts[task]["runs"], counts[task]["success"], counts[task]["fail"], values[0],
          statistics.median(values), values[-1], sep="\\t")
"""


def per_task_runs(tsv: str, column: int) -> dict[str, int]:
    """task -> run count from a TSV whose first column is the task and `column` the run count."""
    lines = [line.split("\t") for line in tsv.splitlines() if line]
    return {fields[0]: int(fields[column]) for fields in lines if fields[0] != "task_name"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    stem = data_file(args.records, ".csv").with_suffix("")
    tasklog = [sys.executable, "-m", "tasklog_cli", "runtimes", "-o", "tsv", "-r"]
    print(f"records: {args.records:,} (synthetic Rocketry MinimalRunRecord rows, 22 tasks)")
    for label, store, baseline_name, baseline in (
        ("SQLite", stem.with_suffix(".db"), "sqlite3 window-function query", WINDOW_QUERY),
        ("CSV", stem.with_suffix(".csv"), "csv.reader pairing loop", CSV_PAIRING_LOOP),
    ):
        ours, our_out = best_time([*tasklog, str(store)], args.repeat)
        theirs, their_out = best_time([sys.executable, "-c", baseline, str(store)], args.repeat)
        assert per_task_runs(our_out, 1) == per_task_runs(their_out, 1), "the two disagree on run counts"
        print(f"{label:6} tasklog runtimes {ours:.2f} s | {baseline_name} {theirs:.2f} s | "
              f"ratio {ours / theirs:.2f}x (goal <= 2x)")  # fmt: skip


if __name__ == "__main__":
    main()
