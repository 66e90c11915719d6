"""A SQLite table of records as an append-only log for the run index: marked by its row count and lowest
and highest rowid, read past the mark in rowid order (tables whose store order is the rowid)."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from tasklog_cli.index.logs import Change, Mark
from tasklog_cli.models import Record
from tasklog_cli.sources.base import Source
from tasklog_cli.sources.sql.rows import key_columns
from tasklog_cli.sources.sql.table import SqlSource


class SqliteLog:
    """A SQLite table whose store order is its rowid, `created` a number."""

    def __init__(self, source: SqlSource) -> None:
        self.source = source
        self.rowid: sa.ColumnElement[Any] = sa.literal_column("rowid")
        database = str(Path(source.url.database or "").resolve())
        self.identity: dict[str, object] = {"kind": "sqlite", "path": database, "table": source.table_name}
        self.samples: list[tuple[int, float]] = []

    def _extent(self, up_to: int | None) -> dict[str, Any]:
        statement = sa.select(sa.func.count(), sa.func.min(self.rowid), sa.func.max(self.rowid))
        table = self.source.table
        if up_to is not None:
            statement = statement.where(self.rowid <= up_to)
        with self.source.reading() as connection:
            count, low, high = connection.execute(statement.select_from(table)).one()
        return {"count": int(count), "low": low, "high": high}

    def end(self) -> dict[str, Any] | None:
        return self._extent(None)

    def change(self, mark: Mark) -> Change:
        if mark["high"] is None:
            return Change.SAME if self._extent(None)["high"] is None else Change.APPENDED
        if self._extent(int(mark["high"])) != dict(mark):
            return Change.REWRITTEN
        newest = self.source.scalar(sa.select(sa.func.max(self.rowid)).select_from(self.source.table))
        return Change.SAME if newest == mark["high"] else Change.APPENDED

    def read(self, start: Mark | None, end: Mark) -> Iterator[Record]:
        columns = self.source.table.c
        run_id = columns.run_id if "run_id" in columns else sa.null()
        statement = sa.select(
            columns.created, columns.task_name, columns.action, run_id, *key_columns(self.source.shape)
        )
        if end["high"] is None:
            return iter(())
        statement = statement.where(self.rowid <= end["high"])
        if start is not None and start["high"] is not None:
            statement = statement.where(self.rowid > start["high"])
        return self.source._core_records(statement.order_by(self.rowid))


def sqlite_log(source: Source) -> SqliteLog | None:
    """The log view of a SQLite table of records, when its store order is its rowid and `created` a number
    (other tables are read whole, as without the index)."""
    if not isinstance(source, SqlSource) or source.shape.dialect != "sqlite":
        return None
    shape = source.shape
    primary = list(shape.table.primary_key.columns)
    rowid_order = str(shape.serial_key) == "rowid" and (
        not primary or (len(primary) == 1 and isinstance(primary[0].type, sa.Integer))
    )
    if not rowid_order or shape.created_is_time or "created" not in shape.numeric:
        return None
    return SqliteLog(source)
