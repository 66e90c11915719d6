"""Connecting to SQL stores: URLs, drivers, read-only engines and sessions, and which table to read."""

import copy
import importlib.util
import logging
import sqlite3
import warnings
from pathlib import Path
from typing import Any
from urllib.parse import quote

import sqlalchemy as sa
from sqlalchemy.engine import URL, Connection, Engine

from tasklog_cli.errors import SourceError, UsageError
from tasklog_cli.redact import redact_text, redact_url

PREFERRED_TABLES = ("tasks", "logs")

TASKFLOW_TABLE = "task_snapshots"

_TASKFLOW_COLUMNS = frozenset({"task_id", "func_name", "status", "created_at", "start_time", "end_time"})

CONNECT_TIMEOUT_SECONDS = 5

# SQLAlchemy logs what it swallows (a failed rollback on a dropped connection, with its traceback): that
# never reaches stderr, where Python's last-resort handler would print it; the error that matters is raised.
logging.getLogger("sqlalchemy").addHandler(logging.NullHandler())
# PyMySQL warns when a streamed result is left unread (`-n`, `| head`, an error mid-table): that is intended.
warnings.filterwarnings("ignore", message="Previous unbuffered result", category=UserWarning)

# For a bare postgresql:// or mysql:// URL: the drivers tried, in order (SQLAlchemy's dialect name, module),
# and the extra that installs the first.
_DRIVERS = {
    "postgresql": ((("psycopg", "psycopg"), ("psycopg2", "psycopg2")), "postgres"),
    "mysql": ((("pymysql", "pymysql"), ("mysqldb", "MySQLdb")), "mysql"),
}


def safe_url(url: URL) -> str:
    """The URL as it may be printed: password and secret query parameters hidden."""
    return redact_url(url.render_as_string(hide_password=False))


def make_engine(url: URL) -> Engine:
    """An engine that only reads: SQLite opened with mode=ro, servers with a short connect timeout."""
    backend = url.get_backend_name()
    if backend == "sqlite":
        path = Path(url.database or "")
        if not url.database or not path.is_file():
            raise SourceError(f"no SQLite database at {url.database or '(none)'}")
        uri = f"file:{quote(str(path.resolve()))}?mode=ro"
        return sa.create_engine("sqlite://", creator=lambda: sqlite3.connect(uri, uri=True))
    if (
        backend in _DRIVERS and "+" not in url.drivername
    ):  # bare postgresql://, mysql://: the installed driver
        drivers, _ = _DRIVERS[backend]
        installed = [name for name, module in drivers if importlib.util.find_spec(module) is not None]
        url = url.set(drivername=f"{backend}+{(installed or [drivers[0][0]])[0]}")
    try:
        engine = sa.create_engine(
            url, connect_args={"connect_timeout": CONNECT_TIMEOUT_SECONDS}, pool_pre_ping=True
        )
    except ModuleNotFoundError as exc:
        extra = _DRIVERS[backend][1] if backend in _DRIVERS else backend
        raise SourceError(
            f"no driver for {backend} ({exc.name} is not installed): pip install 'tasklog[{extra}]'"
        ) from exc
    except sa.exc.ArgumentError as exc:
        raise SourceError(f"cannot use URL {safe_url(url)}: {redact_text(str(exc))}") from exc
    if backend == "mysql":
        sa.event.listen(engine, "connect", _mysql_read_only)
    return engine


def connect_once(engine: Engine, label: str) -> None:
    """Connect (the pool keeps the connection): a URL option the driver chokes on (PyMySQL's unknown
    `charset` is an AttributeError) is one `cannot connect` line, not an unexpected error."""
    try:
        engine.connect().close()
    except sa.exc.SQLAlchemyError:
        raise
    except (TypeError, ValueError, AttributeError, LookupError, OSError) as exc:
        raise SourceError(
            f"cannot connect to {label}: the driver rejects the URL's options "
            f"({type(exc).__name__}: {first_line(exc)})"
        ) from exc


def _mysql_read_only(connection: Any, _record: Any) -> None:
    """Every MySQL/MariaDB session tasklog opens refuses writes."""
    cursor = connection.cursor()
    cursor.execute("SET SESSION TRANSACTION READ ONLY")
    cursor.close()


