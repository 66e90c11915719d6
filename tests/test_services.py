"""Real PostgreSQL and MariaDB servers: the same Rocketry log must read the same as from SQLite."""

import csv
import json
import os
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from conftest import ROCKETRY, assert_one_error_line, run_cli

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


def table_for(dialect: str, name: str) -> sa.Table:
    """What users have: Red Bird's SQLRepo DDL on PostgreSQL; a declared table on MySQL/MariaDB."""
    text = sa.String(255) if dialect == "mysql" else sa.Text()
    moment = sa.dialects.mysql.DATETIME(fsp=6) if dialect == "mysql" else sa.DateTime()
    return sa.Table(
        name,
        sa.MetaData(),
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("task_name", text),
        sa.Column("action", text),
        sa.Column("created", sa.Double()),
        sa.Column("start", moment),
        sa.Column("end", moment),
        sa.Column("runtime", sa.Interval() if dialect == "postgresql" else sa.Text()),
        sa.Column("message", sa.Text()),
        sa.Column("exc_text", sa.Text()),
        sa.Column("run_id", text),
    )


@pytest.fixture(params=sorted(SERVERS))
def server_table(request: pytest.FixtureRequest) -> Iterator[tuple[str, str]]:
    """A fresh table on a real server loaded with the Rocketry fixture; (URL, table name)."""
    dialect = request.param
    url = SERVERS[dialect]
    engine = sa.create_engine(url, connect_args={"connect_timeout": 3})
    try:
        engine.connect().close()
    except sa.exc.OperationalError as exc:
        engine.dispose()
        reason = f"{dialect} server at {url} unreachable: {str(exc.orig).splitlines()[0]}"
        if os.environ.get("TASKLOG_REQUIRE_SERVICES") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    table = table_for(dialect, f"tasklog_test_{uuid.uuid4().hex[:8]}")
    rows = rocketry_rows()
    if dialect == "mysql":
        for row in rows:
            row["runtime"] = None if row["runtime"] is None else str(row["runtime"])
    with engine.begin() as connection:
        table.create(connection)
        connection.execute(table.insert(), rows)
    try:
        yield url, table.name
    finally:
        with engine.begin() as connection:
            table.drop(connection)
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
