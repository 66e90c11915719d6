"""Real PostgreSQL and MariaDB servers: the same Rocketry log must read the same as from SQLite."""

import csv
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from conftest import ROCKETRY, assert_one_error_line, run_cli

from tasklog_cli.sources.redbird import load_redbird

SERVERS = {
    "postgresql": "postgresql+psycopg://postgres@127.0.0.1:5432/test",
    "mysql": "mysql+pymysql://root@127.0.0.1:3306/test",
}


def _timedelta(text: str) -> timedelta:
    hours, minutes, seconds = text.split(":")
    return timedelta(hours=int(hours), minutes=int(minutes), seconds=float(seconds))


def rocketry_rows() -> list[dict[str, Any]]:
    """task_run.csv typed the way Red Bird's TaskRunRecord would hand it to SQLRepo."""
    with (ROCKETRY / "task_run.csv").open(newline="", encoding="utf-8") as file:
        rows = list(csv.DictReader(file))
    typed = []
    for row in rows:
        value: dict[str, Any] = {key: (text or None) for key, text in row.items()}
        value["created"] = float(row["created"])
        for name in ("start", "end"):
            value[name] = datetime.fromisoformat(row[name]) if row[name] else None
        value["runtime"] = _timedelta(row["runtime"]) if row["runtime"] else None
        typed.append(value)
    return typed


def declared_table(dialect: str, name: str, *, created_as_time: bool = False) -> sa.Table:
    """A table as a user declares one: autoincrement id, VARCHAR(255)/TEXT, DATETIME(6) on MySQL."""
    text = sa.String(255) if dialect == "mysql" else sa.Text()
    moment = sa.dialects.mysql.DATETIME(fsp=6) if dialect == "mysql" else sa.DateTime()
    return sa.Table(
        name,
        sa.MetaData(),
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("task_name", text),
        sa.Column("action", text),
        sa.Column("created", moment if created_as_time else sa.Double()),
        sa.Column("start", moment),
        sa.Column("end", moment),
        sa.Column("runtime", sa.Interval() if dialect == "postgresql" else sa.Text()),
        sa.Column("message", sa.Text()),
        sa.Column("exc_text", sa.Text()),
        sa.Column("run_id", text),
    )


def task_run_record() -> Any:
    """rocketry.log.TaskRunRecord, field for field (Red Bird 0.7.1 models are pydantic v1 models)."""
    load_redbird()
    import pydantic.v1 as pydantic

    class TaskRunRecord(pydantic.BaseModel):
        task_name: str
        action: str
        created: float
        start: datetime | None
        end: datetime | None
        runtime: timedelta | None
        message: str
        exc_text: str | None
        run_id: str | None

    return TaskRunRecord


def load_with_redbird(engine: sa.Engine, name: str, *, id_field: str = "created") -> None:
    """Rocketry's TaskRunRecords written by Red Bird's SQLRepo: into the table SQLRepo(if_missing="create")
    makes (with SQLAlchemy 2: `created FLOAT PRIMARY KEY`), or into a declared one."""
    model = task_run_record()
    repo = load_redbird().repos.SQLRepo(
        engine=engine, table=name, if_missing="create", model=model, id_field=id_field
    )
    for row in rocketry_rows():
        repo.add(model(**row))


# What README recommends: declare the table, with a key of its own (PostgreSQL, MySQL/MariaDB).
DECLARED_FOR_REDBIRD = {
    "postgresql": "CREATE TABLE {name} (id SERIAL PRIMARY KEY, task_name TEXT NOT NULL, action TEXT NOT NULL, "
    'created DOUBLE PRECISION NOT NULL, start TIMESTAMP, "end" TIMESTAMP, runtime INTERVAL, '
    "message TEXT, exc_text TEXT, run_id TEXT)",
    "mysql": "CREATE TABLE {name} (id INTEGER AUTO_INCREMENT PRIMARY KEY, task_name VARCHAR(255) NOT NULL, "
    "action VARCHAR(255) NOT NULL, created DOUBLE NOT NULL, start DATETIME(6), `end` DATETIME(6), "
    "runtime TEXT, message TEXT, exc_text TEXT, run_id VARCHAR(255))",
}


