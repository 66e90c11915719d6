"""CsvWatch: `tail -f` on a CSV file by byte offset, through rotation, truncation, rewrites, replacement."""

import os
import stat
from collections.abc import Collection
from typing import TYPE_CHECKING, BinaryIO

from tasklog_cli.errors import SourceError
from tasklog_cli.models import Record
from tasklog_cli.query import Query
from tasklog_cli.sources.base import Notify
from tasklog_cli.sources.csvfile import records

if TYPE_CHECKING:  # the source makes its watch: its type is all the watch needs of it
    from tasklog_cli.sources.csvfile.source import CsvSource

HEAD_BYTES = 4096  # how much of the file's start (and of the last record read) each change is checked by
ANCHOR_RECORDS = 8  # the last records read, found again in a rewritten file to resume after them


def resume_point(file: BinaryIO, start: int, anchor: list[bytes]) -> int | None:
    """Where to resume in a rewritten file: just after the occurrence (at a record boundary, from `start`)
    of the last record read that is preceded by most of the records read before it, the first such; None
    when it is not there."""
    last, keep = anchor[-1], sum(map(len, anchor))
    best, best_score = None, 0
    buffer, buffer_start, quotes_before, searched = b"", start, 0, 0
    file.seek(start)
    while True:
        block = file.read(records.CHUNK_BYTES)
        buffer += block
        found = buffer.find(last, searched)
        while found >= 0:
            at_boundary = buffer_start + found == start or buffer[found - 1 : found] == b"\n"
            if at_boundary and (quotes_before + buffer.count(b'"', 0, found)) % 2 == 0:
                score, end = 1, found
                for earlier in reversed(anchor[:-1]):
                    if end - len(earlier) < 0 or buffer[end - len(earlier) : end] != earlier:
                        break
                    score, end = score + 1, end - len(earlier)
                if score > best_score:
                    best, best_score = buffer_start + found + len(last), score
            found = buffer.find(last, found + 1)
        if not block:
            return best
        searched = max(0, len(buffer) - len(last) + 1)
        cut = max(0, searched - keep)  # keep the bytes an occurrence's earlier records are compared with
        quotes_before += buffer.count(b'"', 0, cut)
        buffer, buffer_start, searched = buffer[cut:], buffer_start + cut, searched - cut


