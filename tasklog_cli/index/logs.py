"""A store seen as an append-only log: a mark of how far it was read, whether it has only grown since,
and the records between two marks (core fields, store order), for each store kind the index serves."""

import hashlib
import math
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Protocol

from tasklog_cli.models import Record
from tasklog_cli.query import Query
from tasklog_cli.sources.base import Source
from tasklog_cli.sources.csvfile import records
from tasklog_cli.sources.csvfile.source import CsvSource
from tasklog_cli.sources.jsonfile import Item, JsonDirectorySource, JsonDumpSource, JsonItemsSource
from tasklog_cli.sources.marks import Change, Mark

FINGERPRINT_BYTES = 4096  # how much of a file's start, and of what comes just before the mark, is compared


class StoreLog(Protocol):
    """A store the index can follow by its appends."""

    identity: dict[str, object]
    samples: list[tuple[int, float]]  # (a file offset read past, the latest `created` before it in that read)

    def end(self) -> dict[str, Any] | None:
        """A mark of the store as it is now (None: it cannot be indexed now, e.g. a half-written row)."""
        ...

    def change(self, mark: Mark) -> Change:
        """Whether the store is still what the mark saw, that plus appends, or something else."""
        ...

    def read(self, start: Mark | None, end: Mark) -> Iterator[Record]:
        """The records after `start` (None: from the first) up to `end`, in store order."""
        ...


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class CsvLog:
    """A CSV file: marked by its inode, the offset read to, and fingerprints of its first bytes and of the
    bytes before that offset (an append keeps all of them; a rewrite, truncation or rotation does not)."""

    def __init__(self, source: CsvSource) -> None:
        self.source = source
        self.path = source.path
        self.identity: dict[str, object] = {"kind": "csv", "path": str(Path(source.path).resolve())}
        self.samples: list[tuple[int, float]] = []

    def _fingerprints(self, file_stat: os.stat_result, offset: int) -> dict[str, Any]:
        with self.path.open("rb") as file:
            head = file.read(min(FINGERPRINT_BYTES, offset))
            before = max(0, offset - FINGERPRINT_BYTES)
            file.seek(before)
            tail = file.read(offset - before)
        return {
            "inode": [file_stat.st_dev, file_stat.st_ino],
            "offset": offset,
            "head": _digest(head),
            "tail": _digest(tail),
        }

    def end(self) -> dict[str, Any] | None:
        offset, trailing = records.end_of_records(self.path, self.source.data_offset)
        if trailing:
            return None  # a last row without its line end: read it whole, another time
        return self._fingerprints(self.path.stat(), offset)

    def change(self, mark: Mark) -> Change:
        file_stat = self.path.stat()
        offset = int(mark["offset"])
        if [file_stat.st_dev, file_stat.st_ino] != list(mark["inode"]) or file_stat.st_size < offset:
            return Change.REWRITTEN
        if self._fingerprints(file_stat, offset) != dict(mark):
            return Change.REWRITTEN
        return Change.SAME if file_stat.st_size == offset else Change.APPENDED

    def read(self, start: Mark | None, end: Mark) -> Iterator[Record]:
        source = self.source
        first = source.data_offset if start is None else int(start["offset"])
        chunks = bounded_chunks(
            self.path, first, int(end["offset"]), source.data_line if first == source.data_offset else None
        )
        newest = [-math.inf]  # the latest `created` read so far

        def noted(chunks: Iterator[records.Chunk]) -> Iterator[records.Chunk]:
            for chunk in chunks:  # asked for once every record before it went through `tracked`
                self.samples.append((chunk.start, newest[0]))
                yield chunk

        def tracked(found: Iterator[Record]) -> Iterator[Record]:
            for record in found:
                newest[0] = max(newest[0], record.created)
                yield record

        self.samples.clear()
        return tracked(source.records_of(source.rows(Query(), noted(chunks)), Query(), ()))


def bounded_chunks(path: Path, start: int, end: int, line: int | None) -> Iterator[records.Chunk]:
    """The records between two record boundaries of a file, a chunk's worth at a time, unparsed."""
    carry = b""
    with path.open("rb") as file:
        file.seek(start)
        left = end - start
        while left > 0 and (block := file.read(min(records.CHUNK_BYTES, left))):
            left -= len(block)
            data = carry + block
            texts, used = records.complete_records(data)
            carry = data[used:]
            yield records.Chunk(start, line, texts)
            line = None if line is None else line + data.count(b"\n", 0, used)
            start += used


class ItemsLog:
    """A JSON dump or folder (read whole at open): marked by how many items were read and a digest of
    them, so an item changed, removed or inserted before the mark is a rewrite."""

    def __init__(self, source: JsonItemsSource, kind: str) -> None:
        self.source = source
        path = getattr(source, "path", source.label)
        self.identity: dict[str, object] = {"kind": kind, "path": str(Path(path).resolve())}
        self._digests: dict[int, str] = {}
        self.samples: list[tuple[int, float]] = []

    def _digest_of(self, count: int) -> str:
        if count not in self._digests:
            digest = hashlib.sha256()
            for _, value in self.source.items[:count]:
                digest.update(repr(value).encode("utf-8", "replace"))
                digest.update(b"\0")
            self._digests[count] = digest.hexdigest()
        return self._digests[count]

    def end(self) -> dict[str, Any] | None:
        count = len(self.source.items)
        return {"count": count, "digest": self._digest_of(count)}

    def change(self, mark: Mark) -> Change:
        count = int(mark["count"])
        if count > len(self.source.items) or self._digest_of(count) != mark["digest"]:
            return Change.REWRITTEN
        return Change.SAME if count == len(self.source.items) else Change.APPENDED

    def read(self, start: Mark | None, end: Mark) -> Iterator[Record]:
        first = 0 if start is None else int(start["count"])
        items: Sequence[Item] = self.source.items[first : int(end["count"])]
        return self.source.records_of(items, Query(), ())


def log_of(source: Source) -> StoreLog | None:
    """The log view of a source the index serves: CSV files, JSON dumps and folders, SQLite tables of
    records (streams and server databases are not indexed)."""
    kind = type(source)
    if kind is CsvSource:
        return CsvLog(source)  # type: ignore[arg-type]
    if kind is JsonDumpSource or kind is JsonDirectorySource:
        return ItemsLog(source, "json-folder" if kind is JsonDirectorySource else "json")  # type: ignore[arg-type]
    if kind.__module__ == "tasklog_cli.sources.sql.table":
        from tasklog_cli.sources.sql.appends import sqlite_log

        return sqlite_log(source)
    return None
