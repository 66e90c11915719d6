"""fastapi-taskflow's `task_snapshots` table, read through SQLAlchemy Core."""

from collections.abc import Iterator, Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tasklog_cli.errors import SourceError
from tasklog_cli.sources.sql.connect import TASKFLOW_TABLE, first_line, read_only_connection
from tasklog_cli.sources.taskflow import SNAPSHOT_FIELDS


class SqlSnapshots:
    """fastapi-taskflow's `task_snapshots` table (SQLite, PostgreSQL, MySQL), read through SQLAlchemy Core."""

    def __init__(self, engine: Engine, label: str) -> None:
        self.engine, self.label = engine, label
        self.kind = f"fastapi-taskflow ({engine.dialect.name})"
        self.table = sa.Table(TASKFLOW_TABLE, sa.MetaData(), autoload_with=engine)
        self.fields = tuple(name for name in SNAPSHOT_FIELDS if name in self.table.c)

    def rows(self) -> Iterator[Mapping[str, Any]]:
        statement = sa.select(*(self.table.c[name] for name in self.fields))
        try:
            with read_only_connection(self.engine) as connection:
                result = connection.execution_options(stream_results=True, yield_per=1000).execute(statement)
                yield from (dict(row._mapping) for row in result)
        except sa.exc.SQLAlchemyError as exc:
            raise SourceError(f"cannot read {self.label}: {first_line(exc)}") from exc

    def signature(self) -> object:
        columns = self.table.c
        statement = sa.select(sa.func.count(), sa.func.max(columns.created_at), sa.func.max(columns.end_time))
        try:
            with read_only_connection(self.engine) as connection:
                return tuple(connection.execute(statement).one())
        except sa.exc.SQLAlchemyError as exc:
            raise SourceError(f"cannot read {self.label}: {first_line(exc)}") from exc

    def details(self) -> dict[str, Any]:
        return {"table": TASKFLOW_TABLE}

    def close(self) -> None:
        self.engine.dispose()