def pick_table(inspector: sa.Inspector, label: str) -> str:
    """The table to read when none is named: `tasks`, `logs`, fastapi-taskflow's snapshots, the only log
    table of the default schema."""
    tables = inspector.get_table_names()
    candidates = [
        name
        for name in tables
        if {"task_name", "action", "created"} <= {c["name"] for c in inspector.get_columns(name)}
    ]
    for name in PREFERRED_TABLES:
        if name in candidates:
            return name
    if TASKFLOW_TABLE in tables and is_taskflow_table(inspector, TASKFLOW_TABLE):
        return TASKFLOW_TABLE
    if len(candidates) == 1:
        return candidates[0]
    if candidates:
        raise UsageError(
            f"{label} has several task-log tables ({', '.join(candidates)}): pick one with --table"
        )
    raise SourceError(
        f"{label} is not a task log: no table with task_name, action and created, "
        f"nor fastapi-taskflow's {TASKFLOW_TABLE} (tables: {', '.join(tables) or 'none'})"
    )


def split_table(inspector: sa.Inspector, wanted: str) -> tuple[str | None, str]:
    """(schema, table) of a table as the user names it: `schema.table`, unless the default schema has a
    table of the whole name (dots and all)."""
    schema, dot, name = wanted.partition(".")
    if not dot or not schema or not name or inspector.has_table(wanted):
        return None, wanted
    return schema, name


def reflect_table(inspector: sa.Inspector, wanted: str, label: str) -> sa.Table:
    """The table's columns and primary key, reflected with the fewest catalog queries (start-up counts)."""
    schema, name = split_table(inspector, wanted)
    try:
        columns = inspector.get_columns(name, schema=schema)
    except sa.exc.NoSuchTableError as exc:
        try:
            found = [f"{schema}.{table}" if schema else table for table in inspector.get_table_names(schema)]
        except sa.exc.SQLAlchemyError:  # no such schema
            found = []
        raise SourceError(f"no table {wanted!r} in {label} (tables: {', '.join(found) or 'none'})") from exc
    primary = set(inspector.get_pk_constraint(name, schema=schema).get("constrained_columns") or ())
    return sa.Table(
        name,
        sa.MetaData(),
        *(
            sa.Column(
                column["name"],
                _as_read(column["type"]),
                primary_key=column["name"] in primary,
                autoincrement=column.get("autoincrement", "auto"),
            )
            for column in columns
        ),
        schema=schema,
    )


def _as_read(sql_type: sa.types.TypeEngine[Any]) -> sa.types.TypeEngine[Any]:
    """A column type as tasklog reads it: floating-point columns as floats (MySQL's DOUBLE would come back
    as Decimal, which costs time and misses the fast path of pairing)."""
    if isinstance(sql_type, sa.Float) and sql_type.asdecimal:
        as_float = copy.copy(sql_type)
        as_float.asdecimal = False
        return as_float
    return sql_type


def is_taskflow_table(inspector: sa.Inspector, name: str) -> bool:
    """Whether a table holds fastapi-taskflow's task snapshots (by its columns)."""
    return {column["name"] for column in inspector.get_columns(name)} >= _TASKFLOW_COLUMNS


def read_only_connection(engine: Engine) -> Connection:
    """A connection that only reads (PostgreSQL is told so per transaction; SQLite and MySQL sessions are
    read-only from make_engine)."""
    connection = engine.connect()
    if engine.dialect.name == "postgresql":
        connection = connection.execution_options(postgresql_readonly=True)
    return connection


def sql_label(url: URL) -> str:
    """How a database is named in messages: a SQLite file by its path, servers by URL (no password)."""
    return safe_url(url) if url.get_backend_name() != "sqlite" else str(url.database)


def sqlite_url(path: Path) -> str:
    """The SQLAlchemy URL of a SQLite file path."""
    return str(URL.create("sqlite", database=str(path)))


def first_line(exc: BaseException) -> str:
    """A driver error's first line, any URL or password in it hidden."""
    original = getattr(exc, "orig", None) or exc
    text = str(original).strip()
    return redact_text(text.splitlines()[0]) if text else type(original).__name__
