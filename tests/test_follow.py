"""`tail -n` and `tail -f` (DESIGN §6, issue #4): watches driven poll by poll, the follow loop on a fake
clock, and `tasklog tail -f` subprocesses against real writers (csv.writer, Red Bird's CSVFileRepo,
sqlite3, a real Rocketry app killed and restarted) in separate processes."""

import csv
import dataclasses
import io
import json
import os
import queue
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import tracemalloc
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import IO, Any

import pytest
from conftest import ROCKETRY
from typer.testing import CliRunner

from tasklog_cli import cli
from tasklog_cli.environment import Environment
from tasklog_cli.follow import poll_records
from tasklog_cli.models import Action, Record
from tasklog_cli.query import Query
from tasklog_cli.sources import OpenOptions, open_source
from tasklog_cli.sources.base import RowReader, Watch
from tasklog_cli.sources.csvfile import follow as csv_follow
from tasklog_cli.sources.csvfile import records
from tasklog_cli.sources.csvfile.follow import CsvWatch
from tasklog_cli.sources.sql import SqlSource, SqlWatch

TASKLOG = [sys.executable, "-m", "tasklog_cli"]
FIXTURE_PYTHON = Path("/tmp/tasklog-fixture-venv/bin/python")
HEADER = ("task_name", "action", "created", "run_id", "exc_text")
CORE_FIELDS = ("created", "task_name", "action", "run_id")
NAMES = ("plain", "wörld ✓", 'say "hi", wörld ✓', "日本語のタスク", 'fails, "loudly" ✗')
TRACEBACK = (
    "Traceback (most recent call last):\n"
    '  File "/app/jobs.py", line 12, in parse_row\n'
    "    raise ValueError(message)\n"
    'ValueError: bad row \'x,"y",z\': expected "a,b", got 3 fields, ünïcödé ✗'
)
T0 = 1_795_000_000.0
Row = tuple[str, str, str, str, str]


# ----------------------------------------------------------------------------------------------------
# Helpers
# ----------------------------------------------------------------------------------------------------

_CLEANUPS: list[Callable[[], object]] = []


@pytest.fixture(autouse=True)
def close_what_tests_opened() -> Iterator[None]:
    """Watches, sources and SQLite connections the helpers opened are closed after each test."""
    yield
    while _CLEANUPS:
        _CLEANUPS.pop()()


def row(
    number: int, task: str = "plain", action: str = "run", *, created: float | None = None, exc: str = ""
) -> Row:
    """A CSV row of HEADER whose run_id `r<number>` tells it apart."""
    return task, action, repr(T0 + number if created is None else created), f"r{number}", exc


def csv_bytes(*rows: Sequence[str]) -> bytes:
    """Rows as Red Bird's CSVFileRepo writes them: csv.writer, minimal quoting, CRLF, UTF-8."""
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue().encode("utf-8")


def new_csv(path: Path, *rows: Sequence[str]) -> Path:
    path.write_bytes(csv_bytes(HEADER, *rows))
    return path


def append(path: Path, data: bytes) -> None:
    with path.open("ab") as file:
        file.write(data)


def ids(records: Iterable[Record]) -> list[str | None]:
    return [record.run_id for record in records]


def watch_of(
    spec: Path | str, query: Query | None = None, fields: Sequence[str] | None = None, *, overlap: float = 5.0
) -> tuple[Watch, list[str]]:
    """A watch on a store, and the list its notes land in."""
    notes: list[str] = []
    source = open_source(str(spec), OpenOptions())
    watch = source.watch(query or Query(), fields, notes.append, overlap=overlap)
    _CLEANUPS.extend([source.close, getattr(watch, "close", lambda: None)])
    return watch, notes


def sql_watch(
    path: Path,
    *,
    query: Query | None = None,
    fields: Sequence[str] | None = None,
    overlap: float = 5.0,
    clock: Callable[[], float] = time.monotonic,
) -> tuple[SqlWatch, list[str]]:
    source = open_source(str(path), OpenOptions())
    assert isinstance(source, SqlSource)
    _CLEANUPS.append(source.close)
    notes: list[str] = []
    return SqlWatch(source, query or Query(), fields, notes.append, overlap=overlap, clock=clock), notes


def sqlite_table(path: Path, ddl: str) -> sqlite3.Connection:
    """A fresh SQLite database with one table; the connection commits every statement."""
    path.unlink(missing_ok=True)
    connection = sqlite3.connect(path, isolation_level=None)
    _CLEANUPS.append(connection.close)
    connection.execute(ddl)
    return connection


def insert(connection: sqlite3.Connection, *rows: dict[str, Any], table: str = "tasks") -> None:
    """Insert rows in one transaction."""
    connection.execute("BEGIN")
    for values in rows:
        names = ", ".join(f'"{name}"' for name in values)
        marks = ", ".join("?" for _ in values)
        connection.execute(f"INSERT INTO {table} ({names}) VALUES ({marks})", tuple(values.values()))
    connection.execute("COMMIT")


def sql_row(
    number: int, task: str = "plain", action: str = "run", *, created: float | None = None
) -> dict[str, Any]:
    return {"task_name": task, "action": action, "created": T0 + number if created is None else created,
            "run_id": f"r{number}"}  # fmt: skip


def drive(watch: Watch, clock: "FakeClock", *, interval: float, polls: int | None = None) -> int:
    """Run the follow loop on the fake clock, emitting each record; how many were emitted."""
    emitted = 0
    for record in poll_records(watch, interval=interval, sleep=clock.sleep, polls=polls):
        clock.emit(record)
        emitted += 1
    return emitted


class FakeClock:
    """Time that moves only when the follow loop sleeps; writes scheduled at moments happen as it passes
    them, and every emitted record is stamped with the moment it was emitted."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []
        self.plan: list[tuple[float, Callable[[], object]]] = []
        self.written: dict[str, float] = {}
        self.emitted: list[tuple[float, Record]] = []
        self.interrupt_after: int | None = None

    def at(self, moment: float, action: Callable[[], object], *written: str) -> None:
        """Do `action` at `moment`; the run ids it completes are `written` then."""

        def act() -> None:
            action()
            self.written.update(dict.fromkeys(written, moment))

        self.plan.append((moment, act))
        self.plan.sort(key=lambda item: item[0])

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        if self.interrupt_after is not None and len(self.sleeps) >= self.interrupt_after:
            raise KeyboardInterrupt
        self.now += seconds
        while self.plan and self.plan[0][0] <= self.now:
            self.plan.pop(0)[1]()

    def emit(self, record: Record) -> None:
        self.emitted.append((self.now, record))

    def latencies(self) -> dict[str | None, float]:
        return {record.run_id: moment - self.written[str(record.run_id)] for moment, record in self.emitted}


# ----------------------------------------------------------------------------------------------------
# CSV watch, poll by poll
# ----------------------------------------------------------------------------------------------------


def test_csv_backlog_leaves_out_a_half_written_row_and_prints_it_once_complete(tmp_path: Path) -> None:
    path = new_csv(tmp_path / "log.csv", row(1), row(2, "wörld ✓"))
    third = csv_bytes(row(3, "wörld ✓", "fail"))
    append(path, third[:4])  # `wö` cut inside the two bytes of ö
    watch, notes = watch_of(path)
    assert ids(watch.backlog(10)) == ["r1", "r2"]
    assert watch.poll() == []
    append(path, third[4:-1])  # all but the final LF of the CRLF
    assert watch.poll() == []
    append(path, third[-1:])
    assert [(r.task_name, r.action, r.run_id) for r in watch.poll()] == [("wörld ✓", "fail", "r3")]
    assert watch.poll() == []
    assert notes == []


def test_csv_follow_started_inside_an_open_quoted_field_waits_for_the_row(tmp_path: Path) -> None:
    """A traceback being written when `tail -f` starts: the row's bare LFs are not record ends."""
    path = new_csv(tmp_path / "log.csv", row(1), row(2))
    third = csv_bytes(row(3, "wörld ✓", "fail", exc=TRACEBACK))
    cut = third.index(b"\n") + 1  # just after the first bare LF inside the quoted exc_text
    append(path, third[:cut])
    watch, _ = watch_of(path)
    assert ids(watch.backlog(10)) == ["r1", "r2"]
    assert watch.poll() == []
    append(path, third[cut:] + csv_bytes(row(4)))
    records = watch.poll() + watch.poll()
    assert ids(records) == ["r3", "r4"]
    assert records[0].extra["exc_text"] == TRACEBACK


@pytest.mark.parametrize(
    "cut",
    [
        "inside a multi-byte character",
        "between CR and LF",
        "after a bare LF in a quoted field",
        "before a quote",
    ],
)
def test_csv_row_split_across_two_writes_is_printed_once_whole(tmp_path: Path, cut: str) -> None:
    path = new_csv(tmp_path / "log.csv", row(1))
    watch, notes = watch_of(path)
    assert ids(watch.backlog(5)) == ["r1"]
    data = csv_bytes(row(2, 'say "hi", wörld ✓', "fail", exc=TRACEBACK))
    position = {
        "inside a multi-byte character": data.index("ö".encode()) + 1,
        "between CR and LF": len(data) - 1,
        "after a bare LF in a quoted field": data.index(b"\n") + 1,
        "before a quote": data.index(b'""y""'),
    }[cut]
    append(path, data[:position])
    assert watch.poll() == []
    append(path, data[position:])
    [record] = watch.poll()
    assert (record.task_name, record.action, record.run_id) == ('say "hi", wörld ✓', "fail", "r2")
    assert record.extra["exc_text"] == TRACEBACK
    append(path, csv_bytes(row(3, "日本語のタスク")))
    assert [(r.task_name, r.run_id) for r in watch.poll()] == [("日本語のタスク", "r3")]
    assert notes == []


