"""The index file (stdlib sqlite3): what was read of the store, each task's state, its settled runs."""

import json
import sqlite3
from array import array
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from tasklog_cli.index.history import Settled, TaskState
from tasklog_cli.index.location import private_file
from tasklog_cli.models import OUTCOMES, Record
from tasklog_cli.runs import Run

BUSY_SECONDS = 2.0  # how long to wait for another tasklog that is updating the same index

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS tasks (
    name TEXT PRIMARY KEY, cut REAL NOT NULL, records INTEGER NOT NULL, settled TEXT NOT NULL,
    pending BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS durations (task TEXT PRIMARY KEY, sorted BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
    task TEXT NOT NULL, seq INTEGER NOT NULL, run_id TEXT, start REAL, end REAL, outcome TEXT NOT NULL,
    attempt INTEGER NOT NULL, moment REAL NOT NULL, PRIMARY KEY (task, seq)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS runs_by_moment ON runs (moment);
CREATE TABLE IF NOT EXISTS samples (offset INTEGER PRIMARY KEY, latest REAL NOT NULL);
CREATE TABLE IF NOT EXISTS tail (
    task TEXT NOT NULL, seq INTEGER NOT NULL, created REAL NOT NULL, action TEXT NOT NULL, run_id TEXT,
    PRIMARY KEY (task, seq)
) WITHOUT ROWID;
"""
RUN_COLUMNS = "run_id, start, end, outcome, attempt, moment"


def run_row(run: Run) -> list[Any]:
    """A run as the index stores it."""
    return [run.run_id, run.start, run.end, run.outcome, run.attempt, run.moment]


def stored_run(task: str, row: Sequence[Any]) -> Run:
    """A stored run, with a record to tell when it happened only where start and end do not."""
    run_id, start, end, outcome, attempt, moment = row
    records = (Record(moment, task, outcome, run_id),) if start is None and end is None else ()
    return Run(task, run_id, start, end, outcome, attempt, records)


def _encode_run(run: Run | None) -> list[Any] | None:
    return None if run is None else run_row(run)


def _decode_run(task: str, row: list[Any] | None) -> Run | None:
    return None if row is None else stored_run(task, row)


class Cache:
    """One store's index file; every change happens in one transaction, so a reader sees all or nothing."""

    def __init__(self, path: Path) -> None:
        private_file(path)
        self.path = path
        # `tasklog ui` reads from worker threads; SQLite serializes the use of one connection.
        self.connection = sqlite3.connect(
            path, timeout=BUSY_SECONDS, isolation_level=None, check_same_thread=False
        )
        self.connection.executescript(_SCHEMA)

    def close(self) -> None:
        """Close the file (a transaction left open is rolled back)."""
        self.connection.close()

    def begin(self, *, write: bool) -> None:
        """Start a transaction: a snapshot to read from, or the one writer's."""
        self.connection.execute("BEGIN IMMEDIATE" if write else "BEGIN")

    def commit(self) -> None:
        """End the transaction, keeping its changes."""
        self.connection.execute("COMMIT")

    def rollback(self) -> None:
        """End the transaction, if one is open, dropping its changes."""
        if self.connection.in_transaction:
            self.connection.execute("ROLLBACK")

    def meta(self) -> dict[str, Any]:
        """What was read of the store: its mark, record counts and span, malformed rows."""
        rows = self.connection.execute("SELECT name, value FROM meta")
        return {name: json.loads(value) for name, value in rows}

    def set_meta(self, values: dict[str, Any]) -> None:
        """Replace what `meta` returns."""
        self.connection.execute("DELETE FROM meta")
        self.connection.executemany(
            "INSERT INTO meta VALUES (?, ?)", [(name, json.dumps(value)) for name, value in values.items()]
        )

    def clear(self) -> None:
        """Forget everything (the store was rewritten)."""
        for table in ("meta", "tasks", "durations", "runs", "tail", "samples"):
            self.connection.execute(f"DELETE FROM {table}")

    def add_samples(self, samples: Iterable[tuple[int, float]]) -> None:
        """Note, at record boundaries of a file, the latest `created` of every record before them."""
        self.connection.executemany("INSERT OR REPLACE INTO samples VALUES (?, ?)", samples)

    def window_start(self, since: float) -> int | None:
        """The last noted offset before which every record is older than `since`."""
        row = self.connection.execute(
            "SELECT offset FROM samples WHERE latest < ? ORDER BY offset DESC LIMIT 1", (since,)
        ).fetchone()
        return None if row is None else int(row[0])

    def task_names(self) -> list[str]:
        """Every task the index knows, by name."""
        return [name for (name,) in self.connection.execute("SELECT name FROM tasks ORDER BY name")]

    def record_counts(self) -> dict[str, int]:
        """How many records each task has, by name."""
        return dict(self.connection.execute("SELECT name, records FROM tasks ORDER BY name"))

    def load(self, name: str, *, durations: bool = True) -> TaskState:
        """A task's state (a new one when the index does not know it)."""
        row = self.connection.execute(
            "SELECT cut, records, settled, pending FROM tasks WHERE name = ?", (name,)
        ).fetchone()
        if row is None:
            return TaskState(name)
        cut, records, encoded, pending = row
        facts = json.loads(encoded)
        settled = Settled(
            runs=facts["runs"],
            outcomes=Counter({outcome: facts["outcomes"].get(outcome, 0) for outcome in OUTCOMES}),
            durations=self._durations(name) if durations else None,
            sorted_count=facts["sorted_count"],
            pending=array("d", pending),
            total=facts["total"],
            streak_outcome=facts["streak"][0],
            streak_count=facts["streak"][1],
            failures=facts["failures"],
            last_success=facts["last_success"],
            last_run=_decode_run(name, facts["last_run"]),
            peak_run=_decode_run(name, facts["peak_run"]),
            last_timed=_decode_run(name, facts["last_timed"]),
            last_timed_index=facts["last_timed_index"],
        )
        tail = [
            Record(created, name, action, run_id)
            for created, action, run_id in self.connection.execute(
                "SELECT created, action, run_id FROM tail WHERE task = ? ORDER BY seq", (name,)
            )
        ]
        return TaskState(name, cut=cut, records=records, settled=settled, tail=tail)

    def _durations(self, name: str) -> array:  # type: ignore[type-arg]
        """A task's sorted durations as last folded."""
        row = self.connection.execute("SELECT sorted FROM durations WHERE task = ?", (name,)).fetchone()
        return array("d", b"" if row is None else row[0])

    def flush_runs(self, state: TaskState) -> None:
        """Store the runs settled since the state was loaded (or last flushed)."""
        first = state.settled.runs - len(state.new_runs)
        self.connection.executemany(
            f"INSERT INTO runs (task, seq, {RUN_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            ([state.name, first + offset, *run_row(run)] for offset, run in enumerate(state.new_runs)),
        )
        state.new_runs.clear()

    def save(self, state: TaskState) -> None:
        """Store a task's state: its settled facts and runs, its cut and the records from the cut on."""
        self.flush_runs(state)
        settled = state.settled
        if settled.fold_due:
            stored = settled.durations if settled.durations is not None else self._durations(state.name)
            self.connection.execute(
                "INSERT OR REPLACE INTO durations VALUES (?, ?)", (state.name, settled.fold(stored).tobytes())
            )
        facts = {
            "runs": settled.runs,
            "sorted_count": settled.sorted_count,
            "total": settled.total,
            "outcomes": {outcome: count for outcome, count in settled.outcomes.items() if count},
            "streak": [settled.streak_outcome, settled.streak_count],
            "failures": settled.failures,
            "last_success": settled.last_success,
            "last_run": _encode_run(settled.last_run),
            "peak_run": _encode_run(settled.peak_run),
            "last_timed": _encode_run(settled.last_timed),
            "last_timed_index": settled.last_timed_index,
        }
        self.connection.execute(
            "INSERT OR REPLACE INTO tasks VALUES (?, ?, ?, ?, ?)",
            (state.name, state.cut, state.records, json.dumps(facts), settled.pending.tobytes()),
        )
        self.connection.execute("DELETE FROM tail WHERE task = ?", (state.name,))
        self.connection.executemany(
            "INSERT INTO tail VALUES (?, ?, ?, ?, ?)",
            (
                (state.name, seq, item.created, item.action, item.run_id)
                for seq, item in enumerate(state.tail)
            ),
        )

    def forget(self, name: str) -> None:
        """Drop a task's state and runs (to rebuild it)."""
        for table, column in (("tasks", "name"), ("durations", "task"), ("runs", "task"), ("tail", "task")):
            self.connection.execute(f"DELETE FROM {table} WHERE {column} = ?", (name,))

    def runs(
        self, name: str, since: float | None, until: float | None, run_ids: Iterable[str] = ()
    ) -> Iterator[Run]:
        """A task's settled runs in order, those in a window of moments (and with given run ids)."""
        conditions, values = _conditions(since, until, run_ids)
        rows = self.connection.execute(
            f"SELECT {RUN_COLUMNS} FROM runs WHERE task = ?{conditions} ORDER BY seq",
            (name, *values),
        )
        return (stored_run(name, row) for row in rows)

    def latest_runs(
        self,
        names: Sequence[str] | None,
        since: float | None,
        until: float | None,
        run_ids: Iterable[str],
        outcomes: Iterable[str],
        count: int,
    ) -> list[tuple[float, str, int, Run]]:
        """The last `count` settled runs of the tasks (None: all) by moment, task and order, as sort keys
        and runs."""
        conditions, values = _conditions(since, until, run_ids)
        wanted = list(outcomes)
        if wanted:
            conditions += f" AND outcome IN ({', '.join('?' * len(wanted))})"
            values.extend(wanted)
        if names is not None:
            conditions += f" AND task IN ({', '.join('?' * len(names))})"
            values.extend(names)
        rows = self.connection.execute(
            f"SELECT task, seq, {RUN_COLUMNS} FROM runs WHERE 1{conditions}"
            " ORDER BY moment DESC, task DESC, seq DESC LIMIT ?",
            (*values, count),
        )
        return [(row[7], row[0], row[1], stored_run(row[0], row[2:])) for row in rows]

    def recent_runs(self, name: str, count: int) -> list[Run]:
        """A task's last `count` settled runs, in order."""
        rows = self.connection.execute(
            f"SELECT {RUN_COLUMNS} FROM runs WHERE task = ? ORDER BY seq DESC LIMIT ?",
            (name, count),
        ).fetchall()
        return [stored_run(name, row) for row in reversed(rows)]


def _conditions(since: float | None, until: float | None, run_ids: Iterable[str]) -> tuple[str, list[Any]]:
    conditions, values = "", list[Any]()
    if since is not None:
        conditions += " AND moment >= ?"
        values.append(since)
    if until is not None:
        conditions += " AND moment < ?"
        values.append(until)
    wanted = list(run_ids)
    if wanted:
        conditions += f" AND run_id IN ({', '.join('?' * len(wanted))})"
        values.extend(wanted)
    return conditions, values