VARIANTS = {
    "postgresql-redbird": ("postgresql", "redbird"),
    "postgresql-redbird-declared": ("postgresql", "redbird_declared"),
    "postgresql-declared": ("postgresql", "declared"),
    "mysql-declared": ("mysql", "declared"),
    "mysql-redbird-declared": ("mysql", "redbird_declared"),
    "mysql-created-datetime": ("mysql", "created_as_time"),
}


def reachable(url: str) -> sa.Engine:
    """An engine on a running server, else a skip (a failure when TASKLOG_REQUIRE_SERVICES=1)."""
    engine = sa.create_engine(url, connect_args={"connect_timeout": 3})
    try:
        engine.connect().close()
    except sa.exc.OperationalError as exc:
        engine.dispose()
        reason = f"server at {url} unreachable: {str(exc.orig).splitlines()[0]}"
        if os.environ.get("TASKLOG_REQUIRE_SERVICES") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    return engine


@pytest.fixture(params=sorted(VARIANTS))
def server_table(request: pytest.FixtureRequest) -> Iterator[tuple[str, str]]:
    """A fresh table on a real server loaded with the Rocketry fixture; (URL, table name)."""
    dialect, shape = VARIANTS[request.param]
    url = SERVERS[dialect]
    engine = reachable(url)
    name = f"tasklog_test_{uuid.uuid4().hex[:8]}"
    if shape == "redbird":
        load_with_redbird(engine, name)
    elif shape == "redbird_declared":
        with engine.begin() as connection:
            connection.execute(sa.text(DECLARED_FOR_REDBIRD[dialect].format(name=name)))
        load_with_redbird(engine, name, id_field="id")
    else:
        table = declared_table(dialect, name, created_as_time=shape == "created_as_time")
        rows = rocketry_rows()
        for row in rows:
            if dialect == "mysql":
                row["runtime"] = None if row["runtime"] is None else str(row["runtime"])
            if shape == "created_as_time":
                row["created"] = datetime.fromtimestamp(row["created"], UTC).replace(tzinfo=None)
        with engine.begin() as connection:
            table.create(connection)
            connection.execute(table.insert(), rows)
    try:
        yield url, name
    finally:
        with engine.begin() as connection:
            connection.execute(sa.text(f"DROP TABLE {name}"))
        engine.dispose()


def record_counts(spec: str, *args: str) -> Counter[tuple[str, str]]:
    out = run_cli("ls", "-r", spec, *args, "-o", "jsonl").stdout
    return Counter((row["task_name"], row["action"]) for row in map(json.loads, out.splitlines()))


@pytest.mark.services
def test_server_reads_like_sqlite(server_table: tuple[str, str]) -> None:
    url, table = server_table
    sqlite = str(ROCKETRY / "task_run.db")
    assert record_counts(url, "--table", table) == record_counts(sqlite)
    assert record_counts(url, "--table", table, "-t", "timeout_*", "-a", "terminate") == record_counts(
        sqlite, "-t", "timeout_*", "-a", "terminate"
    )
    server_rows = run_cli(
        "ls", "-r", url, "--table", table, "-n", "5", "-o", "jsonl", "--fields", "created,task_name"
    )
    sqlite_rows = run_cli("ls", "-r", sqlite, "-n", "5", "-o", "jsonl", "--fields", "created,task_name")
    assert server_rows.stdout == sqlite_rows.stdout
    info = json.loads(run_cli("info", "-r", f"{url}#{table}", "-o", "json").stdout)
    assert info["records"] == sum(record_counts(sqlite).values())
    assert info["model"] == "TaskRunRecord"


@pytest.mark.services
def test_server_unknown_table_is_a_source_error(server_table: tuple[str, str]) -> None:
    url, _ = server_table
    assert_one_error_line(run_cli("ls", "-r", url, "--table", "no_such_table", expect=3), "no_such_table")


