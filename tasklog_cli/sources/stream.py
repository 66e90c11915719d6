"""Streams (standard input, a FIFO): read once, front to back, as CSV or JSON sniffed from the first bytes;
what a scan reads is kept in a temporary file, which serves every later scan (runs need the whole history)."""

import io
import os
import select
import sys
import tempfile
from collections.abc import Callable, Collection, Iterable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import BinaryIO

from tasklog_cli.errors import SourceError
from tasklog_cli.models import Record
from tasklog_cli.query import Query
from tasklog_cli.runs import Run
from tasklog_cli.selection import Selection, last_n
from tasklog_cli.sources.base import Notify, OpenOptions, Source, Watch
from tasklog_cli.sources.csvfile import CsvSource, records
from tasklog_cli.sources.jsonfile import JsonDumpSource, JsonItemsSource, parse_lines

READ_BYTES = 1 << 16
BACKLOG_BYTES = 1 << 23  # at most this much of what a stream holds when `tail -f` starts is its backlog
UTF8_BOM = b"\xef\xbb\xbf"
_BLANK = b" \t\r\n" + UTF8_BOM  # whitespace, and the bytes of the UTF-8 BOM


class Stream:
    """A pipe read once, front to back; what is read before following it is kept in a temporary file."""

    def __init__(self, file: BinaryIO, label: str) -> None:
        self.file, self.label = file, label
        try:
            self.fd: int | None = file.fileno()
        except (OSError, ValueError, io.UnsupportedOperation):
            self.fd = None  # an in-memory stand-in (tests): reads block, which is all it can do
        self.spool = tempfile.NamedTemporaryFile(prefix="tasklog-stream-")  # noqa: SIM115 - closed by close()
        self.path = Path(self.spool.name)
        self.ended = False

    def read(self, *, wait: bool, keep: bool = True) -> bytes:
        """What the stream holds now (waiting for something when `wait`); b"" at its end or when nothing
        came; kept in the spool when `keep`."""
        if self.ended:
            return b""
        if self.fd is not None:
            if not wait and not select.select([self.fd], [], [], 0)[0]:
                return b""
            data = os.read(self.fd, READ_BYTES)
        else:
            data = getattr(self.file, "read1", self.file.read)(READ_BYTES)
        if not data:
            self.ended = True
        elif keep:
            self.spool.write(data)
            self.spool.flush()
        return data

    def read_until(self, enough: Callable[[bytes], bool]) -> bytes:
        """Keep reading until what the spool holds is `enough`, or the stream ends; the spooled bytes."""
        held = self.path.read_bytes()
        while not enough(held) and not self.ended:
            held += self.read(wait=True)
        return held

    def read_to_end(self) -> None:
        """Read the rest of the stream into the spool."""
        while not self.ended:
            self.read(wait=True)

    def drain(self, limit: int) -> bytes:
        """What the stream holds right now, up to about `limit` bytes, without waiting (and not spooled)."""
        pieces: list[bytes] = []
        taken = 0
        while taken < limit and (data := self.read(wait=False, keep=False)):
            pieces.append(data)
            taken += len(data)
        return b"".join(pieces)

    def close(self) -> None:
        self.spool.close()


def open_stdin(options: OpenOptions) -> Source:
    """Standard input as a stream."""
    return stream_source(Stream(sys.stdin.buffer, "<stdin>"), options)


def open_stream(path: Path, options: OpenOptions) -> Source:
    """A FIFO as a stream (opening it waits for a writer, as `cat` does)."""
    return stream_source(Stream(path.open("rb"), str(path)), options)


def stream_source(stream: Stream, options: OpenOptions) -> Source:
    """The source a stream's first bytes call for: a JSON array, JSON lines, else CSV."""
    try:
        head = stream.read_until(lambda held: bool(held.lstrip(_BLANK))).lstrip(_BLANK)
        if not head:
            raise SourceError(f"{stream.label} is empty: not a task log")
        if head.startswith(b"["):
            stream.read_to_end()
            return JsonArrayStreamSource(stream, options)
        if head.startswith(b"{"):
            return JsonLinesStreamSource(stream, options)
        return CsvStreamSource(stream, options)
    except BaseException:
        stream.close()
        raise


def header_complete(held: bytes) -> bool:
    """Whether the spooled bytes hold a whole header line (its names may be quoted)."""
    end = held.find(b"\n")
    while end >= 0 and held.count(b'"', 0, end) % 2:
        end = held.find(b"\n", end + 1)
    return end >= 0


