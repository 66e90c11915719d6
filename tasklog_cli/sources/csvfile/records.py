"""CSV records found in a file's raw bytes, quote-aware (a quoted field may hold newlines): the header,
the records from an offset forwards, and backwards from the end."""

import csv
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO, NamedTuple

from tasklog_cli.errors import SourceError

CHUNK_BYTES = 1 << 20
_SCAN_BYTES = 1 << 16


class Chunk(NamedTuple):
    """Consecutive record texts of a file, with the byte offset and the line number (when known) of the
    first one."""

    start: int
    line: int | None
    texts: list[str]


class Header(NamedTuple):
    """A CSV file's header row: the column names, and the byte offset and line number of the first record."""

    columns: list[str]
    data_offset: int
    data_line: int


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


def read_chunks(path: Path, offset: int, line: int | None) -> Iterator[Chunk]:
    """The file's CSV records from a byte offset (at line `line`), a chunk's worth at a time, unparsed;
    a last record without its line end comes last, on its own."""
    carry = b""
    start = offset
    with path.open("rb") as file:
        file.seek(offset)
        while block := file.read(CHUNK_BYTES):
            data = carry + block
            texts, used = complete_records(data)
            carry = data[used:]
            yield Chunk(start, line, texts)
            start += used
            line = None if line is None else line + data.count(b"\n", 0, used)
    if carry:
        yield Chunk(start, line, [carry.decode("utf-8", "replace")])


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


def read_chunks_backward(path: Path, start: int, end: int) -> Iterator[Chunk]:
    """The complete records between two record boundaries, the last chunk first (each in file order):
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
            yield Chunk(begin + cut, None, complete_records(data[cut:])[0])


def count_in(file: BinaryIO, byte: bytes, start: int, end: int) -> int:
    """How many times a byte occurs between two offsets (C-speed counting, chunk by chunk)."""
    file.seek(start)
    count, left = 0, end - start
    while left > 0 and (block := file.read(min(CHUNK_BYTES, left))):
        count += block.count(byte)
        left -= len(block)
    return count


def line_at(path: Path, offset: int) -> int:
    """The line number of the line a byte offset is on."""
    with path.open("rb") as file:
        return 1 + count_in(file, b"\n", 0, offset)


def end_of_records(path: Path, data_offset: int) -> tuple[int, list[str]]:
    """The byte offset just after the last complete record, and the text of a last row written without
    its line end (not of a quoted field still being written)."""
    size = path.stat().st_size
    with path.open("rb") as file:
        file.seek(max(data_offset, size - 2))
        if file.read(2) == b"\r\n":
            return size, []  # Red Bird ends every row with CRLF: the common case costs nothing
        inside = count_in(file, b'"', data_offset, size) % 2  # is the end inside a quoted field?
        quotes_after, position = 0, size
        while position > data_offset:
            begin = max(data_offset, position - _SCAN_BYTES)
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
        file.seek(data_offset)
        trailing = "" if inside else file.read(size - data_offset).decode("utf-8", "replace")
    return data_offset, [trailing] if trailing else []


def read_header(path: Path) -> Header:
    """The header row of a CSV file: its column names, and where the records start."""
    with path.open("rb") as file:
        head = file.read(CHUNK_BYTES)
        if not head:
            raise SourceError(f"{path} is empty (0 bytes): not a task log")
        if b"\0" in head and not is_utf8(head):
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
    return Header([name.strip() for name in columns], len(header) + 1, 2 + header.count(b"\n"))


def is_utf8(data: bytes) -> bool:
    """Whether bytes are UTF-8 text (the last character may be cut short)."""
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc.reason == "unexpected end of data"
    return True


def raw_records(data: bytes) -> list[bytes]:
    """The records of `data`, which starts and ends at record boundaries, as raw bytes."""
    found: list[bytes] = []
    start = scanned = quotes = 0
    position = data.find(b"\n")
    while position >= 0:
        quotes += data.count(b'"', scanned, position)
        scanned = position
        if quotes % 2 == 0:
            found.append(data[start : position + 1])
            start = position + 1
        position = data.find(b"\n", position + 1)
    return found


def last_records(data: bytes, count: int, *, starts_a_record: bool) -> tuple[list[bytes], bool]:
    """Up to `count` complete records at the end of `data` (which ends at a record boundary) as raw bytes,
    and whether they are every record `data` holds; only the bytes of the last few records are looked at."""
    window = _SCAN_BYTES
    while True:
        begin = max(0, len(data) - window)
        piece = data[begin:]
        cut = 0 if begin == 0 and starts_a_record else first_boundary(piece)
        if 0 <= cut < len(piece) or begin == 0:
            break
        window *= 4
    if cut < 0:
        return [], False
    return raw_records(piece[cut:])[-count:], begin == 0 and cut == 0
