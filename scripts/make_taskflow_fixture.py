"""Regenerate tests/data/taskflow/taskflow.db: a store written by the real fastapi-taskflow 0.12.1.

Runs the app of ``tests/taskflow_app.py`` (its TaskManager on a ``SqliteBackend``, driven over HTTP
in-process) with one-second retry delays, so log lines of different attempts carry different seconds.
Then it checkpoints the WAL into the database file (the library leaves the file in WAL mode: it stays
so, as one self-contained file), checks the facts that ``tests/data/taskflow/README.md`` states and
prints the ones that change on every run (ids, times, durations) for the README.

Usage: ``python scripts/make_taskflow_fixture.py`` inside the project venv with the ``test`` extra
(``pip install -e '.[test]'``, which pins fastapi-taskflow==0.12.1).
"""

import gc
import json
import sqlite3
import sys
from collections import Counter
from importlib.metadata import version
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
OUT = REPO_ROOT / "tests" / "data" / "taskflow" / "taskflow.db"
PINNED = "0.12.1"
RETRY_DELAY = 1.0
# (task, status, retries_used, `--- Retry N ---` separators in logs_json) -> tasks: the README's table.
TASKS = Counter({
    ("send_welcome", "success", 0, 0): 2,
    ("send_welcome", "success", 1, 1): 1,
    ("sync_invoices", "success", 2, 2): 1,
    ("send_report", "failed", 2, 2): 1,
    ("ping_partner", "failed", 2, 2): 1,
    ("export_csv", "cancelled", 0, 0): 1,
    ("rebuild_index", "interrupted", 1, 1): 1,
    ("make_thumbnail", "success", 0, 0): 1,
    ("make_thumbnail", "rejected", 0, 0): 1,
})  # fmt: skip


def write_store() -> None:
    """Write the scenario into a fresh OUT with the real library, then fold the WAL into the file."""
    sys.path.insert(0, str(REPO_ROOT / "tests"))
    from fastapi_taskflow import SqliteBackend
    from taskflow_app import write_history

    for path in (OUT, OUT.with_name(OUT.name + "-wal"), OUT.with_name(OUT.name + "-shm")):
        path.unlink(missing_ok=True)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    write_history(SqliteBackend(str(OUT)), retry_delay=RETRY_DELAY)
    gc.collect()  # the library leaves a connection of its set-up to the collector: close it now
    connection = sqlite3.connect(OUT)
    connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    connection.close()  # the last connection: SQLite removes the -wal and -shm files


def snapshots() -> list[dict[str, object]]:
    """Every stored task, in the order they were enqueued (read so that no side file is left)."""
    connection = sqlite3.connect(OUT)
    connection.row_factory = sqlite3.Row
    rows = [dict(row) for row in connection.execute("SELECT * FROM task_snapshots ORDER BY created_at")]
    connection.close()
    return rows


def separators(logs_json: str) -> int:
    """How many `--- Retry N ---` entries a task's logs hold."""
    return sum(line.startswith("--- Retry ") for line in json.loads(logs_json))


def check(rows: list[dict[str, object]]) -> list[str]:
    """The README's stable facts that this store breaks (empty: all hold)."""
    problems = []
    found = Counter(
        (row["func_name"], row["status"], row["retries_used"], separators(str(row["logs_json"])))
        for row in rows
    )
    if found != TASKS:
        problems.append(f"tasks {sorted(found.items())} != {sorted(TASKS.items())}")
    if OUT.read_bytes()[18:20] != b"\x02\x02":
        problems.append("the database is not in WAL mode as the library leaves it")
    return problems


def main() -> int:
    if version("fastapi-taskflow") != PINNED:
        print(f"fastapi-taskflow {version('fastapi-taskflow')} installed, {PINNED} needed", file=sys.stderr)
        return 1
    write_store()
    side_files = [side for side in ("-wal", "-shm") if OUT.with_name(OUT.name + side).exists()]
    rows = snapshots()
    problems = [f"{OUT.name}{side} left next to it" for side in side_files] + check(rows)
    for problem in problems:
        print(f"FAILED: {problem}", file=sys.stderr)
    for row in rows:
        print(
            row["func_name"], row["status"], row["retries_used"], row["duration"], row["start_time"], sep="\t"
        )
    print(f"{OUT.relative_to(REPO_ROOT)}: {OUT.stat().st_size} bytes", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