def machine(*args: str) -> list[dict[str, Any]]:
    """A command's JSON lines, parsed."""
    return [json.loads(line) for line in run_cli(*args, "-o", "jsonl").stdout.splitlines()]


def same(left: Any, right: Any) -> bool:
    """Equal, floats within 2 µs: DATETIME(6) keeps microseconds, so each end of a duration may round."""
    if isinstance(left, float) and isinstance(right, float):
        return abs(left - right) <= 2e-6
    if isinstance(left, dict) and isinstance(right, dict):
        return left.keys() == right.keys() and all(same(left[key], right[key]) for key in left)
    if isinstance(left, list) and isinstance(right, list):
        return len(left) == len(right) and all(same(a, b) for a, b in zip(left, right, strict=True))
    return bool(left == right)


@pytest.mark.services
def test_every_command_answers_as_on_sqlite(server_table: tuple[str, str]) -> None:
    url, table = server_table
    server, sqlite = f"{url}#{table}", str(ROCKETRY / "task_run.db")
    fields = "created,task_name,action,run_id,start,end,runtime,message,exc_text"
    for args in (
        ("ls", "--sort", "created", "--fields", fields),
        ("ls", "-t", "fails*", "-a", "fail", "--sort", "created", "--fields", fields),
        ("ls", "-g", "503", "--sort", "created", "--fields", "created,task_name"),
        ("runs",),
        ("runs", "--failed", "-n", "5"),
        ("runtimes",),
        ("runtimes", "-t", "multilaunch_*", "-S", "@1795290730"),
        ("tasks",),
        ("timeline", "flaky_retry", "long_running", "--fields", "run,attempt,created,action,message"),
    ):
        assert same(machine(*args, "-r", server), machine(*args, "-r", sqlite)), args
    last = machine("tail", "-n", "5", "-r", server, "--fields", "created,task_name,action")
    assert len(last) == 5
    checks = run_cli("check", "-r", server, "--max-failures", "3", expect=1).stdout
    assert checks == run_cli("check", "-r", sqlite, "--max-failures", "3", expect=1).stdout
    info = json.loads(run_cli("info", "-r", server, "-o", "json").stdout)
    assert info["records"] == len(machine("ls", "-r", sqlite)) and info["model"] == "TaskRunRecord"


@pytest.mark.services
@pytest.mark.parametrize(
    ("url", "fragment"),
    [
        ("postgresql://nobody:pw-secret@127.0.0.1:5432/test", "nobody"),
        ("postgresql://postgres@127.0.0.1:5432/no_such_database", "no_such_database"),
        ("mysql://root:pw-secret@127.0.0.1:3306/test", "root"),
        ("mysql://root@127.0.0.1:3306/no_such_database", "no_such_database"),
    ],
)
def test_connection_errors_are_one_line_without_the_password(url: str, fragment: str) -> None:
    reachable(SERVERS["postgresql" if url.startswith("postgresql") else "mysql"]).dispose()
    result = run_cli("ls", "-r", url, expect=3)
    assert_one_error_line(result, fragment)
    assert "pw-secret" not in result.stderr


@pytest.mark.services
@pytest.mark.parametrize("dialect", sorted(SERVERS))
def test_sessions_are_read_only(dialect: str) -> None:
    from tasklog_cli.sources.sql.connect import make_engine, read_only_connection

    reachable(SERVERS[dialect]).dispose()
    engine = make_engine(sa.engine.make_url(SERVERS[dialect]))
    try:
        with (
            read_only_connection(engine) as connection,
            pytest.raises(sa.exc.DBAPIError, match=r"(?i)read.only"),
        ):
            connection.execute(sa.text("CREATE TABLE tasklog_must_not_exist (x INT)"))
    finally:
        engine.dispose()


