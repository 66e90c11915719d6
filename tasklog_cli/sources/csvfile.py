"""CSV files as Red Bird's CSVFileRepo writes them, read by streaming with a byte-cheap prefilter."""

import csv
import os
import re
from collections.abc import Callable, Collection, Iterable, Iterator
from itertools import chain
from pathlib import Path
from typing import BinaryIO

from tasklog_cli.errors import SourceError
from tasklog_cli.models import CORE_COLUMNS, ROCKETRY_COLUMN_KINDS, ColumnKind, Record
from tasklog_cli.query import GLOB_CHARS, Query, task_matcher
from tasklog_cli.selection import Selection
from tasklog_cli.sources.base import (
    MalformedRowError,
    Notify,
    OpenOptions,
    RowReader,
    Source,
    Watch,
)
from tasklog_cli.values import to_epoch

CHUNK_BYTES = 1 << 20
_GLOB_PARTS = re.compile(r"\[!?\]?[^\]]*\]|[*?\[]")  # fnmatch: a `]` right after `[` or `[!` is a member


def csv_needle(value: str) -> str | None:
    """The text a CSV row holding `value` must contain (quotes doubled), or None when unusable."""
    if not value or "\r" in value:
        return None
    return value.replace('"', '""')


def glob_needle(pattern: str) -> str | None:
    """The longest literal run of a glob: every name it matches contains it."""
    literal = max(_GLOB_PARTS.split(pattern), key=len)
    return csv_needle(literal)


def prefilter_groups(query: Query) -> list[tuple[str, ...]]:
    """Groups of needles; a matching row contains at least one needle of every group."""
    groups: list[tuple[str, ...]] = []
    for values, is_glob_option in ((query.tasks, True), (query.actions, False), (query.run_ids, False)):
        if not values:
            continue
        needles = [
            glob_needle(value) if is_glob_option and GLOB_CHARS & set(value) else csv_needle(value)
            for value in values
        ]
        if all(needles):
            groups.append(tuple(dict.fromkeys(needle for needle in needles if needle)))
    return groups


def keep_containing(texts: list[str], groups: list[tuple[str, ...]]) -> list[str]:
    """Keep the texts holding a needle of every group (C-speed `in` tests, no parsing)."""
    for group in groups:
        if len(group) == 1:
            needle = group[0]
            texts = [text for text in texts if needle in text]
        else:
            texts = [text for text in texts if any(needle in text for needle in group)]
    return texts


def split_records(lines: list[str]) -> tuple[list[str], list[str]]:
    """Join physical lines into CSV records (a quoted field may hold newlines).

    Returns the complete records and the lines of a record still open at the end.
    """
    toggles = [index for index, line in enumerate(lines) if '"' in line and line.count('"') % 2]
    open_tail: list[str] = []
    if len(toggles) % 2:
        start = toggles.pop()
        open_tail, lines = lines[start:], lines[:start]
    if not toggles:
        return lines, open_tail
    records: list[str] = []
    previous = 0
    for first, last in zip(toggles[::2], toggles[1::2], strict=True):
        records.extend(lines[previous:first])
        records.append("\n".join(lines[first : last + 1]))
        previous = last + 1
    records.extend(lines[previous:])
    return records, open_tail


def complete_records(data: bytes) -> tuple[list[str], int]:
    """The complete records at the start of `data` (which starts at a record boundary), and their length
    in bytes; a half-written last row, or one whose quoted field is still open, is left out."""
    used = data.rfind(b"\n") + 1
    if data.count(b'"', 0, used) % 2:  # the last newline is inside a quoted field: back to the record's start
        raw_lines = data[:used].split(b"\n")
        toggles = [index for index, line in enumerate(raw_lines) if line.count(b'"') % 2]
        used = sum(len(line) + 1 for line in raw_lines[: toggles[-1]])
    lines = data[:used].decode("utf-8", "replace").split("\n")
    lines.pop()
    records, _ = split_records(lines)
    return records, used


