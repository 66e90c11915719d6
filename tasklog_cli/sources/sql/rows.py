"""SQL rows to Records: a value the table should not hold (a BLOB where text or a time belongs, a number
for a name, a time out of range) costs its row, named by its key, instead of ending the command."""

from collections.abc import Collection, Mapping, Sequence
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from tasklog_cli.models import Record
from tasklog_cli.sources.base import MalformedRowError, RowReader
from tasklog_cli.sources.sql.shape import TableShape
from tasklog_cli.times import Zone

ROWID_LABEL = "tasklog_rowid"

# The epochs a datetime can show: 0001-01-01 to 9999-12-31 (UTC).
EPOCH_RANGE = (-62135596800.0, 253402300799.0)
_FIRST_EPOCH, _LAST_EPOCH = EPOCH_RANGE


def key_columns(shape: TableShape) -> list[sa.ColumnElement[Any]]:
    """The columns that name a row in messages: the primary key, else SQLite's rowid, else none."""
    primary: list[sa.ColumnElement[Any]] = list(shape.table.primary_key.columns)
    if primary or shape.dialect != "sqlite" or shape.serial_key is None:
        return primary
    return [shape.serial_key.label(ROWID_LABEL)]


def key_names(shape: TableShape) -> list[str]:
    """How the key columns are named in messages."""
    return [column.name for column in shape.table.primary_key.columns] or (
        ["rowid"] if shape.dialect == "sqlite" and shape.serial_key is not None else []
    )


def named_key(shape: TableShape, values: Sequence[Any]) -> str:
    """A row's key as messages show it: `id 42`, `rowid 7` (empty when the table has none)."""
    return ", ".join(f"{name} {value!r}" for name, value in zip(key_names(shape), values, strict=False))


class SqlRowReader:
    """Turns a SQL row into a Record; on SQLite (loosely typed) it first checks the core values' types."""

    def __init__(self, shape: TableShape, zone: Zone, fields: Collection[str] | None) -> None:
        self.shape = shape
        self.reader = RowReader(shape.kinds, zone, fields)
        self.loose = shape.dialect == "sqlite"
        self.key_labels = [column.name for column in key_columns(shape)]

    def __call__(self, row: Mapping[str, Any]) -> Record:
        try:
            record = self.reader(_decoded(row) if self.loose else row)
        except MalformedRowError as exc:
            raise self._named(row, exc) from exc
        if not _FIRST_EPOCH <= record.created <= _LAST_EPOCH:  # also false for NaN
            raise self._named(row, MalformedRowError(f"created is out of range: {record.created!r}"))
        return record

    def _named(self, row: Mapping[str, Any], error: MalformedRowError) -> MalformedRowError:
        described = named_key(self.shape, [row.get(label) for label in self.key_labels])
        return MalformedRowError(f"{described}: {error}" if described else str(error))


def core_record(shape: TableShape, row: Sequence[Any]) -> Record:
    """A Record from (created, task_name, action, run_id, *key): pairing's hot path on a large table."""
    created, task_name, action, run_id = row[:4]
    try:
        if created is None or not task_name or not action:
            raise MalformedRowError("empty task_name, action or created")
        if not isinstance(created, int | float | Decimal | str) or isinstance(created, bool):
            raise MalformedRowError(f"created is not a time: {_shown(created)}")
        try:
            epoch = float(created)
        except ValueError:
            raise MalformedRowError(f"created is not a time: {_shown(created)}") from None
        if not _FIRST_EPOCH <= epoch <= _LAST_EPOCH:
            raise MalformedRowError(f"created is out of range: {epoch!r}")
        return Record(
            epoch,
            _text("task_name", task_name),
            _text("action", action),
            None if run_id is None or run_id == "" else str(_text("run_id", run_id)),
        )
    except MalformedRowError as exc:
        described = named_key(shape, row[4:])
        raise MalformedRowError(f"{described}: {exc}" if described else str(exc)) from exc


def _decoded(row: Mapping[str, Any]) -> Mapping[str, Any]:
    """The row with its BLOBs read as UTF-8 text; a name that is not text, or a BLOB `created`, is bad."""
    for name in ("task_name", "action"):
        value = row.get(name)
        if value is not None and not isinstance(value, str | bytes):
            raise MalformedRowError(f"{name} is not text: {_shown(value)}")
    if isinstance(row.get("created"), bytes):
        raise MalformedRowError(f"created is not a time: {_shown(row['created'])}")
    if not any(isinstance(value, bytes) for value in row.values()):
        return row
    return {name: _text(name, value) if isinstance(value, bytes) else value for name, value in row.items()}


def _text(name: str, value: Any) -> Any:
    """A BLOB as UTF-8 text (else MalformedRowError); a number is not a task name or action."""
    if isinstance(value, bytes):
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            raise MalformedRowError(f"{name} is not text: {_shown(value)}") from None
    if name != "run_id" and not isinstance(value, str):
        raise MalformedRowError(f"{name} is not text: {_shown(value)}")
    return value


def _shown(value: Any) -> str:
    """A bad value as a message shows it: its type and the start of its repr."""
    text = repr(value)
    return f"{type(value).__name__} {text[:40]}{'…' if len(text) > 40 else ''}"