def test_csv_open_quoted_field_stays_pending_across_many_polls(tmp_path: Path) -> None:
    path = new_csv(tmp_path / "log.csv", row(1))
    watch, _ = watch_of(path)
    data = csv_bytes(row(2, "wörld ✓", "fail", exc=TRACEBACK + "\n" + TRACEBACK))
    pieces = data.split(b"\n")
    for piece in pieces[:-2]:  # each traceback line in its own write, a poll after each
        append(path, piece + b"\n")
        assert watch.poll() == []
    append(path, pieces[-2] + b"\n" + csv_bytes(row(3)))  # the closing quote, CRLF and one more row
    records = watch.poll()
    assert ids(records) == ["r2", "r3"]
    assert records[0].extra["exc_text"] == TRACEBACK + "\n" + TRACEBACK
    assert watch.poll() == []


def test_csv_offset_counts_bytes_not_characters(tmp_path: Path) -> None:
    """Multi-byte task names: a character offset would fall behind and print rows again (or garbage)."""
    path = new_csv(tmp_path / "log.csv", row(0, "日本語のタスク" * 5))
    watch, _ = watch_of(path)
    for number in range(1, 30):
        name = NAMES[number % len(NAMES)] * (1 + number % 4)
        append(path, csv_bytes(row(number, name, exc="✗ ü" * number if number % 3 else "")))
        [record] = watch.poll()
        assert (record.task_name, record.run_id) == (name, f"r{number}")
        if isinstance(watch, CsvWatch):
            assert watch.offset == path.stat().st_size  # bytes: the file's size, not its length in chars
    assert watch.poll() == []


def test_csv_rotation_reads_the_old_file_to_its_end_then_the_new_one_from_its_start(tmp_path: Path) -> None:
    path = new_csv(tmp_path / "log.csv", row(1))
    rotated = tmp_path / "log.csv.1"
    watch, notes = watch_of(path)
    append(path, csv_bytes(row(2)))
    path.rename(rotated)
    append(rotated, csv_bytes(row(3)))  # the writer still had the old file open
    assert ids(watch.poll()) == ["r2", "r3"]  # between the rename and the new file
    append(rotated, csv_bytes(row(4)))
    new_csv(path, row(5, "wörld ✓"), row(6))
    assert ids(watch.poll()) == ["r4", "r5", "r6"]  # the old file's rest first, then the new file
    assert len(notes) == 1, notes
    assert str(path) in notes[0]
    append(path, csv_bytes(row(7)))
    assert ids(watch.poll()) == ["r7"]
    assert watch.poll() == []
    assert len(notes) == 1, notes


def test_csv_rotation_to_a_file_that_only_gets_its_header_later(tmp_path: Path) -> None:
    path = new_csv(tmp_path / "log.csv", row(1))
    watch, notes = watch_of(path)
    path.rename(tmp_path / "log.csv.1")
    path.touch()  # the new file exists, still empty
    assert watch.poll() == []
    append(path, csv_bytes(HEADER))
    append(path, csv_bytes(row(2)))
    assert ids(watch.poll()) == ["r2"]
    assert len(notes) == 1, notes


def test_csv_truncation_restarts_at_the_start_with_one_note_each_time(tmp_path: Path) -> None:
    path = new_csv(tmp_path / "log.csv", *(row(number) for number in range(1, 40)))
    watch, notes = watch_of(path)
    assert ids(watch.backlog(2)) == ["r38", "r39"]
    path.write_bytes(csv_bytes(HEADER, row(40, "wörld ✓"), row(41)))  # truncated and rewritten, same inode
    assert ids(watch.poll()) == ["r40", "r41"]
    assert len(notes) == 1, notes
    assert str(path) in notes[0]
    append(path, csv_bytes(row(42)))
    assert ids(watch.poll()) == ["r42"]
    assert len(notes) == 1, notes

    with path.open("r+b") as file:  # truncated to nothing; the header comes later
        file.truncate(0)
    assert watch.poll() == []
    assert watch.poll() == []
    append(path, csv_bytes(HEADER, row(43)))
    assert ids(watch.poll()) == ["r43"]
    assert len(notes) == 2, notes


def test_csv_new_file_header_is_read_only_once_its_line_is_complete(tmp_path: Path) -> None:
    """After a truncation, a poll that sees `task_name,action,created,ru` must not take it as the header."""
    path = new_csv(tmp_path / "log.csv", *(row(number) for number in range(1, 40)))
    watch, _ = watch_of(path)
    header = csv_bytes(HEADER)
    with path.open("r+b") as file:
        file.truncate(0)
    append(path, header[: header.index(b"run_id") + 2])
    assert watch.poll() == []
    append(path, header[header.index(b"run_id") + 2 :] + csv_bytes(row(40, exc="boom")))
    records = watch.poll()
    assert ids(records) == ["r40"]
    assert records[0].extra["exc_text"] == "boom"


def test_csv_truncated_and_refilled_past_the_old_offset_in_one_poll_loses_nothing(tmp_path: Path) -> None:
    """Same inode, a bigger size than the offset: only the file's first bytes tell it is another log."""
    path = new_csv(tmp_path / "log.csv", *(row(number) for number in range(1, 4)))
    watch, notes = watch_of(path)
    assert ids(watch.backlog(10)) == ["r1", "r2", "r3"]
    refill = [row(number, "wörld ✓", exc=TRACEBACK) for number in range(10, 20)]
    with path.open("r+b") as file:
        file.truncate(0)
        file.write(csv_bytes(HEADER, *refill))
    assert path.stat().st_size > watch.offset  # type: ignore[attr-defined]
    assert ids(watch.poll()) == [f"r{number}" for number in range(10, 20)]
    assert len(notes) == 1, notes
    assert "records may repeat" in notes[0]
    append(path, csv_bytes(row(20)))
    assert ids(watch.poll()) == ["r20"]
    assert len(notes) == 1, notes


def test_csv_refilled_with_the_same_first_rows_keeps_its_place(tmp_path: Path) -> None:
    """Truncated and written again with the same records plus new ones: nothing printed twice."""
    rows = [row(number, exc=TRACEBACK) for number in range(1, 6)]
    path = new_csv(tmp_path / "log.csv", *rows)
    watch, notes = watch_of(path)
    with path.open("r+b") as file:
        file.truncate(0)
        file.write(csv_bytes(HEADER, *rows, row(6), row(7)))
    assert ids(watch.poll()) == ["r6", "r7"]
    assert notes == []


@pytest.mark.parametrize("chunk", [7, 100, 1 << 20])
@pytest.mark.parametrize("how", ["in place", "os.replace"])
def test_csv_rewritten_with_the_oldest_rows_deleted_resumes_after_the_last_record_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, how: str, chunk: int
) -> None:
    monkeypatch.setattr(records, "CHUNK_BYTES", chunk)  # the search for the last records read, chunk by chunk
    rows = [
        row(number, NAMES[number % len(NAMES)], exc=TRACEBACK if number % 3 else "") for number in range(40)
    ]
    path = new_csv(tmp_path / "log.csv", *rows)
    watch, notes = watch_of(path)
    assert ids(watch.backlog(2)) == ["r38", "r39"]
    append(path, csv_bytes(row(40)))
    assert ids(watch.poll()) == ["r40"]
    kept = [*rows[30:], row(40), *(row(number, "日本語のタスク") for number in range(41, 60))]
    data = csv_bytes(HEADER, *kept)  # smaller than before at first, then past the old offset
    if how == "in place":
        path.write_bytes(data)
    else:
        staged = tmp_path / "log.csv.new"
        staged.write_bytes(data)
        os.replace(staged, path)
    assert ids(watch.poll()) == [f"r{number}" for number in range(41, 60)]
    assert len(notes) == 1, notes
    assert "resuming after the last record read" in notes[0]
    append(path, csv_bytes(row(60)))
    assert ids(watch.poll()) == ["r60"]
    assert watch.poll() == []
    assert len(notes) == 1, notes


@pytest.mark.parametrize("chunk", [5, 30, 1 << 20])
def test_csv_rewrite_resumes_after_the_right_copy_of_a_repeated_row(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunk: int
) -> None:
    """The last row read occurs twice in the rewritten file: the records read before it pick the copy."""
    monkeypatch.setattr(records, "CHUNK_BYTES", chunk)
    same = row(5)
    path = new_csv(tmp_path / "log.csv", row(1), row(2), same, row(3), same)
    watch, notes = watch_of(path)
    path.write_bytes(csv_bytes(HEADER, row(2), same, row(3), same, same, row(4)))
    assert ids(watch.poll()) == ["r5", "r4"]  # the second copy of r5 after r3 is where it was; then new rows
    assert len(notes) == 1, notes