class CsvStreamSource(CsvSource):
    """CSV from a stream: every scan reads the spool, which first gets the rest of the stream."""

    kind = "CSV stream"

    def __init__(self, stream: Stream, options: OpenOptions) -> None:
        stream.read_until(header_complete)
        self.stream = stream
        super().__init__(stream.path, options, label=stream.label)

    def scan(self, query: Query, fields: Collection[str] | None = None) -> Iterator[Record]:
        self.stream.read_to_end()
        return super().scan(query, fields)

    def select_some(
        self, query: Query, selection: Selection, fields: Collection[str] | None = None
    ) -> Iterator[Record]:
        self.stream.read_to_end()
        return super().select_some(query, selection, fields)

    def run_stream(
        self,
        query: Query,
        retry_window: timedelta,
        fields: Collection[str] | None = None,
        exact: Collection[str] = (),
    ) -> Iterator[Run]:
        self.stream.read_to_end()
        return super().run_stream(query, retry_window, fields, exact)

    def watch(
        self, query: Query, fields: Collection[str] | None, notify: Notify, *, overlap: float = 5.0
    ) -> Watch:
        def split(data: bytes, final: bool) -> tuple[list[str], int]:
            texts, used = records.complete_records(data)
            if final and used < len(data):
                return [*texts, data[used:].decode("utf-8", "replace")], len(data)
            return texts, used

        def convert(texts: list[str], start: int, line: int) -> Iterable[Record]:
            chunk = records.Chunk(start, line, texts)
            return self.records_of(self.rows(query, [chunk]), query, fields)

        return StreamWatch(self.stream, self.data_offset, self.data_line, split, convert)

    def close(self) -> None:
        self.stream.close()


class JsonLinesStreamSource(JsonItemsSource):
    """JSON lines from a stream; its columns are those of its first record (a stream is not read ahead)."""

    kind = "JSON lines stream"

    def __init__(self, stream: Stream, options: OpenOptions) -> None:
        self.stream = stream
        head = stream.read_until(lambda held: b"\n" in held.lstrip(_BLANK))
        first = head.lstrip(_BLANK).split(b"\n", 1)[0]
        super().__init__(stream.label, parse_lines(first.decode("utf-8", "replace")), options)
        self.loaded = False

    def scan(self, query: Query, fields: Collection[str] | None = None) -> Iterator[Record]:
        if not self.loaded:
            self.stream.read_to_end()
            self.items = parse_lines(self.stream.path.read_bytes().decode("utf-8-sig", "replace"))
            self.loaded = True
        return super().scan(query, fields)

    def watch(
        self, query: Query, fields: Collection[str] | None, notify: Notify, *, overlap: float = 5.0
    ) -> Watch:
        def split(data: bytes, final: bool) -> tuple[list[str], int]:
            used = len(data) if final else data.rfind(b"\n") + 1
            return data[:used].decode("utf-8", "replace").split("\n")[: None if final else -1], used

        def convert(lines: list[str], start: int, line: int) -> Iterable[Record]:
            return self.records_of(parse_lines("\n".join(lines), line), query, fields)

        with self.stream.path.open("rb") as spool:
            start = len(UTF8_BOM) if spool.read(len(UTF8_BOM)) == UTF8_BOM else 0
        return StreamWatch(self.stream, start, 1, split, convert)

    def close(self) -> None:
        self.stream.close()


class JsonArrayStreamSource(JsonDumpSource):
    """A JSON array from a stream, read whole at open (an array is only readable once complete)."""

    kind = "JSON stream"

    def __init__(self, stream: Stream, options: OpenOptions) -> None:
        self.stream = stream
        super().__init__(stream.path, options, label=stream.label)

    def watch(
        self, query: Query, fields: Collection[str] | None, notify: Notify, *, overlap: float = 5.0
    ) -> Watch:
        return EndedWatch(list(self.scan(query, fields)))

    def close(self) -> None:
        self.stream.close()


Split = Callable[[bytes, bool], tuple[list[str], int]]
Convert = Callable[[list[str], int, int], Iterable[Record]]


class StreamWatch:
    """`tail -f` on a stream: the backlog is what it held when the watch started, then each poll prints
    what arrived since, until the stream ends (`finished`); nothing more is kept."""

    def __init__(
        self,
        stream: Stream,
        start: int,
        line: int,
        split: Split,
        convert: Convert,
    ) -> None:
        self.stream, self.split, self.convert = stream, split, convert
        self.offset, self.line = start, line
        data = stream.path.read_bytes()[start:] + stream.drain(BACKLOG_BYTES)
        self.carry = b""
        self.history = self._records(data)

    @property
    def finished(self) -> bool:
        """Whether the stream ended and everything it held was printed."""
        return self.stream.ended and not self.carry

    def backlog(self, count: int) -> list[Record]:
        return last_n(self.history, count)

    def poll(self) -> list[Record]:
        if self.finished:
            return []
        self.history = []
        return self._records(self.stream.drain(BACKLOG_BYTES))

    def close(self) -> None:
        """The stream is closed with its source."""

    def _records(self, data: bytes) -> list[Record]:
        data = self.carry + data
        units, used = self.split(data, self.stream.ended)
        self.carry = data[used:]
        found = list(self.convert(units, self.offset, self.line)) if units else []
        self.offset += used
        self.line += data.count(b"\n", 0, used)
        return found


class EndedWatch:
    """`tail -f` on a stream read to its end at open: its records are the backlog, nothing comes after."""

    finished = True

    def __init__(self, found: list[Record]) -> None:
        self.found = found

    def backlog(self, count: int) -> list[Record]:
        return last_n(self.found, count)

    def poll(self) -> list[Record]:
        return []

    def close(self) -> None:
        """Nothing is held open but the stream, which its source closes."""