def read_records(path: Path, offset: int) -> Iterator[list[str]]:
    """Yield the file's CSV records from a byte offset, a chunk's worth at a time, unparsed."""
    carry = b""
    with path.open("rb") as file:
        file.seek(offset)
        while block := file.read(CHUNK_BYTES):
            data = carry + block
            records, used = complete_records(data)
            carry = data[used:]
            yield records
    if carry:
        yield [carry.decode("utf-8", "replace")]


def first_boundary(data: bytes) -> int:
    """Where the first complete record of `data` starts, given that `data` ends at a record boundary:
    just after the first newline with an even number of quotes after it (-1 when there is none)."""
    quotes_after = data.count(b'"')
    position = data.find(b"\n")
    start = 0
    while position >= 0:
        quotes_after -= data.count(b'"', start, position)
        if quotes_after % 2 == 0:
            return position + 1
        start, position = position, data.find(b"\n", position + 1)
    return -1


def read_records_backward(path: Path, start: int, end: int) -> Iterator[list[str]]:
    """The complete records between two record boundaries, the last chunk first (each list in file order):
    a tail costs the bytes back to what it needs, not the file."""
    pending = b""
    with path.open("rb") as file:
        position = end
        while position > start:
            begin = max(start, position - CHUNK_BYTES)
            file.seek(begin)
            data = file.read(position - begin) + pending
            position = begin
            cut = 0 if begin == start else first_boundary(data)
            if cut < 0:
                pending = data
                continue
            pending = data[:cut]
            yield complete_records(data[cut:])[0]


def quote_count(file: BinaryIO, start: int, end: int) -> int:
    """How many double quotes the bytes between two offsets hold (C-speed counting, chunk by chunk)."""
    file.seek(start)
    count, left = 0, end - start
    while left > 0 and (block := file.read(min(CHUNK_BYTES, left))):
        count += block.count(b'"')
        left -= len(block)
    return count


def read_header(path: Path) -> tuple[list[str], int]:
    """The header row's column names and the byte offset where data rows start."""
    with path.open("rb") as file:
        head = file.read(CHUNK_BYTES)
        if not head:
            raise SourceError(f"{path} is empty (0 bytes): not a task log")
        if b"\0" in head:
            raise SourceError(f"{path} is a binary file, not a CSV task log")
        while True:
            end = head.find(b"\n")
            while end >= 0 and head.count(b'"', 0, end) % 2:
                end = head.find(b"\n", end + 1)
            more = file.read(CHUNK_BYTES) if end < 0 else b""
            if not more:
                break
            head += more
    header = head if end < 0 else head[:end]
    try:
        columns = next(csv.reader([header.decode("utf-8-sig")]), [])
    except (UnicodeDecodeError, csv.Error) as exc:
        raise SourceError(f"{path} is not a readable CSV file: {exc}") from exc
    return [name.strip() for name in columns], len(header) + 1


