"""Issue #6 and #14 figures in one run, on 1,000,000 rows in PostgreSQL (127.0.0.1, database `test`):
`tasklog runtimes` against the same per-task figures by hand-written SQL through psql, `runs -n 50` against
psql running the pairing query tasklog sends, a full `runs -o jsonl` in runs per second, and
`ls --task X --since` with the suggested index (the benchmark creates it; tasklog never does)."""

import argparse
import os
import subprocess
import sys
import time
from datetime import timedelta

from sqlalchemy.dialects import postgresql
from timing import best_time, data_file

from tasklog_cli.api import open_repo
from tasklog_cli.query import Query
from tasklog_cli.sources.sql.paired import RunSelect, paired_runs

DATABASE = ["-h", "127.0.0.1", "-U", "postgres", "-d", "test", "-v", "ON_ERROR_STOP=1", "-q"]
URL = "postgresql://postgres@127.0.0.1/test"

HAND_WRITTEN = """
WITH paired AS (
  SELECT task_name, action, created,
         lag(action) OVER w AS prev_action, lag(created) OVER w AS prev_created,
         lead(action) OVER w AS next_action
  FROM {table} WINDOW w AS (PARTITION BY task_name, run_id ORDER BY created, id)
), runs AS (
  SELECT task_name,
         CASE WHEN action = 'run' THEN 'running' ELSE action END AS outcome,
         CASE WHEN action = 'run' THEN created WHEN prev_action = 'run' THEN prev_created END AS start,
         CASE WHEN action <> 'run' AND prev_action = 'run' THEN created - prev_created END AS duration
  FROM paired
  WHERE action <> 'run' OR next_action IS NULL OR next_action = 'run'
)
SELECT task_name, count(*) AS runs,
  count(*) FILTER (WHERE outcome = 'success') AS success, count(*) FILTER (WHERE outcome = 'fail') AS fail,
  count(*) FILTER (WHERE outcome = 'terminate') AS terminate,
  count(*) FILTER (WHERE outcome = 'inaction') AS inaction,
  count(*) FILTER (WHERE outcome = 'running') AS running,
  min(duration), percentile_cont(0.5) WITHIN GROUP (ORDER BY duration) AS p50,
  percentile_cont(0.95) WITHIN GROUP (ORDER BY duration) AS p95, max(duration), avg(duration) AS mean,
  max(start) AS last_start, (array_agg(outcome ORDER BY start DESC NULLS LAST))[1] AS last_outcome
FROM runs GROUP BY task_name ORDER BY task_name;
"""


def psql(*args: str, stdin: str | None = None) -> str:
    return subprocess.run(
        ["psql", *DATABASE, *args], input=stdin, capture_output=True, text=True, check=True
    ).stdout


def load(table: str, records: int) -> None:
    """The synthetic log in a PostgreSQL table as a user declares one (bigserial key, double created)."""
    csv_path = data_file(records, ".csv")
    if psql("-tAc", f"SELECT to_regclass('{table}') IS NOT NULL").strip() == "t":
        return
    psql("-c", f"CREATE TABLE {table} (id bigserial PRIMARY KEY, task_name text, action text, "
               "created double precision, run_id text)")  # fmt: skip
    psql("-c", f"\\copy {table} (task_name, action, created, run_id) FROM '{csv_path}' CSV HEADER")


def pairing_query(table: str, last: int | None) -> str:
    """The statement tasklog sends for `runs` (`-n last`), as psql would run it."""
    with open_repo(f"{URL}#{table}", index=False) as repo:
        shape = repo.source.shape  # type: ignore[attr-defined]
        statement = paired_runs(
            shape, RunSelect(Query(), (), (), last, False), timedelta(minutes=10).total_seconds()
        )
    compiled = statement.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True})
    return f"{compiled};"


def runs(table: str, repeat: int) -> None:
    tasklog = [sys.executable, "-m", "tasklog_cli", "runs", "-r", f"{URL}#{table}"]
    ours, out = best_time([*tasklog, "-n", "50", "-o", "tsv"], repeat)
    theirs, their_out = best_time(["psql", *DATABASE, "-At"], repeat, pairing_query(table, 50))
    assert len(out.splitlines()) - 1 == len(their_out.splitlines()) == 50
    print(f"runs -n 50: tasklog {ours:.2f} s | its pairing query through psql {theirs:.2f} s | "
          f"ratio {ours / theirs:.2f}x (goal <= 2x)")  # fmt: skip
    best, count, peak = float("inf"), 0, 0.0
    for _ in range(repeat):
        started = time.perf_counter()
        process = subprocess.Popen([*tasklog, "-o", "jsonl"], stdout=subprocess.PIPE)
        assert process.stdout is not None
        count = sum(1 for _ in process.stdout)
        _, status, usage = os.wait4(process.pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0
        best, peak = min(best, time.perf_counter() - started), max(peak, usage.ru_maxrss / 1024)
    whole, _ = best_time(["psql", *DATABASE, "-At", "-o", "/dev/null"], repeat, pairing_query(table, None))
    print(f"runs -o jsonl: {count:,} runs in {best:.2f} s = {count / best:,.0f} runs/s (goal >= 200,000), "
          f"peak {peak:.0f} MB | the pairing query through psql {whole:.2f} s")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    table = f"bench_tasks_{args.records}"
    load(table, args.records)
    tasklog = [sys.executable, "-m", "tasklog_cli"]
    ours, our_out = best_time([*tasklog, "runtimes", "-r", f"{URL}#{table}", "-o", "tsv"], args.repeat)
    theirs, their_out = best_time(["psql", *DATABASE, "-At"], args.repeat, HAND_WRITTEN.format(table=table))
    assert len(our_out.splitlines()) - 1 == len(their_out.splitlines()), "the two disagree on tasks"
    print(f"records: {args.records:,} in PostgreSQL table {table}")
    print(f"runtimes: tasklog {ours:.2f} s | hand-written SQL through psql {theirs:.2f} s | "
          f"ratio {ours / theirs:.2f}x (goal <= 1.5x)")  # fmt: skip

    runs(table, args.repeat)

    last = float(psql("-tAc", f"SELECT max(created) FROM {table}"))
    ls = [*tasklog, "ls", "-r", f"{URL}#{table}", "--task", "task_07", "--since", f"@{last - 3600}"]
    psql("-c", f"DROP INDEX IF EXISTS ix_{table}_task_name_created")
    without, _ = best_time(ls, args.repeat)
    psql("-c", f"CREATE INDEX ix_{table}_task_name_created ON {table} (task_name, created)")
    try:
        with_index, out = best_time(ls, args.repeat)
    finally:
        psql("-c", f"DROP INDEX IF EXISTS ix_{table}_task_name_created")
    print(f"ls --task task_07 --since <1h before the last record> ({len(out.splitlines())} records): "
          f"{with_index:.2f} s with the suggested index (goal < 0.5 s, start-up included), "
          f"{without:.2f} s without")  # fmt: skip


if __name__ == "__main__":
    main()
