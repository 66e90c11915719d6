"""SQL stores through SQLAlchemy (the only package that imports it): Rocketry record tables and
fastapi-taskflow snapshot tables, opened read-only."""

import sqlalchemy as sa

from tasklog_cli.errors import SourceError, TasklogError, UsageError
from tasklog_cli.redact import redact_text
from tasklog_cli.sources.base import OpenOptions, Source
from tasklog_cli.sources.sql.connect import (
    TASKFLOW_TABLE,
    connect_once,
    first_line,
    is_taskflow_table,
    make_engine,
    pick_table,
    safe_url,
    sql_label,
    sqlite_url,
)
from tasklog_cli.sources.sql.table import SqlSource
from tasklog_cli.sources.sql.watch import SqlWatch
from tasklog_cli.sources.taskflow import open_table

__all__ = ["SqlSource", "SqlWatch", "open_sql", "safe_url", "sqlite_url"]


def open_sql(url_text: str, options: OpenOptions) -> Source:
    """Open a SQL source from a SQLAlchemy URL (a table may follow as `?table=` or `#table`):
    a table of records, or fastapi-taskflow's task snapshots."""
    url_text, _, fragment = url_text.partition("#")
    try:
        url = sa.engine.make_url(url_text)
    except (sa.exc.ArgumentError, ValueError) as exc:
        raise UsageError(f"bad database URL: {redact_text(str(exc))}") from exc
    table = url.query.get("table")
    if table is not None:
        url = url.difference_update_query(["table"])
    wanted = options.table or (table if isinstance(table, str) else None) or fragment or None
    engine = make_engine(url)
    try:
        connect_once(engine, sql_label(url))
        inspector = sa.inspect(engine)
        chosen = wanted or pick_table(inspector, sql_label(url))  # a named table: checked as it is read
        opened = OpenOptions(zone=options.zone, strict=options.strict, table=chosen)
        if chosen == TASKFLOW_TABLE and is_taskflow_table(inspector, chosen):
            return open_table(engine, sql_label(url), opened)
        return SqlSource(url, opened, engine)
    except sa.exc.SQLAlchemyError as exc:
        engine.dispose()
        raise SourceError(f"cannot read {sql_label(url)}: {first_line(exc)}") from exc
    except TasklogError:
        engine.dispose()
        raise
