"""A SQLite table of records as an append-only log for the run index: marked by its lowest and highest
rowid and the rows there, read past the mark in rowid order (tables whose store order is the rowid)."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from tasklog_cli.models import Record
from tasklog_cli.sources.base import Source
from tasklog_cli.sources.marks import Change, Mark
from tasklog_cli.sources.sql.rows import key_columns
from tasklog_cli.sources.sql.table import SqlSource


class SqliteLog:
    """A SQLite table whose store order is its rowid, `created` a number: marked by its lowest and highest
    rowid and the rows there (an append keeps them; emptying, pruning from the start or rewriting a row at
    either end does not), each found through the rowid's b-tree, never a scan of the table."""

    def __init__(self, source: SqlSource) -> None:
        self.source = source
        self.rowid: sa.ColumnElement[Any] = sa.literal_column("rowid")
        database = str(Path(source.url.database or "").resolve())
        self.identity: dict[str, object] = {"kind": "sqlite", "path": database, "table": source.table_name}
        self.samples: list[tuple[int, float]] = []

    def _row(self, rowid: Any) -> list[Any] | None:
        columns = self.source.table.c
        run_id = columns.run_id if "run_id" in columns else sa.null()
        statement = sa.select(columns.created, columns.task_name, columns.action, run_id)
        with self.source.reading() as connection:
            row = connection.execute(statement.where(self.rowid == rowid)).first()
        return None if row is None else [repr(value) for value in row]

    def _extent(self) -> dict[str, Any]:
        table = self.source.table
        with self.source.reading() as connection:  # one min() or max() a query: SQLite reads one row each
            low = connection.execute(sa.select(sa.func.min(self.rowid)).select_from(table)).scalar()
            high = connection.execute(sa.select(sa.func.max(self.rowid)).select_from(table)).scalar()
        return {"low": low, "high": high, "first": self._row(low), "last": self._row(high)}

    def end(self) -> dict[str, Any] | None:
        return self._extent()

    def change(self, mark: Mark) -> Change:
        now = self._extent()
        if mark["high"] is None:
            return Change.SAME if now["high"] is None else Change.APPENDED
        if now["low"] != mark["low"] or now["first"] != mark["first"]:
            return Change.REWRITTEN
        if now["high"] == mark["high"]:
            return Change.SAME if now["last"] == mark["last"] else Change.REWRITTEN
        still = self._row(mark["high"])
        return Change.APPENDED if still == mark["last"] else Change.REWRITTEN

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
