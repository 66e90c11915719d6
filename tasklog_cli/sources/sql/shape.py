"""What tasklog knows of a task-log table once it is reflected: columns, their kinds, keys and order."""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import mysql
from sqlalchemy.engine import Engine

from tasklog_cli.models import ROCKETRY_COLUMN_KINDS, ColumnKind
from tasklog_cli.sources.sql.connect import read_only_connection
from tasklog_cli.times import Zone, in_zone, utc_from_epoch

_SQL_KINDS: tuple[tuple[type[sa.types.TypeEngine[Any]], ColumnKind], ...] = (
    (sa.Interval, ColumnKind.DURATION),
    (sa.DateTime, ColumnKind.TIME),
    (sa.Date, ColumnKind.TIME),
    (sa.Integer, ColumnKind.INT),
    (sa.Float, ColumnKind.FLOAT),
    (sa.Numeric, ColumnKind.FLOAT),
)


@dataclass(frozen=True)
class TableShape:
    """A reflected task-log table: its dialect, each column's kind, the columns the database compares as
    numbers, `created` and how it is stored, the store order and the key that grows with every insert."""

    table: sa.Table
    dialect: str
    kinds: Mapping[str, ColumnKind]
    numeric: frozenset[str]
    created_is_time: bool
    created_is_aware: bool
    store_order: tuple[sa.ColumnElement[Any], ...]
    serial_key: sa.ColumnElement[Any] | None

    @property
    def created(self) -> sa.Column[Any]:
        """The `created` column."""
        return self.table.c.created

    @property
    def created_in_sql(self) -> bool:
        """Whether the database compares `created` as a number or a time (not as text)."""
        return "created" in self.numeric or self.created_is_time

    @property
    def one_writer(self) -> bool:
        """Whether keys are handed out in commit order (SQLite: one writer at a time)."""
        return self.dialect == "sqlite"

    def bound_time(self, epoch: float, zone: Zone) -> Any:
        """An epoch bound in the type of the `created` column (naive times are in `zone`)."""
        if not self.created_is_time:
            return epoch
        moment = in_zone(utc_from_epoch(epoch), zone)
        return moment if self.created_is_aware else moment.replace(tzinfo=None)

    def is_text(self, name: str) -> bool:
        """Whether a column holds text the database compares under a collation."""
        return isinstance(self.table.c[name].type, sa.String | sa.types.NullType)

    def exact(self, column: sa.ColumnElement[Any]) -> sa.ColumnElement[Any]:
        """A text column compared byte for byte, whatever its collation says (case, accents, trailing
        spaces): SQLite's BINARY, PostgreSQL's "C", MySQL/MariaDB's BINARY cast (PAD SPACE collations
        even make `'a ' = 'a'` true)."""
        if self.dialect == "mysql":
            return sa.type_coerce(sa.cast(column, mysql.BINARY()), sa.String())  # binds stay text
        if self.dialect == "postgresql":
            return column.collate("C")
        if self.dialect == "sqlite":
            return column.collate("BINARY")
        return column


def column_kind(column: sa.Column[Any]) -> ColumnKind:
    """How tasklog reads a column: Rocketry's own columns by name, the others by their SQL type."""
    if column.name in ROCKETRY_COLUMN_KINDS:
        known = ROCKETRY_COLUMN_KINDS[column.name]
        if known is not ColumnKind.EPOCH or not isinstance(column.type, sa.DateTime):
            return known
    for sql_type, kind in _SQL_KINDS:
        if isinstance(column.type, sql_type):
            return kind
    return ColumnKind.TEXT


def describe_table(engine: Engine, table: sa.Table) -> TableShape:
    """The shape of a reflected table (one catalog query on SQLite, for its rowid)."""
    dialect = engine.dialect.name
    kinds = {column.name: column_kind(column) for column in table.columns}
    has_rowid = dialect == "sqlite" and _has_rowid(engine, table.name)
    primary: tuple[sa.ColumnElement[Any], ...] = tuple(table.primary_key.columns)
    rowid: sa.ColumnElement[Any] = sa.literal_column("rowid")
    store_order = primary or ((rowid,) if dialect == "sqlite" else (table.c.created,))
    return TableShape(
        table=table,
        dialect=dialect,
        kinds=kinds,
        # Only columns the database itself compares as numbers take numeric conditions in SQL.
        numeric=frozenset(
            column.name
            for column in table.columns
            if isinstance(column.type, sa.Integer | sa.Float | sa.Numeric)
        ),
        created_is_time=kinds["created"] is ColumnKind.TIME,
        created_is_aware=bool(getattr(table.c.created.type, "timezone", False)),
        store_order=store_order,
        serial_key=rowid if has_rowid else _autoincrement_key(table),
    )


def _has_rowid(engine: Engine, name: str) -> bool:
    with read_only_connection(engine) as connection:
        ddl = connection.execute(
            sa.text("SELECT sql FROM sqlite_master WHERE name = :name"), {"name": name}
        ).scalar()
    return "WITHOUT ROWID" not in str(ddl).upper()


def _autoincrement_key(table: sa.Table) -> sa.Column[Any] | None:
    """A single integer primary key the database numbers; never `created` (Red Bird's SERIAL `created`
    holds times, not a count)."""
    primary: list[sa.Column[Any]] = list(table.primary_key.columns)
    if len(primary) != 1 or primary[0].name == "created":
        return None
    key = primary[0]
    return key if isinstance(key.type, sa.Integer) and key.autoincrement is True else None