@pytest.mark.services
def test_follow_survives_a_dropped_postgresql_connection() -> None:
    engine = reachable(SERVERS["postgresql"])
    name = f"tasklog_follow_{uuid.uuid4().hex[:8]}"
    table = declared_table("postgresql", name)
    with engine.begin() as connection:
        table.create(connection)
        connection.execute(
            table.insert(), [{"task_name": "a", "action": "run", "created": 1.0, "message": "m"}]
        )
    follower = subprocess.Popen(
        [sys.executable, "-m", "tasklog_cli", "tail", "-f", "--interval", "0.1", "-o", "jsonl", "--fields",
         "task_name,created", "-r", f"{SERVERS['postgresql']}?application_name={name}#{name}"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        time.sleep(2)
        with engine.begin() as connection:  # the server drops tasklog's session, then rows arrive
            dropped = connection.execute(
                sa.text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE application_name = :name"  # only tasklog's: other tests share the server
                ),
                {"name": name},
            ).scalar()
            connection.execute(
                table.insert(),
                [{"task_name": f"t{i}", "action": "run", "created": 2.0 + i} for i in range(5)],
            )
        time.sleep(3)
    finally:
        follower.send_signal(signal.SIGINT)
        out, err = follower.communicate(timeout=20)
        with engine.begin() as connection:
            connection.execute(sa.text(f"DROP TABLE {name}"))
        engine.dispose()
    assert dropped, "tasklog's session was not dropped"
    assert follower.returncode == 0, err
    assert [json.loads(line)["task_name"] for line in out.splitlines()] == ["a", "t0", "t1", "t2", "t3", "t4"]
    assert "Traceback" not in err


# The table Red Bird 0.7.1's SQLRepo(if_missing="create", id_field="created") makes under SQLAlchemy 1.4 (what
# Rocketry 2.5.1 installs): SQLAlchemy 1.4 renders the Float primary key as SERIAL, an integer.
REDBIRD_ON_SQLALCHEMY_14 = (
    "CREATE TABLE {name} (task_name VARCHAR NOT NULL, action VARCHAR NOT NULL, created SERIAL NOT NULL, "
    'start TIMESTAMP WITHOUT TIME ZONE, "end" TIMESTAMP WITHOUT TIME ZONE, runtime INTERVAL, '
    "message VARCHAR NOT NULL, exc_text VARCHAR, run_id VARCHAR, PRIMARY KEY (created))"
)


@pytest.mark.services
def test_redbird_serial_created_loses_records_and_reads_what_is_there() -> None:
    """Red Bird writing into that SERIAL `created` stores whole seconds, so a second record within a second
    is refused; tasklog reads the table it leaves, follows it by `created` (not as a counter)."""
    engine = reachable(SERVERS["postgresql"])
    name = f"tasklog_serial_{uuid.uuid4().hex[:8]}"
    with engine.begin() as connection:
        connection.execute(sa.text(REDBIRD_ON_SQLALCHEMY_14.format(name=name)))
    try:
        model = task_run_record()
        redbird = load_redbird()
        repo = redbird.repos.SQLRepo(
            engine=engine, table=name, if_missing="raise", model=model, id_field="created"
        )
        rows = rocketry_rows()
        kept, refused = [], 0
        for row in rows:
            try:
                repo.add(model(**row))
                kept.append(row)
            except redbird.exc.KeyFoundError:
                repo.session.rollback()
                refused += 1
        assert refused and kept  # the claim README makes: records are lost
        spec = f"{SERVERS['postgresql']}#{name}"
        listed = machine("ls", "-r", spec, "--fields", "created,task_name,action")
        assert [(row["task_name"], row["action"]) for row in listed] == [
            (row["task_name"], row["action"]) for row in sorted(kept, key=lambda row: round(row["created"]))
        ]
        assert all(row["created"].endswith(".000000+00:00") for row in listed)  # whole seconds
        info = json.loads(run_cli("info", "-r", spec, "-o", "json").stdout)
        assert info["records"] == len(kept)
        assert machine("runs", "-r", spec)
        from tasklog_cli.sources import OpenOptions, open_source

        source = open_source(spec, OpenOptions())
        try:
            assert source.shape.serial_key is None  # type: ignore[attr-defined]
        finally:
            source.close()
    finally:
        with engine.begin() as connection:
            connection.execute(sa.text(f"DROP TABLE {name}"))
        engine.dispose()