@pytest.mark.parametrize("chunk", [5, 1 << 20])
def test_csv_rewrite_does_not_take_a_quoted_copy_of_the_last_row_for_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunk: int
) -> None:
    """The bytes of the last row read, inside a quoted field of another row, are not a record boundary."""
    monkeypatch.setattr(records, "CHUNK_BYTES", chunk)
    last = row(2)
    path = new_csv(tmp_path / "log.csv", row(1), last)
    watch, notes = watch_of(path)
    inside = csv_bytes(last).decode("utf-8")
    path.write_bytes(csv_bytes(HEADER, row(3, exc="\n" + inside), row(4)))
    assert ids(watch.poll()) == ["r3", "r4"]
    assert "records may repeat" in notes[0]


def test_csv_log_replaced_by_a_folder_is_waited_out_then_followed_again(tmp_path: Path) -> None:
    path = new_csv(tmp_path / "log.csv", row(1))
    watch, notes = watch_of(path)
    append(path, csv_bytes(row(2)))
    aside = tmp_path / "aside.csv"
    path.rename(aside)
    path.mkdir()
    append(aside, csv_bytes(row(3)))  # the writer still had the old file open
    assert ids(watch.poll()) == ["r2", "r3"]
    assert ids(watch.poll()) == []
    assert len(notes) == 1, notes
    assert "no longer a file" in notes[0]
    (path / "x.json").write_text("{}", "utf-8")
    assert watch.poll() == []
    assert len(notes) == 1, notes
    shutil.rmtree(path)
    append(aside, csv_bytes(row(4)))
    aside.rename(path)  # the same file back, grown: followed on
    assert ids(watch.poll()) == ["r4"]
    assert len(notes) == 1, notes
    path.unlink()
    path.mkdir()
    assert watch.poll() == []
    assert len(notes) == 2, notes
    path.rmdir()
    new_csv(path, row(3), row(4), row(5))  # another file, holding what was read: resumed after it
    assert ids(watch.poll()) == ["r5"]
    assert len(notes) == 3, notes
    assert "replaced: resuming after the last record read" in notes[2]
    path.unlink()
    path.mkdir()
    assert watch.poll() == []
    path.rmdir()
    new_csv(path, row(6))  # a new log
    assert ids(watch.poll()) == ["r6"]
    assert len(notes) == 5, notes
    assert "following it from its start" in notes[4]


def test_csv_log_replaced_by_a_fifo_is_waited_out_without_opening_it(tmp_path: Path) -> None:
    path = new_csv(tmp_path / "log.csv", row(1))
    watch, notes = watch_of(path)
    path.unlink()
    os.mkfifo(path)
    assert watch.poll() == []  # opening the FIFO would block: it is not opened
    assert len(notes) == 1, notes
    path.unlink()
    new_csv(path, row(1), row(2))
    assert ids(watch.poll()) == ["r2"]


def test_csv_watch_applies_the_query_to_new_records(tmp_path: Path) -> None:
    path = new_csv(tmp_path / "log.csv", row(1, "wörld ✓", "fail", exc=TRACEBACK), row(2))
    query = Query(tasks=("wörld*",), actions=(Action.FAIL,), grep="ünïcödé")
    watch, _ = watch_of(path, query)
    assert ids(watch.backlog(10)) == ["r1"]
    append(path, csv_bytes(row(3, "wörld ✓", "fail", exc="other"), row(4, "wörld ✓", "fail", exc=TRACEBACK),
                           row(5, "wörld ✓", "success", exc=TRACEBACK), row(6, "plain", "fail", exc=TRACEBACK)))  # fmt: skip
    assert ids(watch.poll()) == ["r4"]


@pytest.mark.parametrize("chunk", [7, 64, 500])
def test_csv_backlog_reads_backwards_across_block_boundaries(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunk: int
) -> None:
    rows = [row(n, NAMES[n % len(NAMES)], "fail" if n % 3 else "run", exc=TRACEBACK if n % 3 else "")
            for n in range(60)]  # fmt: skip
    path = new_csv(tmp_path / "log.csv", *rows)
    append(path, csv_bytes(row(60, exc=TRACEBACK))[:30])  # a half-written last row
    monkeypatch.setattr(records, "CHUNK_BYTES", chunk)
    watch, _ = watch_of(path, Query(actions=(Action.FAIL,)))
    expected = [r[3] for r in rows if r[1] == "fail"]
    assert ids(watch.backlog(7)) == expected[-7:]
    assert ids(watch.backlog(1000)) == expected


def test_csv_poll_reads_only_the_appended_bytes(tmp_path: Path) -> None:
    """Each poll costs the new records (and a check of the file's first bytes and of the last record
    read), not the file: count the bytes read through the followed handle."""
    path = new_csv(tmp_path / "log.csv", *(row(n, exc=TRACEBACK) for n in range(3000)))
    watch, _ = watch_of(path)
    assert isinstance(watch, CsvWatch)
    assert watch.file is not None
    counted = CountingReader(watch.file)
    watch.file = counted  # type: ignore[assignment]
    assert watch.poll() == []
    assert counted.bytes_read == 0
    for first in (3000, 3010):
        data = csv_bytes(*(row(n, "wörld ✓") for n in range(first, first + 10)))
        last_read = csv_bytes(row(first - 1, "wörld ✓") if first > 3000 else row(first - 1, exc=TRACEBACK))
        append(path, data)
        before = counted.bytes_read
        assert len(watch.poll()) == 10
        assert counted.bytes_read - before == csv_follow.HEAD_BYTES + len(last_read) + len(data)


class CountingReader:
    """A binary file handle that counts the bytes read through it."""

    def __init__(self, file: IO[bytes]) -> None:
        self.file = file
        self.bytes_read = 0

    def read(self, size: int = -1) -> bytes:
        data = self.file.read(size)
        self.bytes_read += len(data)
        return data

    def seek(self, offset: int, whence: int = 0) -> int:
        return self.file.seek(offset, whence)

    def fileno(self) -> int:
        return self.file.fileno()

    def close(self) -> None:
        self.file.close()


# ----------------------------------------------------------------------------------------------------
# The follow loop on a fake clock
# ----------------------------------------------------------------------------------------------------


def test_follow_loop_prints_each_record_once_within_one_interval(tmp_path: Path) -> None:
    path = new_csv(tmp_path / "log.csv", row(1))
    watch, notes = watch_of(path)
    clock = FakeClock()
    split = csv_bytes(row(5, "wörld ✓", "fail", exc=TRACEBACK))
    clock.at(0.1, lambda: append(path, csv_bytes(row(2))), "r2")
    clock.at(0.3, lambda: append(path, csv_bytes(row(3), row(4, "日本語のタスク"))), "r3", "r4")
    clock.at(0.6, lambda: append(path, split[:40]))
    clock.at(1.4, lambda: append(path, split[40:]), "r5")
    clock.at(
        2.05,
        lambda: append(path, csv_bytes(*(row(n) for n in range(6, 506)))),
        *(f"r{n}" for n in range(6, 506)),
    )
    emitted = drive(watch, clock, interval=0.25, polls=12)
    assert emitted == len(clock.emitted) == 504
    assert ids(record for _, record in clock.emitted) == [f"r{n}" for n in range(2, 506)]
    assert clock.sleeps == [0.25] * 12
    assert all(0 <= latency <= 0.25 for latency in clock.latencies().values()), clock.latencies()
    assert notes == []


def test_follow_loop_lets_ctrl_c_through_after_the_records_it_had(tmp_path: Path) -> None:
    path = new_csv(tmp_path / "log.csv", row(1))
    watch, _ = watch_of(path)
    clock = FakeClock()
    clock.at(0.1, lambda: append(path, csv_bytes(row(2))), "r2")
    clock.interrupt_after = 3
    with pytest.raises(KeyboardInterrupt):
        drive(watch, clock, interval=0.5)
    assert ids(record for _, record in clock.emitted) == ["r2"]