class CsvSource(Source):
    """A CSV file with a header row (Red Bird's CSVFileRepo layout)."""

    kind = "CSV file"

    def __init__(self, path: Path, options: OpenOptions) -> None:
        columns, self._data_offset = read_header(path)
        super().__init__(str(path), columns, options)
        self.path = path
        self._index = {name: position for position, name in enumerate(self.columns)}
        self._kinds = {name: ROCKETRY_COLUMN_KINDS.get(name, ColumnKind.TEXT) for name in self.columns}

    def _raw_check(self, query: Query) -> Callable[[list[str]], bool]:
        """Cheap tests on a row's raw text fields, before any Record is built."""
        index = self._index
        task_at, action_at, created_at = index["task_name"], index["action"], index["created"]
        checks: list[Callable[[list[str]], bool]] = []
        if query.tasks:
            is_task = task_matcher(query.tasks)
            checks.append(lambda row: is_task(row[task_at]))
        if query.actions:
            actions = frozenset(query.actions)
            checks.append(lambda row: row[action_at] in actions)
        if query.run_ids:
            run_at, run_ids = index.get("run_id"), frozenset(query.run_ids)
            checks.append(lambda row: run_at is not None and row[run_at] in run_ids)
        if query.since is not None or query.until is not None:
            since = float("-inf") if query.since is None else query.since
            until = float("inf") if query.until is None else query.until
            zone = self.options.zone

            def in_window(row: list[str]) -> bool:
                try:
                    created = float(row[created_at])
                except ValueError:
                    try:
                        created = to_epoch(row[created_at], zone)
                    except ValueError:
                        return False  # malformed: not selected
                return since <= created < until

            checks.append(in_window)
        return lambda row: all(check(row) for check in checks)

    def _rows(self, query: Query, texts: Iterable[list[str]] | None = None) -> Iterator[list[str]]:
        """Raw rows that pass the prefilter and the raw checks, malformed ones counted and dropped."""
        strict = self.options.strict  # --strict reads every row, so every malformed one is seen
        groups = [] if strict else prefilter_groups(query)
        raw_check = self._raw_check(Query() if strict else query)
        width = len(self.columns)
        for chunk in read_records(self.path, self._data_offset) if texts is None else texts:
            rows = csv.reader(keep_containing(chunk, groups))
            while True:
                try:
                    row = next(rows)
                except StopIteration:
                    break
                except csv.Error as exc:
                    self.malformed(str(exc))
                    continue
                if len(row) == width:
                    if raw_check(row):
                        yield row
                elif row:
                    self.malformed(f"{len(row)} fields where the header has {width}: {','.join(row)[:80]!r}")

    def _records(
        self, rows: Iterable[list[str]], query: Query, fields: Collection[str] | None
    ) -> Iterator[Record]:
        wanted = self.wanted_fields(fields, query)
        to_record: Callable[[list[str]], Record]
        if wanted is not None and not wanted & (set(self.columns) - set(CORE_COLUMNS)):
            to_record = self._core_record
        else:
            reader = RowReader(self._kinds, self.options.zone, wanted, blank_is_null=True)
            columns = self.columns

            def to_record(row: list[str]) -> Record:
                return reader(dict(zip(columns, row, strict=True)))

        return self.matching(rows, to_record, query, lambda row: repr(",".join(row)[:80]))

    def _core_record(self, row: list[str]) -> Record:
        """A Record of the four core columns, built straight from the row (the hot path of pairing)."""
        index = self._index
        created, task_name, action = row[index["created"]], row[index["task_name"]], row[index["action"]]
        run_at = index.get("run_id")
        if not (created and task_name and action):
            raise MalformedRowError("empty task_name, action or created")
        try:
            epoch = float(created)
        except ValueError:
            try:
                epoch = to_epoch(created, self.options.zone)
            except ValueError as exc:
                raise MalformedRowError(str(exc)) from exc
        return Record(epoch, task_name, action, (row[run_at] or None) if run_at is not None else None)

    def scan(self, query: Query, fields: Collection[str] | None = None) -> Iterator[Record]:
        return self._records(self._rows(query), query, fields)

    def select_some(
        self, query: Query, selection: Selection, fields: Collection[str] | None = None
    ) -> Iterator[Record]:
        if selection.last is not None and not selection.sort_created:
            return iter(self.last(query, selection.last, fields))
        return super().select_some(query, selection, fields)

    def last(
        self, query: Query, count: int, fields: Collection[str] | None = None, end: int | None = None
    ) -> list[Record]:
        """The last `count` matching records before byte offset `end` (default: the whole file, a last
        row without its newline included), read backwards from there."""
        found: list[Record] = []
        if count <= 0:
            return found
        chunks: Iterable[list[str]]
        if end is None:
            end, trailing = self.end_of_records()
            chunks = chain(
                [trailing] if trailing else [], read_records_backward(self.path, self._data_offset, end)
            )
        else:
            chunks = read_records_backward(self.path, self._data_offset, end)
        for texts in chunks:
            found[:0] = self._records(self._rows(query, [texts]), query, fields)
            if len(found) >= count:
                break
        return found[-count:]

    def end_of_records(self) -> tuple[int, list[str]]:
        """The byte offset just after the last complete record, and the text of a last row written
        without its newline (not of a quoted field still being written)."""
        size = self.path.stat().st_size
        with self.path.open("rb") as file:
            file.seek(max(self._data_offset, size - 2))
            if file.read(2) == b"\r\n":
                return size, []  # Red Bird ends every row with CRLF: the common case costs nothing
            inside = quote_count(file, self._data_offset, size) % 2  # is the end inside a quoted field?
            quotes_after, position = 0, size
            while position > self._data_offset:
                begin = max(self._data_offset, position - 65536)
                file.seek(begin)
                block = file.read(position - begin)
                stop, newline = len(block), block.rfind(b"\n")
                while newline >= 0:
                    quotes_after += block.count(b'"', newline + 1, stop)
                    if quotes_after % 2 == inside:  # a newline outside any quoted field ends a record
                        end = begin + newline + 1
                        file.seek(end)
                        trailing = "" if inside else file.read(size - end).decode("utf-8", "replace")
                        return end, [trailing] if trailing else []
                    stop, newline = newline, block.rfind(b"\n", 0, newline)
                quotes_after += block.count(b'"', 0, stop)
                position = begin
            file.seek(self._data_offset)
            trailing = "" if inside else file.read(size - self._data_offset).decode("utf-8", "replace")
        return self._data_offset, [trailing] if trailing else []

    def watch(
        self, query: Query, fields: Collection[str] | None, notify: Notify, *, overlap: float = 5.0
    ) -> Watch:
        return CsvWatch(self, query, fields, notify)


