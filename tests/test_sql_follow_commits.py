"""`tail -f` on PostgreSQL and MariaDB, where a smaller serial key can commit after a larger one has been
printed (two writers, as Rocketry's handlers on a connection pool are): every row is printed once. And
SQLite's rowid mark when the highest rows are deleted."""

import json
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from test_services import SERVERS, reachable

from tasklog_cli.query import Query
from tasklog_cli.sources import OpenOptions, open_source
from tasklog_cli.sources.sql import SqlSource, SqlWatch
from tasklog_cli.sources.sql.watch import LATE_COMMIT_SECONDS, MAX_HOLES


class Clock:
    """A monotonic clock the test moves."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def key_ddl(dialect: str, name: str) -> str:
    key = "id INTEGER AUTO_INCREMENT PRIMARY KEY" if dialect == "mysql" else "id SERIAL PRIMARY KEY"
    text = "VARCHAR(255)" if dialect == "mysql" else "TEXT"
    return f"CREATE TABLE {name} ({key}, task_name {text}, action {text}, created DOUBLE PRECISION, run_id {text})"


@pytest.fixture(params=sorted(SERVERS))
def keyed_table(request: pytest.FixtureRequest) -> Iterator[tuple[sa.Engine, str, str]]:
    """(writer engine, table name, tasklog spec) for an empty table with a serial key on a real server."""
    dialect = request.param
    engine = reachable(SERVERS[dialect])
    name = f"tasklog_commits_{uuid.uuid4().hex[:8]}"
    with engine.begin() as connection:
        connection.execute(sa.text(key_ddl(dialect, name)))
    try:
        yield engine, name, f"{SERVERS[dialect]}#{name}"
    finally:
        with engine.begin() as connection:
            connection.execute(sa.text(f"DROP TABLE {name}"))
        engine.dispose()


def insert(connection: sa.Connection, name: str, run_id: str, created: float = 1.0) -> None:
    connection.execute(
        sa.text(f"INSERT INTO {name} (task_name, action, created, run_id) VALUES ('t', 'run', :c, :r)"),
        {"c": created, "r": run_id},
    )


def watch_on(spec: str, clock: Clock) -> tuple[SqlWatch, list[str]]:
    source = open_source(spec, OpenOptions())
    assert isinstance(source, SqlSource)
    notes: list[str] = []
    return SqlWatch(source, Query(), None, notes.append, clock=clock), notes


def run_ids(records: list[object]) -> list[str | None]:
    return [record.run_id for record in records]  # type: ignore[attr-defined]


@pytest.mark.services
def test_a_row_committed_after_a_larger_key_was_printed_is_printed_once(
    keyed_table: tuple[sa.Engine, str, str],
) -> None:
    engine, name, spec = keyed_table
    with engine.begin() as connection:
        insert(connection, name, "before")
    clock = Clock()
    watch, notes = watch_on(spec, clock)
    try:
        assert run_ids(watch.backlog(10)) == ["before"]
        printed: list[str | None] = []
        with engine.connect() as slow, engine.connect() as fast:
            slow.begin()
            insert(slow, name, "slow-1")  # holds the smaller key, uncommitted
            with fast.begin():
                insert(fast, name, "fast-1")
                insert(fast, name, "fast-2")
            printed += run_ids(watch.poll())
            assert printed == ["fast-1", "fast-2"]
            fast.begin()
            insert(fast, name, "fast-3")  # now the fast writer holds a key while the slow one commits
            slow.commit()
            clock.now += 1
            printed += run_ids(watch.poll())
            fast.commit()
            clock.now += 1
            printed += run_ids(watch.poll())
            for _ in range(3):
                clock.now += 1
                printed += run_ids(watch.poll())
        assert Counter(printed) == Counter(["fast-1", "fast-2", "slow-1", "fast-3"])
        assert not watch.holes
        assert notes == []
    finally:
        watch.source.close()  # type: ignore[attr-defined]


@pytest.mark.services
def test_keys_that_never_commit_are_forgotten(keyed_table: tuple[sa.Engine, str, str]) -> None:
    """A rolled-back insert leaves a key no row will hold: it is looked for a while, then forgotten; a
    sequence that jumps far ahead leaves at most MAX_HOLES keys to look for."""
    engine, name, spec = keyed_table
    clock = Clock()
    watch, _ = watch_on(spec, clock)
    try:
        with engine.connect() as connection:
            connection.begin()
            insert(connection, name, "rolled back")
            connection.rollback()
            with connection.begin():
                insert(connection, name, "kept")
        assert run_ids(watch.poll()) == ["kept"]
        assert len(watch.holes) == 1
        clock.now += LATE_COMMIT_SECONDS + 1
        assert watch.poll() == []
        assert watch.holes == {}
        with engine.begin() as connection:
            jump = 10 * MAX_HOLES
            if engine.dialect.name == "mysql":
                connection.execute(sa.text(f"ALTER TABLE {name} AUTO_INCREMENT = {jump}"))
            else:
                connection.execute(sa.text(f"ALTER SEQUENCE {name}_id_seq RESTART WITH {jump}"))
            insert(connection, name, "far ahead")
        assert run_ids(watch.poll()) == ["far ahead"]
        assert 0 < len(watch.holes) <= MAX_HOLES
    finally:
        watch.source.close()  # type: ignore[attr-defined]


def write_out_of_order(engine: sa.Engine, name: str, writer: str, count: int, seed: int) -> None:
    """One writer: each row in its own transaction, held open a random while before it commits."""
    chance = random.Random(seed)
    with engine.connect() as connection:
        for number in range(count):
            with connection.begin():
                insert(connection, name, f"{writer}-{number}", created=1000.0 + number)
                time.sleep(chance.uniform(0, 0.03))


@pytest.mark.services
def test_two_writers_committing_out_of_order_under_tail_f(keyed_table: tuple[sa.Engine, str, str]) -> None:
    """Two real writers on one table while a real `tasklog tail -f` follows it: every row, once."""
    engine, name, spec = keyed_table
    follower = subprocess.Popen(
        [sys.executable, "-m", "tasklog_cli", "tail", "-f", "--interval", "0.02", "-o", "jsonl",
         "--fields", "run_id", "-r", spec],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    count = 120
    try:
        time.sleep(2)  # the follower is up and has read its mark
        writers = [
            threading.Thread(target=write_out_of_order, args=(engine, name, writer, count, seed))
            for seed, writer in enumerate(("a", "b"))
        ]
        for thread in writers:
            thread.start()
        for thread in writers:
            thread.join()
        time.sleep(1.5)
    finally:
        follower.send_signal(signal.SIGINT)
        out, err = follower.communicate(timeout=20)
    with engine.connect() as connection:
        order = connection.execute(sa.text(f"SELECT run_id FROM {name} ORDER BY id")).scalars().all()
    printed = Counter(json.loads(line)["run_id"] for line in out.splitlines())
    assert follower.returncode == 0, err
    assert printed == Counter(order) and len(order) == 2 * count
    assert max(printed.values()) == 1
    assert err == ""


def test_sqlite_highest_rowid_going_down_is_noticed(tmp_path: Path) -> None:
    """Rows at the top deleted, then new rows reusing their rowids: the new rows are printed."""
    path = tmp_path / "log.db"
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("CREATE TABLE tasks (task_name TEXT, action TEXT, created REAL, run_id TEXT)")
    rows = [("t", "run", 1.0 + n, f"r{n}") for n in range(1, 6)]
    connection.executemany("INSERT INTO tasks VALUES (?, ?, ?, ?)", rows)
    clock = Clock()
    watch, notes = watch_on(str(path), clock)
    try:
        assert run_ids(watch.backlog(10)) == ["r1", "r2", "r3", "r4", "r5"]
        connection.execute("DELETE FROM tasks WHERE rowid > 3")
        assert watch.poll() == []
        assert len(notes) == 1 and "went down" in notes[0]
        connection.executemany(
            "INSERT INTO tasks VALUES (?, ?, ?, ?)", [("t", "run", 9.0, "new4"), ("t", "run", 9.5, "new5")]
        )
        assert run_ids(watch.poll()) == ["new4", "new5"]
        assert watch.poll() == []
    finally:
        watch.source.close()  # type: ignore[attr-defined]
        connection.close()
