"""Regenerate a store of tests/data/taskflow/ with the real fastapi-taskflow library.

* ``taskflow.db`` (fastapi-taskflow 0.12.1): the app of ``tests/taskflow_app.py`` (its TaskManager on a
  ``SqliteBackend``, driven over HTTP in-process) with one-second retry delays, so log lines of different
  attempts carry different seconds.
* ``requeued.db`` (0.12.1): ``write_requeued`` of the same module: a task interrupted in its second attempt
  by a shutdown and run again from scratch by the restarted app.
* ``taskflow-0.10.db`` (0.10.0, the last version that stamps log lines without a ``Z``): the same app as
  ``taskflow.db``; ``scripts/make_taskflow_010_fixture.py`` builds the throw-away venv that runs this.

Each store is then checkpointed (the library leaves the file in WAL mode: it stays so, as one
self-contained file), checked against the facts ``tests/data/taskflow/README.md`` states, and the values
that change on every run (ids, times, durations) are printed for the README.

Usage: ``python scripts/make_taskflow_fixture.py NAME`` inside a venv with the fastapi-taskflow version
the store needs (the project venv with the ``test`` extra pins 0.12.1).
"""

import gc
import json
import sqlite3
import sys
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
FOLDER = REPO_ROOT / "tests" / "data" / "taskflow"
RETRY_DELAY = 1.0
# (task, status, retries_used, `--- Retry N ---` separators in logs_json) -> tasks: the README's tables.
HISTORY = Counter({
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
REQUEUED = Counter({("reindex_catalog", "success", 1, 0): 1})


@dataclass(frozen=True)
class Fixture:
    """A committed store: the library version that writes it, what writes it, and what it must hold."""

    version: str
    write: Callable[[Path], None]
    tasks: Counter[tuple[object, ...]]
    stamp_suffix: str  # what ends a log line's time stamp: `Z` since 0.11


def write_history(path: Path) -> None:
    from fastapi_taskflow import SqliteBackend
    from taskflow_app import write_history

    write_history(SqliteBackend(str(path)), retry_delay=RETRY_DELAY)


def write_requeued(path: Path) -> None:
    from fastapi_taskflow import SqliteBackend
    from taskflow_app import write_requeued

    write_requeued(lambda: SqliteBackend(str(path)), retry_delay=RETRY_DELAY)


FIXTURES = {
    "taskflow.db": Fixture("0.12.1", write_history, HISTORY, "Z"),
    "requeued.db": Fixture("0.12.1", write_requeued, REQUEUED, "Z"),
    "taskflow-0.10.db": Fixture("0.10.0", write_history, HISTORY, ""),
}


def write_store(path: Path, fixture: Fixture) -> None:
    """Write the scenario into a fresh file with the real library, then fold the WAL into the file."""
    sys.path.insert(0, str(REPO_ROOT / "tests"))
    for side in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        side.unlink(missing_ok=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    fixture.write(path)
    gc.collect()  # the library leaves a connection of its set-up to the collector: close it now
    connection = sqlite3.connect(path)
    connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    connection.close()  # the last connection: SQLite removes the -wal and -shm files


def snapshots(path: Path) -> list[dict[str, object]]:
    """Every stored task, in the order they were enqueued (read so that no side file is left)."""
    connection = sqlite3.connect(path)
    connection.row_factory = sqlite3.Row
    rows = [dict(row) for row in connection.execute("SELECT * FROM task_snapshots ORDER BY created_at")]
    connection.close()
    return rows


def separators(logs_json: str) -> int:
    """How many `--- Retry N ---` entries a task's logs hold."""
    return sum(line.startswith("--- Retry ") for line in json.loads(logs_json))


def check(path: Path, fixture: Fixture, rows: list[dict[str, object]]) -> list[str]:
    """The README's stable facts that this store breaks (empty: all hold)."""
    problems = []
    found = Counter(
        (row["func_name"], row["status"], row["retries_used"], separators(str(row["logs_json"])))
        for row in rows
    )
    if found != fixture.tasks:
        problems.append(f"tasks {sorted(found.items())} != {sorted(fixture.tasks.items())}")
    stamps = {
        line.split(" ", 1)[0][19:]
        for row in rows
        for line in json.loads(str(row["logs_json"]))
        if not line.startswith("--- Retry ")
    }
    if stamps != {fixture.stamp_suffix}:
        problems.append(f"log line stamps end in {stamps}, not {fixture.stamp_suffix!r} alone")
    if path.read_bytes()[18:20] != b"\x02\x02":
        problems.append("the database is not in WAL mode as the library leaves it")
    return problems


def main(arguments: list[str]) -> int:
    if len(arguments) != 1 or arguments[0] not in FIXTURES:
        print(f"usage: make_taskflow_fixture.py {'|'.join(FIXTURES)}", file=sys.stderr)
        return 2
    name, fixture = arguments[0], FIXTURES[arguments[0]]
    if version("fastapi-taskflow") != fixture.version:
        installed = version("fastapi-taskflow")
        print(f"fastapi-taskflow {installed} installed, {fixture.version} needed", file=sys.stderr)
        return 1
    path = FOLDER / name
    write_store(path, fixture)
    side_files = [side for side in ("-wal", "-shm") if path.with_name(path.name + side).exists()]
    rows = snapshots(path)
    problems = [f"{name}{side} left next to it" for side in side_files] + check(path, fixture, rows)
    for problem in problems:
        print(f"FAILED: {problem}", file=sys.stderr)
    for row in rows:
        print(
            row["func_name"], row["status"], row["retries_used"], row["duration"], row["start_time"], sep="\t"
        )
    print(f"{path.relative_to(REPO_ROOT)}: {path.stat().st_size} bytes", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
