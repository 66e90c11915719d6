"""CSV files as Red Bird's CSVFileRepo writes them, read by streaming with a byte-cheap prefilter."""

import csv
import re
from collections import deque
from collections.abc import Callable, Collection, Iterable, Iterator
from pathlib import Path

from tasklog_cli.errors import SourceError
from tasklog_cli.models import CORE_COLUMNS, ROCKETRY_COLUMN_KINDS, ColumnKind, Record
from tasklog_cli.query import GLOB_CHARS, Query, compile_query, task_matcher
from tasklog_cli.sources.base import MalformedRowError, OpenOptions, RowReader, Selection, Source
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


def read_records(path: Path, offset: int) -> Iterator[list[str]]:
    """Yield the file's CSV records from a byte offset, a chunk's worth at a time, unparsed."""
    carry = b""
    with path.open("rb") as file:
        file.seek(offset)
        while block := file.read(CHUNK_BYTES):
            data = carry + block
            cut = data.rfind(b"\n") + 1
            text, carry = data[:cut].decode("utf-8", "replace"), data[cut:]
            lines = text.split("\n")
            lines.pop()
            records, open_tail = split_records(lines)
            if open_tail:
                carry = ("\n".join(open_tail) + "\n").encode() + carry
            yield records
    if carry:
        yield [carry.decode("utf-8", "replace")]


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

    def _rows(self, query: Query) -> Iterator[list[str]]:
        """Raw rows that pass the prefilter and the raw checks, malformed ones counted and dropped."""
        strict = self.options.strict  # --strict reads every row, so every malformed one is seen
        groups = [] if strict else prefilter_groups(query)
        raw_check = self._raw_check(Query() if strict else query)
        width = len(self.columns)
        for texts in read_records(self.path, self._data_offset):
            rows = csv.reader(keep_containing(texts, groups))
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
        predicate = compile_query(query)
        wanted = None if fields is None else set(fields) | query.fields()
        to_record: Callable[[list[str]], Record]
        if wanted is not None and not wanted & (set(self.columns) - set(CORE_COLUMNS)):
            to_record = self._core_record
        else:
            reader = RowReader(self._kinds, self.options.zone, wanted, blank_is_null=True)
            columns = self.columns

            def to_record(row: list[str]) -> Record:
                return reader(dict(zip(columns, row, strict=True)))

        for row in rows:
            try:
                record = to_record(row)
            except MalformedRowError as exc:
                self.malformed(f"{exc}: {','.join(row)[:80]!r}")
                continue
            if predicate(record):
                yield record

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

    def select(
        self, query: Query, selection: Selection, fields: Collection[str] | None = None
    ) -> Iterator[Record]:
        raw_checks_decide = not (query.grep or query.where or query.level is not None or self.options.strict)
        if selection.last is not None and not selection.sort_created and raw_checks_decide:
            skipped = self.skipped
            tail = deque(self._rows(query), maxlen=selection.last)
            records = list(self._records(tail, query, fields))
            if len(records) == len(tail):
                return iter(records)
            self.skipped = skipped  # a malformed row took a place in the tail: count again, exactly
        return super().select(query, selection, fields)
