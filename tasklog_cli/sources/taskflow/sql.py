"""fastapi-taskflow's `task_snapshots` table (SQLite, PostgreSQL, MySQL), read through SQLAlchemy Core."""

from collections.abc import Collection, Iterator, Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from tasklog_cli.errors import SourceError
from tasklog_cli.sources.sql.connect import TASKFLOW_TABLE, first_line, read_only_connection
from tasklog_cli.sources.taskflow.snapshot import SNAPSHOT_FIELDS

ID_BATCH = 500


class SqlSnapshots:
    """fastapi-taskflow's `task_snapshots` table, one row per stored task, keyed by `task_id`."""

    def __init__(self, engine: Engine, label: str) -> None:
        self.engine, self.label = engine, label
        self.kind = f"fastapi-taskflow ({engine.dialect.name})"
        self.table = sa.Table(TASKFLOW_TABLE, sa.MetaData(), autoload_with=engine)
        self.fields = tuple(name for name in SNAPSHOT_FIELDS if name in self.table.c)

    def task_ids(self) -> set[str]:
        try:
            with read_only_connection(self.engine) as connection:
                return set(map(str, connection.execute(sa.select(self.table.c.task_id)).scalars()))
        except sa.exc.SQLAlchemyError as exc:
            raise SourceError(f"cannot read {self.label}: {first_line(exc)}") from exc

    def rows(self, task_ids: Collection[str] | None = None) -> Iterator[Mapping[str, Any]]:
        statement = sa.select(*(self.table.c[name] for name in self.fields))
        wanted = sorted(task_ids) if task_ids is not None else None
        statements = (
            [statement]
            if wanted is None
            else [
                statement.where(self.table.c.task_id.in_(wanted[start : start + ID_BATCH]))
                for start in range(0, len(wanted), ID_BATCH)
            ]
        )
        try:
            with read_only_connection(self.engine) as connection:
                streaming = connection.execution_options(stream_results=True, yield_per=1000)
                for batch in statements:
                    yield from (dict(row._mapping) for row in streaming.execute(batch))
        except sa.exc.SQLAlchemyError as exc:
            raise SourceError(f"cannot read {self.label}: {first_line(exc)}") from exc

    def details(self) -> dict[str, Any]:
        return {"table": TASKFLOW_TABLE}

    def close(self) -> None:
        self.engine.dispose()
