"""JSON sources: MemoryRepo dumps (a JSON array or JSON lines) and JSONDirectoryRepo folders."""

import json
from collections.abc import Collection, Iterable, Iterator
from pathlib import Path
from typing import Any

from tasklog_cli.errors import SourceError
from tasklog_cli.models import ROCKETRY_COLUMN_KINDS, ColumnKind, Record
from tasklog_cli.query import Query
from tasklog_cli.sources.base import MalformedRowError, OpenOptions, RowReader, Source


def _columns_of(items: Iterable[Any]) -> list[str]:
    """Every key of the object items, in order of first appearance."""
    seen: dict[str, None] = {}
    for item in items:
        if isinstance(item, dict):
            seen.update(dict.fromkeys(item))
    return list(seen)


def load_dump(path: Path) -> list[Any]:
    """The items of a MemoryRepo dump: a JSON array, or one JSON object per line."""
    try:
        text = path.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SourceError(f"cannot read {path}: {exc}") from exc
    if not text.strip():
        raise SourceError(f"{path} is empty: not a task log")
    if text.lstrip().startswith("["):
        try:
            items = json.loads(text)
        except json.JSONDecodeError as exc:
            raise SourceError(f"{path} is not valid JSON: {exc}") from exc
        if not isinstance(items, list):
            raise SourceError(f"{path} holds no JSON array of records")
        return items
    items = []
    for line in text.splitlines():
        if line.strip():
            try:
                items.append(json.loads(line))
            except json.JSONDecodeError:
                items.append(line)  # kept, so the scan counts it as malformed
    return items


class JsonItemsSource(Source):
    """Records held as JSON objects, all loaded at open (these stores cost O(store) by nature)."""

    def __init__(self, label: str, items: list[Any], options: OpenOptions) -> None:
        super().__init__(label, _columns_of(items), options)
        self.items = items
        self._kinds = {name: ROCKETRY_COLUMN_KINDS.get(name, ColumnKind.TEXT) for name in self.columns}

    def scan(self, query: Query, fields: Collection[str] | None = None) -> Iterator[Record]:
        wanted = self.wanted_fields(fields, query)
        reader = RowReader(self._kinds, self.options.zone, wanted)

        def to_record(item: Any) -> Record:
            if not isinstance(item, dict):
                raise MalformedRowError("not a JSON object")
            return reader(item)

        return self.matching(
            self.items, to_record, query, lambda item: repr(json.dumps(item, default=str)[:80])
        )


class JsonDumpSource(JsonItemsSource):
    """A MemoryRepo dump in store (file) order."""

    kind = "JSON dump"

    def __init__(self, path: Path, options: OpenOptions) -> None:
        self.path = path
        super().__init__(str(path), load_dump(path), options)

    def signature(self) -> object:
        stat = self.path.stat()  # an OSError (the dump being replaced) makes the watch try again later
        return stat.st_mtime_ns, stat.st_size

    def reload(self) -> None:
        self.items = load_dump(self.path)


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


def load_folder(path: Path) -> list[Any]:
    """The records of a JSONDirectoryRepo folder, in `created` order."""
    items: list[Any] = []
    for file in sorted(path.glob("*.json")):
        try:
            items.append(json.loads(file.read_text("utf-8")))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError):
            items.append(str(file))  # kept, so the scan counts it as malformed
    items.sort(key=_created_key)
    return items


def _created_key(item: Any) -> float:
    """Sort key by `created` (unreadable items first, in file order)."""
    try:
        return float(item["created"])
    except (TypeError, KeyError, ValueError):
        return float("-inf")