def test_tail_follow_ends_with_exit_0_on_ctrl_c(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The command in-process: the backlog, the new records, then Ctrl-C ends it quietly with 0."""
    path = new_csv(tmp_path / "log.csv", row(1), row(2, "wörld ✓"), row(3))
    clock = FakeClock()
    clock.at(0.1, lambda: append(path, csv_bytes(row(4, exc=TRACEBACK))), "r4")
    clock.interrupt_after = 4
    stdout, stderr = io.StringIO(), io.StringIO()
    env = Environment(stdout, stderr, io.StringIO(), is_terminal=False, columns=None, sleep=clock.sleep)
    code = cli.run(["tail", "-f", "-n", "2", "-r", str(path), "-o", "jsonl"], env)
    assert code == 0, stderr.getvalue()
    assert [json.loads(line)["run_id"] for line in stdout.getvalue().splitlines()] == ["r2", "r3", "r4"]
    assert stderr.getvalue() == ""


# ----------------------------------------------------------------------------------------------------
# SQL watch
# ----------------------------------------------------------------------------------------------------

ROWID_DDL = "CREATE TABLE tasks (task_name TEXT, action TEXT, created FLOAT, run_id TEXT)"
TEXT_KEY_DDL = "CREATE TABLE tasks (id TEXT PRIMARY KEY, task_name TEXT, action TEXT, created FLOAT, run_id TEXT) WITHOUT ROWID"


def keyed(
    number: int, task: str = "plain", action: str = "run", *, created: float | None = None
) -> dict[str, Any]:
    """A row for a table keyed by a random text id (no order in the key)."""
    return {"id": uuid.uuid4().hex, **sql_row(number, task, action, created=created)}


def test_sql_rowid_table_follows_by_rowid(tmp_path: Path) -> None:
    path = tmp_path / "log.db"
    connection = sqlite_table(path, ROWID_DDL)
    insert(connection, *(sql_row(n) for n in range(1, 6)))
    watch, notes = sql_watch(path)
    assert ids(watch.backlog(2)) == ["r4", "r5"]
    assert watch.poll() == []
    burst = [sql_row(n, NAMES[n % len(NAMES)], created=T0 + 100) for n in range(6, 506)]  # equal timestamps
    insert(connection, *burst)
    insert(connection, sql_row(506, "late", "success", created=T0 - 3600))  # written an hour late
    assert ids(watch.poll()) == [f"r{n}" for n in range(6, 507)]
    assert watch.poll() == []
    insert(connection, sql_row(507, created=T0 + 100))
    assert ids(watch.poll()) == ["r507"]
    assert notes == []


def test_sql_integer_primary_key_of_the_real_fixture(tmp_path: Path) -> None:
    path = tmp_path / "task_run.db"
    shutil.copy(ROCKETRY / "task_run.db", path)
    watch, _ = sql_watch(path, query=Query(actions=(Action.FAIL, Action.CRASH)))
    connection = sqlite3.connect(path, isolation_level=None)
    _CLEANUPS.append(connection.close)
    expected = [run_id for (run_id,) in connection.execute(
        "SELECT run_id FROM tasks WHERE action IN ('fail', 'crash') ORDER BY id")]  # fmt: skip
    assert ids(watch.backlog(4)) == expected[-4:]
    insert(connection, sql_row(1, "fails", "fail", created=T0), sql_row(2, "fails", "success", created=T0),
           sql_row(3, "long_running", "crash", created=T0 - 86_400))  # fmt: skip
    assert ids(watch.poll()) == ["r1", "r3"]
    assert watch.poll() == []


def test_sql_without_rowid_integer_key_is_followed_exactly_once(tmp_path: Path) -> None:
    """SQLite refuses AUTOINCREMENT on a WITHOUT ROWID table; an integer key the writer counts up is
    followed too (here by `created` with the overlap): equal timestamps and late rows once each."""
    path = tmp_path / "log.db"
    connection = sqlite_table(
        path,
        "CREATE TABLE tasks (id INTEGER PRIMARY KEY, task_name TEXT, action TEXT, created FLOAT, run_id TEXT)"
        " WITHOUT ROWID",
    )
    with pytest.raises(sqlite3.OperationalError, match="AUTOINCREMENT"):
        connection.execute("CREATE TABLE other (id INTEGER PRIMARY KEY AUTOINCREMENT, x TEXT) WITHOUT ROWID")
    insert(connection, {"id": 1, **sql_row(1)})
    watch, _ = sql_watch(path, overlap=5)
    assert ids(watch.backlog(5)) == ["r1"]
    seen: list[str | None] = []
    for batch in range(2, 12):
        insert(connection, {"id": batch * 10, **sql_row(batch * 10, created=T0 + batch)},
               {"id": batch * 10 + 1, **sql_row(batch * 10 + 1, "wörld ✓", created=T0 + batch)})  # fmt: skip
        if batch % 3 == 0:
            insert(
                connection, {"id": batch * 10 + 2, **sql_row(batch * 10 + 2, "late", created=T0 + batch - 4)}
            )
        seen += ids(watch.poll())
    expected = [run_id for (run_id,) in connection.execute("SELECT run_id FROM tasks WHERE id > 1")]
    assert sorted(map(str, seen)) == sorted(expected)
    assert len(seen) == len(set(seen))


def test_sql_autoincrement_primary_key_is_a_high_water_mark(tmp_path: Path) -> None:
    """An integer key the database numbers (as PostgreSQL and MySQL report an autoincrement key) on a
    table without SQLite's rowid: a row written an hour late is still printed, once."""
    path = tmp_path / "log.db"
    connection = sqlite_table(
        path,
        "CREATE TABLE tasks (id INTEGER PRIMARY KEY, task_name TEXT, action TEXT, created FLOAT, run_id TEXT)"
        " WITHOUT ROWID",
    )
    insert(connection, {"id": 1, **sql_row(1)})
    source = open_source(str(path), OpenOptions())
    assert isinstance(source, SqlSource)
    _CLEANUPS.append(source.close)
    # what reflection says on a server with an autoincrement key
    source.shape = dataclasses.replace(source.shape, serial_key=source.table.c.id)
    notes: list[str] = []
    watch = SqlWatch(source, Query(), None, notes.append, overlap=5)
    assert ids(watch.backlog(5)) == ["r1"]
    insert(connection, {"id": 2, **sql_row(2)}, {"id": 3, **sql_row(3, created=T0 - 3600)})
    assert ids(watch.poll()) == ["r2", "r3"]
    assert watch.poll() == []
    assert notes == []


def test_sql_without_a_key_uses_created_with_overlap_and_never_prints_twice(tmp_path: Path) -> None:
    path = tmp_path / "log.db"
    connection = sqlite_table(path, TEXT_KEY_DDL)
    insert(connection, keyed(1, "a", created=T0), keyed(2, "b", created=T0))
    watch, notes = sql_watch(path, overlap=5)
    assert sorted(map(str, ids(watch.backlog(10)))) == ["r1", "r2"]
    insert(connection, keyed(3, "c", created=T0))  # the same timestamp as the high-water mark
    assert ids(watch.poll()) == ["r3"]
    insert(connection, keyed(4, "d", created=T0 + 3), keyed(5, "e", created=T0 + 3))
    assert sorted(map(str, ids(watch.poll()))) == ["r4", "r5"]
    insert(connection, keyed(6, "process_ok", "success", created=T0 + 1))  # late, within the overlap
    insert(connection, keyed(7, "f", created=T0 + 3))  # equal to the mark, in a later poll
    assert sorted(map(str, ids(watch.poll()))) == ["r6", "r7"]
    for _ in range(3):
        assert watch.poll() == []  # the overlap is read again, nothing is printed twice
    assert notes == []


def test_sql_without_a_key_prints_distinct_rows_with_equal_shown_values(tmp_path: Path) -> None:
    """Two rows of a keyed table that differ only in columns not shown (their key): both are new records.
    `tail -f` shows created, task_name, action, run_id by default, so this is the plain-output case."""
    path = tmp_path / "log.db"
    connection = sqlite_table(path, TEXT_KEY_DDL)
    insert(connection, keyed(0, created=T0))
    watch, _ = sql_watch(path, fields=CORE_FIELDS, overlap=5)
    twin = {"task_name": "tick", "action": "run", "created": T0 + 1, "run_id": None}
    insert(connection, {"id": "a", **twin})
    assert len(watch.poll()) == 1
    insert(connection, {"id": "b", **twin})  # a second row, a second record
    assert len(watch.poll()) == 1


def test_sql_without_a_key_loses_no_row_committed_while_the_watch_starts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A writer commits between the watch reading its high-water mark and it reading the overlap."""
    path = tmp_path / "log.db"
    connection = sqlite_table(path, TEXT_KEY_DDL)
    insert(connection, keyed(1, created=T0))
    scalar = SqlSource.scalar

    def scalar_then_a_commit(self: SqlSource, statement: Any) -> Any:
        value = scalar(self, statement)
        monkeypatch.setattr(SqlSource, "scalar", scalar)
        insert(connection, keyed(2, "racer", created=T0 + 0.5))
        return value

    monkeypatch.setattr(SqlSource, "scalar", scalar_then_a_commit)
    watch, _ = sql_watch(path, overlap=5)
    printed = ids(watch.backlog(10)) + ids(watch.poll()) + ids(watch.poll())
    assert printed == ["r1", "r2"]


def test_sql_created_text_primary_key_backlog(tmp_path: Path) -> None:
    """`created` as the TEXT primary key (minimal.db's `PRIMARY KEY (created)`, but WITHOUT ROWID, so no
    growing key), holding Python's repr of the epoch float: the backlog has the latest rows."""
    path = tmp_path / "log.db"
    connection = sqlite_table(
        path,
        "CREATE TABLE logs (task_name TEXT NOT NULL, action TEXT NOT NULL, created TEXT NOT NULL,"
        " run_id TEXT, PRIMARY KEY (created)) WITHOUT ROWID",
    )
    moments = [T0 + 0.1234549, T0 + 1.9135685, T0 + 2.8201303]  # 17 significant digits, as Rocketry's
    insert(connection, *({"task_name": "t", "action": "run", "created": repr(moment), "run_id": f"r{n}"}
                         for n, moment in enumerate(moments)), table="logs")  # fmt: skip
    watch, _ = sql_watch(path, overlap=5)
    assert ids(watch.backlog(10)) == ["r0", "r1", "r2"]


def test_sql_created_text_primary_key_follow(tmp_path: Path) -> None:
    path = tmp_path / "log.db"
    connection = sqlite_table(
        path,
        "CREATE TABLE logs (task_name TEXT NOT NULL, action TEXT NOT NULL, created TEXT NOT NULL,"
        " run_id TEXT, PRIMARY KEY (created)) WITHOUT ROWID",
    )
    insert(connection, {"task_name": "t", "action": "run", "created": repr(T0), "run_id": "r0"}, table="logs")
    watch, _ = sql_watch(path, overlap=5)
    printed: list[str | None] = []
    for n in range(1, 8):
        late = {"task_name": "late", "action": "success", "created": repr(T0 + n - 2.5), "run_id": f"late{n}"}
        insert(connection, {"task_name": "t", "action": "run", "created": repr(T0 + n + 0.0123456), "run_id": f"r{n}"},
               late, table="logs")  # fmt: skip
        printed += ids(watch.poll())
    assert Counter(printed) == Counter([f"r{n}" for n in range(1, 8)] + [f"late{n}" for n in range(1, 8)])


def test_sql_created_as_sql_timestamps(tmp_path: Path) -> None:
    """`created` stored as SQL DATETIME (naive, in the repo's zone: UTC here) in a keyless table."""
    path = tmp_path / "log.db"
    connection = sqlite_table(
        path,
        "CREATE TABLE tasks (id TEXT PRIMARY KEY, task_name TEXT, action TEXT, created DATETIME, run_id TEXT)"
        " WITHOUT ROWID",
    )
    moment = datetime(2026, 11, 21, 12, 0, 0, 123456)
    insert(
        connection, {"id": "k1", "task_name": "t", "action": "run", "created": str(moment), "run_id": "r1"}
    )
    watch, _ = sql_watch(path, overlap=5)
    assert ids(watch.backlog(5)) == ["r1"]
    insert(connection, {"id": "k2", "task_name": "t", "action": "success", "created": str(moment), "run_id": "r2"},
           {"id": "k3", "task_name": "p", "action": "run", "created": "2026-11-21 11:59:58.5", "run_id": "r3"})  # fmt: skip
    assert ids(watch.poll()) == ["r3", "r2"]  # created order
    assert watch.poll() == []


def test_sql_lost_connection_says_so_once_backs_off_and_loses_nothing(tmp_path: Path) -> None:
    path = tmp_path / "log.db"
    connection = sqlite_table(path, ROWID_DDL)
    insert(connection, sql_row(1))
    clock = FakeClock()
    watch, notes = sql_watch(path, clock=lambda: clock.now)
    attempts: list[float] = []
    poll_keyed = watch._poll_keyed

    def counted() -> list[Record]:
        attempts.append(clock.now)
        return poll_keyed()

    watch._poll_keyed = counted  # type: ignore[method-assign]
    good: list[bytes] = []

    def break_file() -> None:
        insert(connection, sql_row(2))
        good.append(path.read_bytes())
        path.write_bytes(b"this is not a database any more " * 256)  # in place: the same inode

    clock.at(0.35, break_file, "r2")
    clock.at(4.0, lambda: path.write_bytes(good[0]))
    clock.at(4.3, lambda: insert(connection, sql_row(3)), "r3")
    drive(watch, clock, interval=0.1, polls=60)
    assert ids(record for _, record in clock.emitted) == ["r2", "r3"]
    lost = [note for note in notes if note.startswith("lost")]
    assert len(lost) == 1, notes
    assert str(path) in lost[0]
    assert len(notes) <= 2, notes  # at most a "reconnected" besides
    during = [moment for moment in attempts if 0.35 < moment < 4.0]
    assert len(during) <= 6, during  # backing off, not 36 attempts
    latency = clock.latencies()
    assert latency["r3"] <= 0.1 + 1e-6  # back to polling every interval
    assert latency["r2"] < 8.0  # the first retry after the file is back


# ----------------------------------------------------------------------------------------------------
# JSON dumps and folders: read again on change
# ----------------------------------------------------------------------------------------------------


def json_item(number: int, task: str = "plain", action: str = "run") -> dict[str, Any]:
    return {"task_name": task, "action": action, "created": T0 + number, "run_id": f"r{number}"}


def test_json_dump_is_read_again_on_change(tmp_path: Path) -> None:
    path = tmp_path / "memory.json"
    items = [json_item(1), json_item(2, "wörld ✓")]
    path.write_text(json.dumps(items), "utf-8")
    watch, _ = watch_of(path)
    assert ids(watch.backlog(1)) == ["r2"]
    assert watch.poll() == []
    items += [json_item(3), json_item(2, "wörld ✓")]  # a new record equal to an old one is new all the same
    path.write_text(json.dumps(items), "utf-8")
    assert Counter(ids(watch.poll())) == Counter(["r3", "r2"])
    assert watch.poll() == []
    path.write_text(json.dumps(items)[:-20], "utf-8")  # caught while being rewritten
    assert watch.poll() == []
    items.append(json_item(4))
    path.write_text(json.dumps(items), "utf-8")
    assert ids(watch.poll()) == ["r4"]


def test_json_dump_prints_new_records_in_store_order(tmp_path: Path) -> None:
    """A record equal to an old one, appended after another new one: the two come out in the order the
    dump holds them (the appended copy is the new one, not the old copy near the top)."""
    path = tmp_path / "memory.json"
    items = [json_item(1), json_item(2)]
    path.write_text(json.dumps(items), "utf-8")
    watch, _ = watch_of(path)
    items += [json_item(3), json_item(1)]
    path.write_text(json.dumps(items), "utf-8")
    assert ids(watch.poll()) == ["r3", "r1"]


def test_json_lines_dump_is_read_again_on_change(tmp_path: Path) -> None:
    path = tmp_path / "memory.jsonl"
    path.write_text(json.dumps(json_item(1)) + "\n", "utf-8")
    watch, _ = watch_of(path, Query(actions=(Action.FAIL,)))
    assert watch.backlog(5) == []
    with path.open("a", encoding="utf-8") as file:
        file.write(json.dumps(json_item(2, action="fail")) + "\n" + json.dumps(json_item(3)) + "\n")
    assert ids(watch.poll()) == ["r2"]
    assert watch.poll() == []


def test_json_folder_is_read_again_on_change(tmp_path: Path) -> None:
    folder = tmp_path / "records"
    folder.mkdir()
    (folder / "a.json").write_text(json.dumps(json_item(5)), "utf-8")
    watch, _ = watch_of(folder)
    assert ids(watch.backlog(5)) == ["r5"]
    (folder / "b.json").write_text(json.dumps(json_item(7, "wörld ✓", "fail")), "utf-8")
    (folder / "c.json").write_text(json.dumps(json_item(3, "late")), "utf-8")  # older than the others
    assert sorted(map(str, ids(watch.poll()))) == ["r3", "r7"]
    assert watch.poll() == []
    (folder / "d.json").write_text(json.dumps(json_item(8)), "utf-8")
    assert ids(watch.poll()) == ["r8"]


# ----------------------------------------------------------------------------------------------------
# Memory stays flat over many polls (CSV and SQL)
# ----------------------------------------------------------------------------------------------------


def grown_memory(watch: Watch, write: Callable[[int], None], polls: int) -> tuple[int, int]:
    """Poll `polls` times writing a few records before each; the traced memory growth over the second
    half, and the records printed."""
    printed = 0
    tracemalloc.start()
    try:
        middle = 0
        for number in range(polls):
            write(number)
            printed += len(watch.poll())
            if number == polls // 2:
                middle = tracemalloc.get_traced_memory()[0]
        return tracemalloc.get_traced_memory()[0] - middle, printed
    finally:
        tracemalloc.stop()


def test_memory_stays_flat_while_following_csv(tmp_path: Path) -> None:
    path = new_csv(tmp_path / "log.csv", row(0))
    watch, _ = watch_of(path)
    growth, printed = grown_memory(
        watch, lambda n: append(path, csv_bytes(*(row(n * 5 + k, exc=TRACEBACK) for k in range(5)))), 400
    )
    assert printed == 2000
    assert growth < 100_000, growth


def test_memory_stays_flat_while_following_csv_through_rewrites(tmp_path: Path) -> None:
    """Every 40 polls the log is rewritten with its oldest rows deleted (as a log trimmer does)."""
    path = new_csv(tmp_path / "log.csv", row(0))
    watch, notes = watch_of(path)
    written: list[Row] = [row(0)]

    def write(number: int) -> None:
        fresh = [row(number * 5 + k, exc=TRACEBACK) for k in range(1, 6)]
        written.extend(fresh)
        if number % 40 == 39:
            del written[:-20]
            path.write_bytes(csv_bytes(HEADER, *written))
        else:
            append(path, csv_bytes(*fresh))

    growth, printed = grown_memory(watch, write, 400)
    assert printed == 2000
    assert len(notes) == 10, notes
    assert growth < 100_000, growth


@pytest.mark.parametrize("ddl", [ROWID_DDL, TEXT_KEY_DDL], ids=["rowid", "created"])
def test_memory_stays_flat_while_following_sqlite(tmp_path: Path, ddl: str) -> None:
    path = tmp_path / "log.db"
    connection = sqlite_table(path, ddl)
    make = keyed if ddl is TEXT_KEY_DDL else sql_row
    insert(connection, make(0))
    watch, _ = sql_watch(path, overlap=5)

    def write(number: int) -> None:
        insert(connection, *(make(number * 5 + k, created=T0 + number) for k in range(5)))

    growth, printed = grown_memory(watch, write, 400)
    assert printed == 2000
    assert growth < 150_000, growth


class CountingRowReader(RowReader):
    converted = 0

    def __call__(self, row: Any) -> Record:
        CountingRowReader.converted += 1
        return super().__call__(row)


@pytest.mark.parametrize("ddl", [ROWID_DDL, TEXT_KEY_DDL], ids=["rowid", "created"])
def test_sql_poll_reads_the_new_rows_not_the_table(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, ddl: str
) -> None:
    path = tmp_path / "log.db"
    connection = sqlite_table(path, ddl)
    make = keyed if ddl is TEXT_KEY_DDL else sql_row
    insert(connection, *(make(n, created=T0 + n / 1000) for n in range(5000)))  # 5 s of history
    watch, _ = sql_watch(path, overlap=1)
    monkeypatch.setattr("tasklog_cli.sources.sql.rows.RowReader", CountingRowReader)
    assert watch.poll() == []
    insert(connection, *(make(n, created=T0 + 10) for n in range(5000, 5010)))
    CountingRowReader.converted = 0
    assert len(watch.poll()) == 10
    assert CountingRowReader.converted <= 10 + 1001  # the new rows (and at most the overlap's worth)
    CountingRowReader.converted = 0
    assert watch.poll() == []
    assert CountingRowReader.converted <= 10  # the overlap now holds only the new rows


# ----------------------------------------------------------------------------------------------------
# `tail -n`: the last N of `ls`
# ----------------------------------------------------------------------------------------------------

FIXTURES = [
    "task_run.csv",
    "run.csv",
    "minimal_run.csv",
    "minimal.csv",
    "task_run.db",
    "minimal.db",
    "memory.json",
]
FILTERS: list[tuple[str, ...]] = [
    (),
    ("-a", "fail"),
    ("-t", "process_*", "-a", "success"),
    ("-t", 'fails, "loudly" ✗'),
    ("-t", 'say "hi", wörld ✓', "-t", "long_running"),
    ("-a", "crash", "-a", "terminate"),
    ("-g", "503|ünïcödé"),
]


def invoke(*args: str) -> tuple[int, list[str]]:
    """Exit code and stdout lines of an in-process run."""
    result = CliRunner().invoke(cli.app, list(args))
    return result.exit_code, result.stdout.splitlines()


@pytest.mark.parametrize("fixture", FIXTURES)
def test_tail_n_is_the_last_n_of_ls_on_the_real_fixtures(fixture: str) -> None:
    spec = str(ROCKETRY / fixture)
    for filters in FILTERS:
        code, everything = invoke("ls", "-r", spec, *filters, "-o", "jsonl")
        assert code in (0, 1) or (code == 2 and "-g" in filters and "minimal" in fixture), (filters, code)
        for count in (1, 7, 400):
            assert invoke("tail", "-r", spec, "-n", str(count), *filters, "-o", "jsonl") == (
                code,
                everything[-count:],
            ), (filters, count)
    assert invoke("tail", "-r", spec, "-o", "jsonl")[1] == invoke("ls", "-r", spec, "-o", "jsonl")[1][-10:]


@pytest.mark.parametrize("chunk", [5, 64, 257, 4096])
def test_tail_n_with_tracebacks_at_block_boundaries(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunk: int
) -> None:
    rows = [row(n, NAMES[n % len(NAMES)], ("run", "fail", "success")[n % 3],
                exc=(TRACEBACK + "\n") * (n % 4) if n % 3 == 1 else "") for n in range(200)]  # fmt: skip
    path = new_csv(tmp_path / "log.csv", *rows)
    monkeypatch.setattr(records, "CHUNK_BYTES", chunk)
    cases: list[tuple[tuple[str, ...], list[Row]]] = [
        ((), rows),
        (("-a", "fail"), [r for r in rows if r[1] == "fail"]),
        (("-t", "*wörld*"), [r for r in rows if "wörld" in r[0]]),
        (("-g", "ünïcödé", "-a", "fail"), [r for r in rows if "ünïcödé" in r[4] and r[1] == "fail"]),
    ]
    for filters, expected in cases:
        for count in (1, 3, 25, 1000):
            lines = invoke("tail", "-r", str(path), "-n", str(count), *filters, "-o", "jsonl")[1]
            got = [
                (item["task_name"], item["run_id"], item["exc_text"] or "") for item in map(json.loads, lines)
            ]
            assert got == [(r[0], r[3], r[4]) for r in expected[-count:]], (filters, count)


def test_tail_n_includes_a_last_row_without_its_line_end(tmp_path: Path) -> None:
    path = new_csv(tmp_path / "log.csv", row(1), row(2))
    append(path, csv_bytes(row(3, "wörld ✓"))[:-2])
    lines = invoke("tail", "-r", str(path), "-n", "2", "-o", "jsonl")[1]
    assert [json.loads(line)["run_id"] for line in lines] == ["r2", "r3"]


def test_tail_n_on_csv_reads_back_to_the_nth_match_not_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = [row(n, NAMES[n % len(NAMES)], exc=TRACEBACK if n % 5 == 0 else "") for n in range(20_000)]
    rows[100] = row(100, "long_running", "crash")  # the only crash, near the start
    path = new_csv(tmp_path / "log.csv", *rows)
    monkeypatch.setattr(records, "CHUNK_BYTES", 16_384)
    chunks = len(path.read_bytes()) // 16_384
    backward = records.read_chunks_backward
    taken: list[int] = []

    def counted(path: Path, start: int, end: int) -> Iterator[records.Chunk]:
        for chunk in backward(path, start, end):
            taken.append(len(chunk.texts))
            yield chunk

    monkeypatch.setattr(records, "read_chunks_backward", counted)
    lines = invoke("tail", "-r", str(path), "-n", "10", "-o", "jsonl")[1]
    assert [json.loads(line)["run_id"] for line in lines] == [f"r{n}" for n in range(19_990, 20_000)]
    assert len(taken) <= 2 < chunks
    taken.clear()
    lines = invoke("tail", "-r", str(path), "-n", "1", "-a", "crash", "-o", "jsonl")[1]
    assert [json.loads(line)["run_id"] for line in lines] == ["r100"]
    assert len(taken) >= chunks - 1  # the one match is at the start: the whole file was read


def test_tail_n_on_sqlite_reads_n_rows(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "log.db"
    connection = sqlite_table(path, ROWID_DDL)
    insert(
        connection,
        *(sql_row(n, NAMES[n % len(NAMES)], "fail" if n % 9 == 0 else "run") for n in range(20_000)),
    )
    monkeypatch.setattr("tasklog_cli.sources.sql.rows.RowReader", CountingRowReader)
    CountingRowReader.converted = 0
    lines = invoke("tail", "-r", str(path), "-n", "10", "-a", "fail", "-o", "jsonl")[1]
    assert [json.loads(line)["run_id"] for line in lines] == [f"r{n}" for n in range(19_998 - 81, 20_000, 9)]
    assert CountingRowReader.converted == 10  # ORDER BY ... DESC LIMIT 10 in the database


# ----------------------------------------------------------------------------------------------------
# End to end: `tasklog tail -f` subprocesses against writers in other processes
# ----------------------------------------------------------------------------------------------------

CSV_WRITER = """
import csv, json, sys, time
rows, bursts, pause = json.load(open(sys.argv[2], encoding="utf-8")), int(sys.argv[3]), float(sys.argv[4])
size = -(-len(rows) // bursts)
with open(sys.argv[1], "a", newline="", encoding="utf-8", buffering=1000) as file:
    writer = csv.writer(file)
    for start in range(0, len(rows), size):
        writer.writerows(rows[start:start + size])
        file.flush()
        time.sleep(pause)
"""

REDBIRD_WRITER = """
import json, sys
from tasklog_cli.sources.redbird import load_redbird
repo = load_redbird().repos.CSVFileRepo(filename=sys.argv[1], fieldnames=json.loads(sys.argv[2]))
for item in json.load(open(sys.argv[3], encoding="utf-8")):
    repo.add(item)
"""

BYTES_WRITER = """
import sys, time
mode, pause = sys.argv[2], float(sys.argv[3])
with open(sys.argv[1], mode, buffering=0) as file:
    for number, part in enumerate(sys.argv[4:]):
        if number:
            time.sleep(pause)
        file.write(bytes.fromhex(part))
"""

SQLITE_WRITER = """
import json, sqlite3, sys, time
connection = sqlite3.connect(sys.argv[1], timeout=30, isolation_level=None)
batches, pause = json.load(open(sys.argv[2], encoding="utf-8")), float(sys.argv[3])
for batch in batches:
    connection.execute("BEGIN IMMEDIATE")
    for values in batch:
        names = ", ".join(values)
        connection.execute(f"INSERT INTO tasks ({names}) VALUES ({', '.join('?' * len(values))})",
                           tuple(values.values()))
    connection.execute("COMMIT")
    time.sleep(pause)
"""


def run_writer(script: str, *args: str, timeout: float = 30) -> None:
    """Run a writer in its own process to its end."""
    result = subprocess.run(
        [sys.executable, "-c", script, *args], capture_output=True, text=True, timeout=timeout, check=False
    )
    assert result.returncode == 0, result.stderr


def dump(path: Path, data: Any) -> str:
    path.write_text(json.dumps(data), "utf-8")
    return str(path)


class Follower:
    """A `tasklog tail -f` subprocess; its stdout and stderr lines are collected as they arrive."""

    def __init__(self, *args: str, unbuffered: bool = True) -> None:
        env = dict(os.environ, PYTHONUTF8="1")
        env.pop("PYTHONUNBUFFERED", None)
        if unbuffered:
            env["PYTHONUNBUFFERED"] = "1"
        self.process = subprocess.Popen(
            [*TASKLOG, "tail", "-f", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env
        )
        self.lines: queue.Queue[tuple[float, str]] = queue.Queue()
        self.errors: list[str] = []
        assert self.process.stdout is not None
        assert self.process.stderr is not None
        self.threads = [
            threading.Thread(target=self._pump, args=(self.process.stdout, self.lines.put), daemon=True),
            threading.Thread(
                target=self._pump,
                args=(self.process.stderr, lambda item: self.errors.append(item[1])),
                daemon=True,
            ),
        ]
        for thread in self.threads:
            thread.start()

    @staticmethod
    def _pump(stream: IO[bytes], sink: Callable[[tuple[float, str]], None]) -> None:
        for raw in iter(stream.readline, b""):
            sink((time.monotonic(), raw.decode("utf-8")))

    def take(self, count: int, timeout: float = 20.0) -> list[tuple[float, str]]:
        """The next `count` lines, with when each arrived; fails after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        taken: list[tuple[float, str]] = []
        while len(taken) < count:
            try:
                taken.append(self.lines.get(timeout=max(0.01, min(0.2, deadline - time.monotonic()))))
            except queue.Empty:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    pytest.fail(
                        f"got {len(taken)} of {count} lines (exit {self.process.poll()}); "
                        f"last: {taken[-3:]}; stderr: {''.join(self.errors)}"
                    )
        return taken

    def records(self, count: int, timeout: float = 20.0) -> list[dict[str, Any]]:
        return [json.loads(line) for _, line in self.take(count, timeout)]

    def quiet(self, seconds: float) -> list[str]:
        """Lines that arrive within `seconds` (none expected)."""
        time.sleep(seconds)
        extra: list[str] = []
        while not self.lines.empty():
            extra.append(self.lines.get()[1])
        return extra

    def wait_for_note(self, text: str, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while not any(text in line for line in self.errors):
            if time.monotonic() > deadline or self.process.poll() is not None:
                pytest.fail(f"no note {text!r} on stderr: {self.errors}")
            time.sleep(0.02)

    def interrupt(self) -> int:
        """Ctrl-C: the exit code."""
        self.process.send_signal(signal.SIGINT)
        code = self.process.wait(timeout=10)
        for thread in self.threads:
            thread.join(timeout=5)
        return code

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)


@pytest.fixture
def spawn() -> Iterator[Callable[..., Follower]]:
    """Start followers; whatever is still running at the end is killed."""
    started: list[Follower] = []

    def start(*args: str, unbuffered: bool = True) -> Follower:
        follower = Follower(*args, unbuffered=unbuffered)
        started.append(follower)
        return follower

    yield start
    for follower in started:
        follower.close()


def assert_ended_by_ctrl_c(follower: Follower) -> None:
    assert follower.interrupt() == 0, "".join(follower.errors)
    assert "Traceback" not in "".join(follower.errors)
    assert not any("error" in line for line in follower.errors), follower.errors


def shown(item: dict[str, Any]) -> tuple[str, str, str, str]:
    return item["task_name"], item["action"], item["run_id"], item["exc_text"] or ""


def test_e2e_csv_writers_every_record_once_and_in_order(
    tmp_path: Path, spawn: Callable[..., Follower]
) -> None:
    path = new_csv(tmp_path / "log.csv", row(1), row(2), row(3, "wörld ✓"))
    follower = spawn("--interval", "0.1", "-n", "2", "-o", "jsonl", "-r", str(path))
    assert [item["run_id"] for item in follower.records(2)] == ["r2", "r3"]
    written: list[Row] = []

    burst = [row(n, NAMES[n % len(NAMES)], "fail" if n % 7 == 0 else "run", exc=TRACEBACK if n % 7 == 0 else "")
             for n in range(10, 510)]  # fmt: skip
    run_writer(CSV_WRITER, str(path), dump(tmp_path / "burst.json", burst), "5", "0.05")
    written += burst
    assert [shown(item) for item in follower.records(500)] == [(r[0], r[1], r[3], r[4]) for r in burst]

    items = [
        dict(zip(HEADER, row(n, NAMES[n % len(NAMES)], "fail", exc=TRACEBACK), strict=True))
        for n in range(600, 620)
    ]
    run_writer(REDBIRD_WRITER, str(path), json.dumps(HEADER), dump(tmp_path / "items.json", items))
    assert [shown(item) for item in follower.records(20)] == [
        (item["task_name"], "fail", item["run_id"], TRACEBACK) for item in items
    ]

    split = csv_bytes(row(700, 'say "hi", wörld ✓', "fail", exc=TRACEBACK))
    cuts = [split.index("ö".encode()) + 1, split.index(b"\n") + 1, len(split) - 1]
    parts = [split[start:end] for start, end in zip([0, *cuts], [*cuts, len(split)], strict=True)]
    run_writer(BYTES_WRITER, str(path), "ab", "0.3", *(part.hex() for part in parts))
    [item] = follower.records(1)
    assert shown(item) == ('say "hi", wörld ✓', "fail", "r700", TRACEBACK)

    fresh = [row(n, NAMES[n % len(NAMES)], exc=TRACEBACK if n % 2 else "") for n in range(800, 805)]
    run_writer(BYTES_WRITER, str(path), "wb", "0", csv_bytes(HEADER, *fresh).hex())  # truncated, rewritten
    assert [shown(item) for item in follower.records(5)] == [(r[0], r[1], r[3], r[4]) for r in fresh]
    assert follower.quiet(0.4) == []
    assert_ended_by_ctrl_c(follower)
    notes = [line for line in follower.errors if str(path) in line]
    assert len(notes) == 1, follower.errors
    assert len(follower.errors) == 1, follower.errors


def test_e2e_sqlite_rowid_table_bursts_equal_timestamps_and_late_rows(
    tmp_path: Path, spawn: Callable[..., Follower]
) -> None:
    path = tmp_path / "log.db"
    connection = sqlite_table(path, ROWID_DDL)
    insert(connection, *(sql_row(n) for n in range(1, 4)))
    follower = spawn("--interval", "0.1", "-n", "2", "-o", "jsonl", "-r", str(path))
    assert [item["run_id"] for item in follower.records(2)] == ["r2", "r3"]
    batches = [
        [sql_row(b * 100 + k, NAMES[k % len(NAMES)], created=T0 + b) for k in range(50)]  # equal timestamps
        + [sql_row(b * 100 + 99, "process_ok", "success", created=T0 + b - 600)]  # written late
        for b in range(1, 11)
    ]
    run_writer(SQLITE_WRITER, str(path), dump(tmp_path / "batches.json", batches), "0.05")
    printed = [item["run_id"] for item in follower.records(510)]
    expected = [
        run_id for (run_id,) in connection.execute("SELECT run_id FROM tasks WHERE rowid > 3 ORDER BY rowid")
    ]
    assert printed == expected
    assert follower.quiet(0.4) == []
    assert_ended_by_ctrl_c(follower)
    assert follower.errors == []


def test_e2e_sqlite_table_without_key_overlap_and_deduplication(
    tmp_path: Path, spawn: Callable[..., Follower]
) -> None:
    path = tmp_path / "log.db"
    connection = sqlite_table(path, TEXT_KEY_DDL)
    now = time.time()
    insert(connection, keyed(1, created=now - 10), keyed(2, created=now - 10))
    follower = spawn("--interval", "0.1", "--overlap", "3", "-n", "5", "-o", "jsonl", "-r", str(path))
    assert sorted(item["run_id"] for item in follower.records(2)) == ["r1", "r2"]
    batches = [
        [
            keyed(b * 10 + k, NAMES[k % len(NAMES)], created=now + b // 2) for k in range(5)
        ]  # equal across batches
        + (
            [keyed(b * 10 + 9, "process_ok", "success", created=now + b // 2 - 2)] if b % 3 == 0 else []
        )  # late
        for b in range(1, 13)
    ]
    run_writer(SQLITE_WRITER, str(path), dump(tmp_path / "batches.json", batches), "0.12")
    expected = [item["run_id"] for batch in batches for item in batch]
    printed = [item["run_id"] for item in follower.records(len(expected))]
    assert Counter(printed) == Counter(expected)
    assert follower.quiet(0.5) == []
    assert_ended_by_ctrl_c(follower)


FILE_OPERATIONS_WRITER = """
import csv, io, json, os, sys, time
path, plan = sys.argv[1], json.load(open(sys.argv[2], encoding="utf-8"))
header = plan["header"]

def text(rows):
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue().encode("utf-8")

for step, rows in plan["steps"]:
    if step == "append":
        with open(path, "ab") as file:
            file.write(text(rows))
    elif step == "replace":  # rewritten aside, then os.replace: a new inode
        with open(path + ".new", "wb") as file:
            file.write(text([header, *rows]))
        os.replace(path + ".new", path)
    elif step == "refill":  # truncated and written again in one go: the same inode
        with open(path, "r+b") as file:
            file.truncate(0)
            file.write(text([header, *rows]))
    elif step == "folder":
        os.replace(path, path + ".old")
        os.mkdir(path)
    elif step == "file":
        os.rmdir(path)
        with open(path + ".tmp", "wb") as file:
            file.write(text([header, *rows]))
        os.replace(path + ".tmp", path)
    time.sleep(0.6)
"""


def test_e2e_rotation_rewrites_and_a_folder_print_every_record_once(
    tmp_path: Path, spawn: Callable[..., Follower]
) -> None:
    path = new_csv(tmp_path / "log.csv", *(row(n) for n in range(10)))
    follower = spawn("--interval", "0.1", "-n", "1", "-o", "jsonl", "-r", str(path))
    assert [item["run_id"] for item in follower.records(1)] == ["r9"]
    batches = [[row(n, NAMES[n % len(NAMES)], exc=TRACEBACK if n % 4 == 0 else "") for n in range(start, start + 12)]
               for start in range(100, 1000, 100)]  # fmt: skip
    steps = [
        ("append", batches[0]),
        ("replace", [*batches[0][6:], *batches[1]]),  # the oldest rows deleted, then new ones: resumed
        ("append", batches[2]),
        ("refill", [*batches[1][-2:], *batches[2], *batches[3]]),  # same inode, past the old offset: resumed
        ("refill", batches[4] * 3),  # a new log in the same file, bigger than the old offset: from the top
        ("folder", []),
        ("file", [*batches[4], *batches[5]]),  # a file again, holding the last record read: resumed
        ("append", batches[6]),
    ]
    plan = {"header": HEADER, "steps": steps}
    run_writer(FILE_OPERATIONS_WRITER, str(path), dump(tmp_path / "plan.json", plan), timeout=60)
    expected = [
        *batches[0],
        *batches[1],
        *batches[2],
        *batches[3],
        *(batches[4] * 3),
        *batches[5],
        *batches[6],
    ]
    assert [item["run_id"] for item in follower.records(len(expected))] == [r[3] for r in expected]
    assert follower.quiet(0.4) == []
    assert_ended_by_ctrl_c(follower)
    notes = [line.split(": ", 1)[1].strip() for line in follower.errors]
    assert notes == [
        f"{path} was replaced: resuming after the last record read",
        f"{path} was rewritten: resuming after the last record read",
        f"{path} was rewritten without the last record read: reading it again from its start (records may repeat)",
        f"{path} is no longer a file: waiting for a file there",
        f"{path} was replaced: resuming after the last record read",
    ], follower.errors


def test_e2e_output_is_flushed_per_record(tmp_path: Path, spawn: Callable[..., Follower]) -> None:
    """`tasklog tail -f | grep x`: without PYTHONUNBUFFERED, a record reaches the pipe at once, while
    tasklog keeps running (no block buffering until exit)."""
    path = new_csv(tmp_path / "log.csv", row(1))
    follower = spawn("--interval", "0.1", "-n", "1", "-o", "plain", "-r", str(path), unbuffered=False)
    follower.take(1)
    for number in range(2, 5):
        written = time.monotonic()
        append(path, csv_bytes(row(number, "wörld ✓")))
        [(arrived, line)] = follower.take(1, timeout=5)
        assert f"r{number}" in line
        assert arrived - written < 0.1 + 0.9, arrived - written
        assert follower.process.poll() is None
    assert_ended_by_ctrl_c(follower)


def test_e2e_ctrl_c_while_the_backlog_is_printed_still_exits_0(tmp_path: Path) -> None:
    """`tail -f -n 20000` and Ctrl-C before the backlog is out (the reader is slow: the pipe is full)."""
    path = new_csv(tmp_path / "log.csv", *(row(n, "wörld ✓", exc=TRACEBACK) for n in range(20_000)))
    process = subprocess.Popen(
        [*TASKLOG, "tail", "-f", "-n", "20000", "--interval", "0.1", "-o", "jsonl", "-r", str(path)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        assert json.loads(process.stdout.readline())["run_id"] == "r0"
        time.sleep(0.3)  # it fills the pipe and waits for the reader
        process.send_signal(signal.SIGINT)
        _, errors = process.communicate(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0, errors.decode()
    assert b"Traceback" not in errors


def test_e2e_wait_for_a_file_that_does_not_exist_yet(tmp_path: Path, spawn: Callable[..., Follower]) -> None:
    path = tmp_path / "later" / "log.csv"
    follower = spawn("--wait", "--interval", "0.1", "-o", "jsonl", "-r", str(path))
    follower.wait_for_note("waiting for")
    assert follower.quiet(0.3) == []
    path.parent.mkdir()
    staged = tmp_path / "staged.csv"
    new_csv(staged, row(1, "wörld ✓"), row(2))
    staged.rename(path)
    assert [item["run_id"] for item in follower.records(2)] == ["r1", "r2"]
    append(path, csv_bytes(row(3, exc=TRACEBACK)))
    assert [item["run_id"] for item in follower.records(1)] == ["r3"]
    assert_ended_by_ctrl_c(follower)
    assert len(follower.errors) == 1, follower.errors


ROCKETRY_APP = '''
"""A small Rocketry app logging to a CSVFileRepo, as users set it up."""
import sys
import time

from redbird.repos import CSVFileRepo
from rocketry import Rocketry
from rocketry.conds import every, scheduler_running
from rocketry.log import TaskRunRecord

PHASE, OUT, SECONDS = sys.argv[1], sys.argv[2], float(sys.argv[3])
app = Rocketry(logger_repo=CSVFileRepo(filename=OUT, model=TaskRunRecord), config={"cycle_sleep": 0.05})
app.session.config.shut_cond = scheduler_running(more_than=f"{SECONDS} seconds")


@app.task(every("0.3 seconds"), execution="async", name="tick ✓")
async def tick():
    pass


@app.task(every("0.5 seconds"), execution="thread", name='fails, "loudly" ✗')
def fails():
    raise ValueError('bad row "x,y"\\nsecond line ünï')


@app.task(every("1 second"), execution="process", name="process_ok")
def process_ok():
    time.sleep(0.2)


@app.task(every("10 minutes"), execution="thread", name="long_running")
def long_running():
    time.sleep(60 if PHASE == "first" else 0.1)


if __name__ == "__main__":
    app.run()
'''


@pytest.mark.skipif(
    not FIXTURE_PYTHON.exists(),
    reason=f"no Rocketry venv at {FIXTURE_PYTHON}: build it with scripts/make_rocketry_fixtures.py",
)
def test_e2e_real_rocketry_app_killed_and_restarted(tmp_path: Path, spawn: Callable[..., Follower]) -> None:
    app = tmp_path / "app.py"
    app.write_text(ROCKETRY_APP, "utf-8")
    log = tmp_path / "task_run.csv"
    env = dict(os.environ, PYTHONUTF8="1")

    def scheduler(phase: str, seconds: str) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [str(FIXTURE_PYTHON), str(app), phase, str(log), seconds],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, cwd=tmp_path, start_new_session=True,
        )  # fmt: skip

    first = scheduler("first", "60")
    try:
        deadline = time.monotonic() + 20
        while not (log.exists() and b"\n" in log.read_bytes()):
            assert time.monotonic() < deadline and first.poll() is None, "the Rocketry app wrote no header"
            time.sleep(0.05)
        follower = spawn("--interval", "0.1", "-n", "100000", "-o", "jsonl", "-r", str(log))
        printed: list[dict[str, Any]] = []
        while not any(item["task_name"] == "long_running" for item in printed):
            printed += follower.records(1)
        printed += follower.records(12)  # a little more of the run, then SIGKILL mid-run
    finally:
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(timeout=10)
    second = scheduler("restart", "2")
    try:
        _, errors = second.communicate(timeout=40)
    finally:
        if second.poll() is None:
            os.killpg(second.pid, signal.SIGKILL)
            second.wait()
    assert second.returncode == 0, errors.decode()
    with log.open(newline="", encoding="utf-8") as file:
        stored = list(csv.DictReader(file))
    assert any(r["task_name"] == "long_running" and r["action"] == "crash" for r in stored), "no crash row"
    printed += follower.records(len(stored) - len(printed))
    assert follower.quiet(0.5) == []
    assert_ended_by_ctrl_c(follower)
    assert [(i["task_name"], i["action"], i["run_id"], i["exc_text"]) for i in printed] == [
        (r["task_name"], r["action"], r["run_id"] or None, r["exc_text"] or None) for r in stored
    ]
    for item, stored_row in zip(printed, stored, strict=True):
        assert abs(datetime.fromisoformat(item["created"]).timestamp() - float(stored_row["created"])) < 2e-6
