"""CsvSource: a CSV file as Red Bird's CSVFileRepo writes it, streamed through a byte-cheap prefilter."""

import csv
import math
from collections.abc import Callable, Collection, Iterable, Iterator
from datetime import timedelta
from itertools import chain
from pathlib import Path
from typing import Any

from tasklog_cli.models import CORE_COLUMNS, NO_EXTRA, ROCKETRY_COLUMN_KINDS, ColumnKind, Record
from tasklog_cli.query import Query, task_matcher
from tasklog_cli.runs import Run, stream_runs
from tasklog_cli.selection import Selection
from tasklog_cli.sources.base import MalformedRowError, Notify, OpenOptions, RowReader, Source, Watch
from tasklog_cli.sources.csvfile import records
from tasklog_cli.sources.csvfile.prefilter import keep_containing, prefilter_groups
from tasklog_cli.values import EPOCH_MAX, EPOCH_MIN, to_epoch

FIELD_LIMIT = (1 << 31) - 1  # a traceback may be longer than the csv module's default 128 KiB


class CsvSource(Source):
    """A CSV file with a header row (Red Bird's CSVFileRepo layout)."""

    kind = "CSV file"

    def __init__(self, path: Path, options: OpenOptions, *, label: str | None = None) -> None:
        header = records.read_header(path)
        super().__init__(str(path) if label is None else label, header.columns, options)
        self.path = path
        self.data_offset, self.data_line = header.data_offset, header.data_line
        self._index = {name: position for position, name in enumerate(self.columns)}
        self._kinds = {name: ROCKETRY_COLUMN_KINDS.get(name, ColumnKind.TEXT) for name in self.columns}
        self._reading: tuple[records.Chunk, list[str], Any] = (records.Chunk(0, None, []), [], None)
        # Where the records created at a time or later start (the run index knows it): `--since` reads on.
        self.window_start: Callable[[float], int | None] | None = None
        if csv.field_size_limit() < FIELD_LIMIT:
            csv.field_size_limit(FIELD_LIMIT)

    def _raw_check(self, query: Query) -> Callable[[list[str]], bool] | None:
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
        if len(checks) <= 1:
            return checks[0] if checks else None
        return lambda row: all(check(row) for check in checks)

    def rows(self, query: Query, chunks: Iterable[records.Chunk] | None = None) -> Iterator[list[str]]:
        """Raw rows (of the file, or of the chunks given) that pass the prefilter and the raw checks;
        malformed ones are counted and dropped."""
        strict = self.options.strict  # --strict reads every row, so every malformed one is seen
        groups = [] if strict else prefilter_groups(query)
        raw_check = self._raw_check(Query() if strict else query)
        width = len(self.columns)
        if chunks is None:
            chunks = records.read_chunks(self.path, self.data_offset, self.data_line)
        for chunk in chunks:
            kept = keep_containing(chunk.texts, groups)
            rows = csv.reader(kept)
            self._reading = (chunk, kept, rows)  # where the row just yielded is, should it be malformed
            while True:
                try:
                    for row in rows:
                        if len(row) == width:
                            if raw_check is None or raw_check(row):
                                yield row
                        elif row:
                            self.malformed(f"{len(row)} fields where the header has {width}: {self.where()}")
                    break
                except csv.Error as exc:  # the reader goes on with the next row
                    self.malformed(f"{exc}: {self.where()}")

    def where(self) -> str:
        """The line number and text of the row read last, for the first malformed row (later ones are only
        counted, unless --strict)."""
        if self.skipped and not self.options.strict:
            return ""
        chunk, kept, rows = self._reading
        text = kept[rows.line_num - 1]
        index = next(position for position, held in enumerate(chunk.texts) if held is text)
        line = records.line_at(self.path, chunk.start) if chunk.line is None else chunk.line
        line += sum(held.count("\n") + 1 for held in chunk.texts[:index])
        return f"line {line}, {text.rstrip(chr(13))[:80]!r}"

    def records_of(
        self, rows: Iterable[list[str]], query: Query, fields: Collection[str] | None
    ) -> Iterator[Record]:
        """The matching Records of raw rows; `fields` limits which extra columns are converted."""
        wanted = self.wanted_fields(fields, query)
        to_record: Callable[[list[str]], Record]
        if wanted is not None and not wanted & (set(self.columns) - set(CORE_COLUMNS)):
            to_record = self._core_record
        else:
            reader = RowReader(self._kinds, self.options.zone, wanted, blank_is_null=True)
            columns = self.columns

            def to_record(row: list[str]) -> Record:
                return reader(dict(zip(columns, row, strict=True)))

        return self.matching(rows, to_record, query, lambda row: self.where())

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
        if not EPOCH_MIN <= epoch <= EPOCH_MAX:  # NaN, infinities, the year 10000
            raise MalformedRowError(f"{created} is not a time")
        return Record(epoch, task_name, action, (row[run_at] or None) if run_at is not None else None)

    def scan(self, query: Query, fields: Collection[str] | None = None) -> Iterator[Record]:
        start = None
        if query.since is not None and self.window_start is not None:
            start = self.window_start(query.since)
        if start is None or start <= self.data_offset:
            return self.records_of(self.rows(query), query, fields)
        chunks = records.read_chunks(self.path, start, None)
        return self.records_of(self.rows(query, chunks), query, fields)

    def run_stream(
        self,
        query: Query,
        retry_window: timedelta,
        fields: Collection[str] | None = None,
        exact: Collection[str] = (),
    ) -> Iterator[Run]:
        tasks_only = Query(tasks=query.tasks)
        if fields is None or set(fields) & (set(self.columns) - set(CORE_COLUMNS)):
            return super().run_stream(query, retry_window, fields, exact)
        return stream_runs(self._core_records(self.rows(tasks_only)), retry_window, exact=exact)

    def _core_records(self, rows: Iterable[list[str]]) -> Iterator[Record]:
        """Records of the four core columns of rows the raw checks passed (pairing's hot path): the
        common row is built inline, any other goes through `_core_record`."""
        index = self._index
        created_at, task_at, action_at = index["created"], index["task_name"], index["action"]
        run_at = index.get("run_id", created_at)
        has_run_id = "run_id" in index
        new = tuple.__new__
        for row in rows:
            task_name, action = row[task_at], row[action_at]
            try:
                epoch = float(row[created_at])
            except ValueError:
                epoch = math.nan
            if task_name and action and EPOCH_MIN <= epoch <= EPOCH_MAX:
                run_id = (row[run_at] or None) if has_run_id else None
                yield new(Record, (epoch, task_name, action, run_id, NO_EXTRA))
                continue
            try:
                yield self._core_record(row)
            except MalformedRowError as exc:
                detail = self.where()
                self.malformed(f"{exc}: {detail}" if detail else str(exc))

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
        row without its line end included), read backwards from there."""
        found: list[Record] = []
        if count <= 0:
            return found
        chunks: Iterable[records.Chunk]
        if end is None:
            end, trailing = records.end_of_records(self.path, self.data_offset)
            chunks = chain(
                [records.Chunk(end, None, trailing)] if trailing else [],
                records.read_chunks_backward(self.path, self.data_offset, end),
            )
        else:
            chunks = records.read_chunks_backward(self.path, self.data_offset, end)
        for chunk in chunks:
            found[:0] = self.records_of(self.rows(query, [chunk]), query, fields)
            if len(found) >= count:
                break
        return found[-count:]

    def watch(
        self, query: Query, fields: Collection[str] | None, notify: Notify, *, overlap: float = 5.0
    ) -> Watch:
        from tasklog_cli.sources.csvfile.follow import CsvWatch

        return CsvWatch(self, query, fields, notify)