class CsvWatch:
    """Follows a CSV file by byte offset through an open handle, reading only whole appended records,
    and known by its inode, its first bytes and the last records read: a rotated file is read to its end,
    a rewritten or replaced one resumed after the last records read (from its start, with a note, when
    they are gone), and a path that is no file for a while waited out."""

    def __init__(
        self, source: "CsvSource", query: Query, fields: Collection[str] | None, notify: Notify
    ) -> None:
        self.source: CsvSource | None = source
        self.reopen = type(source)
        self.options = source.options
        self.path, self.query, self.fields, self.notify = source.path, query, fields, notify
        self.start, _ = records.end_of_records(source.path, source.data_offset)
        self.offset = self.start
        self.line: int | None = source.data_line if self.offset == source.data_offset else None
        self.file: BinaryIO | None = self.path.open("rb")
        self.anchor = self._anchor_before(self.file, source.data_offset, self.offset)
        self.head = self._read(0, min(HEAD_BYTES, self.offset))
        self.seen = self._stat_key(os.fstat(self.file.fileno()))
        self.change: str | None = None  # how the path changed while no file is followed
        self.waiting = False  # the path is no regular file, and a note said so

    def backlog(self, count: int) -> list[Record]:
        return self.source.last(self.query, count, self.fields, end=self.start) if self.source else []

    def poll(self) -> list[Record]:
        found: list[Record] = []
        if self.file is not None:
            if self._rewritten():
                self._drop("rewritten")
            else:
                found += self._read_appended()
        try:
            path_stat = self.path.stat()
        except OSError:
            return found  # between a rotation's rename and the new file (or out of reach for now)
        if not stat.S_ISREG(path_stat.st_mode):
            if not self.waiting:
                self.notify(f"{self.path} is no longer a file: waiting for a file there")
                self.waiting = True
            return found
        self.waiting = False
        if self.file is not None and path_stat.st_ino != os.fstat(self.file.fileno()).st_ino:
            self._drop("replaced")  # the old file was read to its end above
        if self.file is None and self._reopen():
            found += self._read_appended()
        return found

    def close(self) -> None:
        if self.file is not None:
            self.file.close()
            self.file = None

    @staticmethod
    def _stat_key(file_stat: os.stat_result) -> tuple[int, int]:
        return file_stat.st_size, file_stat.st_mtime_ns

    def _read(self, start: int, end: int) -> bytes:
        assert self.file is not None
        self.file.seek(start)
        return self.file.read(end - start)

    def _anchor_before(self, file: BinaryIO, data_offset: int, end: int) -> list[bytes]:
        """The last records before `end` (a record boundary), as raw bytes."""
        window = HEAD_BYTES
        while True:
            begin = max(data_offset, end - window)
            file.seek(begin)
            anchor, _ = records.last_records(
                file.read(end - begin), ANCHOR_RECORDS, starts_a_record=begin == data_offset
            )
            if anchor or begin == data_offset:
                return anchor
            window *= 4

    def _rewritten(self) -> bool:
        """Whether the followed file changed other than by growing: shorter than what was read, other
        first bytes, or the last record read no longer just before the offset."""
        assert self.file is not None
        file_stat = os.fstat(self.file.fileno())
        if self._stat_key(file_stat) == self.seen:
            return False
        self.seen = self._stat_key(file_stat)
        if file_stat.st_size < self.offset or self._read(0, len(self.head)) != self.head:
            return True
        last = self.anchor[-1][-HEAD_BYTES:] if self.anchor else b""
        if self._read(self.offset - len(last), self.offset) != last:
            return True
        if len(self.head) < min(HEAD_BYTES, self.offset):
            self.head = self._read(0, min(HEAD_BYTES, self.offset))
        return False

    def _drop(self, change: str) -> None:
        """Stop following the file at hand; the next file at the path is resumed after the anchor."""
        self.close()
        self.source = None
        self.change = change

    def _reopen(self) -> bool:
        """Follow the file now at the path, once it has a header: just after the last record read when it
        holds it, else from its start; one note says which."""
        try:
            source = self.reopen(self.path, self.options)
            file = self.path.open("rb")
        except (OSError, SourceError):
            return False  # empty, or the header is still being written: try again at the next poll
        size = os.fstat(file.fileno()).st_size
        if source.data_offset > size:
            file.close()
            return False  # the header line has no end yet
        resume = resume_point(file, source.data_offset, self.anchor) if self.anchor else None
        change = self.change or "replaced"
        if resume is not None:
            self.notify(f"{self.path} was {change}: resuming after the last record read")
        elif change == "rewritten" and self.anchor:
            self.notify(
                f"{self.path} was rewritten without the last record read: reading it again from its "
                "start (records may repeat)"
            )
        else:
            self.notify(f"{self.path} was {change}: following it from its start")
        self.source, self.file, self.change = source, file, None
        self.offset = source.data_offset if resume is None else resume
        self.line = source.data_line if resume is None else None
        self.head = self._read(0, min(HEAD_BYTES, self.offset))
        self.seen = self._stat_key(os.fstat(file.fileno()))
        return True

    def _read_appended(self) -> list[Record]:
        if self.file is None or self.source is None:
            return []
        file_stat = os.fstat(self.file.fileno())
        self.seen = self._stat_key(file_stat)
        if file_stat.st_size <= self.offset:
            return []
        data = self._read(self.offset, file_stat.st_size)
        texts, used = records.complete_records(data)
        if not used:
            return []
        chunk = records.Chunk(self.offset, self.line, texts)
        consumed = data[:used]
        latest, every = records.last_records(consumed, ANCHOR_RECORDS, starts_a_record=True)
        self.anchor = (self.anchor + latest if every else latest)[-ANCHOR_RECORDS:]
        self.offset += used
        if self.line is not None:
            self.line += consumed.count(b"\n")
        return list(self.source.records_of(self.source.rows(self.query, [chunk]), self.query, self.fields))
