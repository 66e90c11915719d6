"""JSON sources: MemoryRepo dumps (a JSON array or JSON lines) and JSONDirectoryRepo folders."""

import json
import math
from collections.abc import Collection, Iterable, Iterator
from pathlib import Path
from typing import Any

from tasklog_cli.errors import SourceError
from tasklog_cli.models import ROCKETRY_COLUMN_KINDS, ColumnKind, Record
from tasklog_cli.query import Query
from tasklog_cli.sources.base import MalformedRowError, OpenOptions, RowReader, Source

Item = tuple[str, Any]  # where a stored value is (`line 3`, `index 3`, a file name) and the value itself


class _Unreadable:
    """A stored value that is no JSON at all, kept so that a scan counts it as malformed."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return repr(self.text)


def _columns_of(items: Iterable[Item]) -> list[str]:
    """Every key of the object items, in order of first appearance."""
    seen: dict[str, None] = {}
    for _, value in items:
        if isinstance(value, dict):
            seen.update(dict.fromkeys(value))
    return list(seen)


def parse_json(text: str) -> Any:
    """One JSON value; ValueError for what is no JSON (or nests too deep to parse)."""
    try:
        return json.loads(text)
    except RecursionError as exc:
        raise ValueError("nested too deeply") from exc


def parse_lines(text: str, first_line: int = 1) -> list[Item]:
    """The values of JSON lines (blank lines left out; a line that is no JSON kept as unreadable)."""
    items: list[Item] = []
    for number, line in enumerate(text.split("\n"), start=first_line):
        if line.strip():
            try:
                value = parse_json(line)
            except ValueError:
                value = _Unreadable(line)
            items.append((f"line {number}", value))
    return items


def load_dump(path: Path, label: str | None = None) -> list[Item]:
    """The items of a MemoryRepo dump: a JSON array, or one JSON value per line."""
    label = str(path) if label is None else label
    try:
        text = path.read_text("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SourceError(f"cannot read {label}: not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    except OSError as exc:
        raise SourceError(f"cannot read {label}: {exc.strerror or exc}") from exc
    if not text.strip():
        raise SourceError(f"{label} is empty: not a task log")
    if not text.lstrip().startswith("["):
        return parse_lines(text)
    try:
        values: list[Any] = parse_json(text)  # text starting with `[` is an array, or no JSON
    except ValueError as exc:
        raise SourceError(f"cannot read {label}: not valid JSON ({exc})") from exc
    return [(f"index {index}", value) for index, value in enumerate(values)]


class JsonItemsSource(Source):
    """Records held as JSON objects, all loaded at open (these stores cost O(store) by nature)."""

    def __init__(self, label: str, items: list[Item], options: OpenOptions) -> None:
        super().__init__(label, _columns_of(items), options)
        self.items = items
        self._kinds = {name: ROCKETRY_COLUMN_KINDS.get(name, ColumnKind.TEXT) for name in self.columns}

    def scan(self, query: Query, fields: Collection[str] | None = None) -> Iterator[Record]:
        return self.records_of(self.items, query, fields)

    def records_of(
        self, items: Iterable[Item], query: Query, fields: Collection[str] | None
    ) -> Iterator[Record]:
        """The matching Records of stored items; `fields` limits which extra columns are converted."""
        reader = RowReader(self._kinds, self.options.zone, self.wanted_fields(fields, query))

        def to_record(item: Item) -> Record:
            if not isinstance(item[1], dict):
                raise MalformedRowError("not a JSON object")
            return reader(item[1])

        return self.matching(items, to_record, query, describe)


def describe(item: Item) -> str:
    """Where a malformed item is, and the start of its text."""
    where, value = item
    try:
        text = value.text if isinstance(value, _Unreadable) else json.dumps(value, default=str)
    except (ValueError, RecursionError):
        text = "?"
    return f"{where}, {text[:80]!r}"


class JsonDumpSource(JsonItemsSource):
    """A MemoryRepo dump in store (file) order."""

    kind = "JSON dump"

    def __init__(self, path: Path, options: OpenOptions, *, label: str | None = None) -> None:
        self.path = path
        label = str(path) if label is None else label
        super().__init__(label, load_dump(path, label), options)

    def signature(self) -> object:
        stat = self.path.stat()  # an OSError (the dump being replaced) makes the watch try again later
        return stat.st_mtime_ns, stat.st_size

    def reload(self) -> None:
        self.items = load_dump(self.path, self.label)


class JsonDirectorySource(JsonItemsSource):
    """A JSONDirectoryRepo folder, one record per `*.json` file, in `created` order."""

    kind = "JSON directory"

    def __init__(self, path: Path, options: OpenOptions) -> None:
        self.path = path
        items = load_folder(path)
        if not items:
            raise SourceError(f"{path} is a folder with no *.json records: not a task log")
        super().__init__(str(path), items, options)

    def signature(self) -> object:
        return sorted((file.name, file.stat().st_mtime_ns) for file in self.path.glob("*.json"))

    def reload(self) -> None:
        self.items = load_folder(self.path)


def load_folder(path: Path) -> list[Item]:
    """The records of a JSONDirectoryRepo folder, in `created` order."""
    items: list[Item] = []
    for file in sorted(path.glob("*.json")):
        try:
            value = parse_json(file.read_text("utf-8"))
        except (OSError, ValueError):  # unreadable, not UTF-8 or no JSON
            value = _Unreadable(file.name)
        items.append((f"file {file.name}", value))
    items.sort(key=_created_key)
    return items


def _created_key(item: Item) -> float:
    """Sort key by `created` (unreadable items and those without a time first, in file order)."""
    value = item[1]
    try:
        created = float(value["created"])
    except (TypeError, KeyError, ValueError, OverflowError):
        return float("-inf")
    return created if math.isfinite(created) else float("-inf")  # NaN sorts first, not at random