class CsvWatch:
    """Follows a CSV file by byte offset through an open handle: each poll reads only what was appended,
    whole records only (a half-written row or an open quoted field waits for its end). A rotated file is
    read to its end before the new one is followed from its start; a truncated one restarts."""

    def __init__(
        self, source: CsvSource, query: Query, fields: Collection[str] | None, notify: Notify
    ) -> None:
        self.source: CsvSource | None = source
        self.options = source.options
        self.path, self.query, self.fields, self.notify = source.path, query, fields, notify
        self.offset, _ = source.end_of_records()
        self.file: BinaryIO | None = self.path.open("rb")

    def backlog(self, count: int) -> list[Record]:
        return self.source.last(self.query, count, self.fields, end=self.offset) if self.source else []

    def poll(self) -> list[Record]:
        records = self._read_appended()
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            return records  # between a rotation's rename and the new file
        handle_stat = os.fstat(self.file.fileno()) if self.file else None
        if handle_stat is None or stat.st_ino != handle_stat.st_ino or handle_stat.st_size < self.offset:
            if handle_stat is not None:
                change = "replaced" if stat.st_ino != handle_stat.st_ino else "truncated"
                self.notify(f"{self.path} was {change}: following it from its start")
            self._reopen(stat.st_size)
            records += self._read_appended()
        return records

    def close(self) -> None:
        if self.file is not None:
            self.file.close()
            self.file = None

    def _read_appended(self) -> list[Record]:
        if self.file is None or self.source is None:
            return []
        size = os.fstat(self.file.fileno()).st_size
        if size <= self.offset:
            return []
        self.file.seek(self.offset)
        texts, used = complete_records(self.file.read(size - self.offset))
        self.offset += used
        return list(self.source._records(self.source._rows(self.query, [texts]), self.query, self.fields))

    def _reopen(self, size: int) -> None:
        """Follow the file now at the path from its start, once it has a header."""
        self.close()
        self.source = None
        if size == 0:
            return
        try:
            source = CsvSource(self.path, self.options)
        except SourceError:
            return  # the header is still being written: try again at the next poll
        if source._data_offset > size:
            return  # the header line has no end yet
        self.source = source
        self.file = self.path.open("rb")
        self.offset = source._data_offset
