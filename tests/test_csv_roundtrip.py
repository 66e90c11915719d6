"""Whatever `csv.writer` writes reads back field for field (issue #11.11): `ls -o jsonl`, `tail -n K` and
follow against Python's own csv.DictReader, on random files with CRLF or LF row ends."""

import csv
import json
import tempfile
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from conftest import run_cli
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tasklog_cli.models import Record
from tasklog_cli.query import Query
from tasklog_cli.sources import OpenOptions, Selection, open_source

COLUMNS = ["task_name", "action", "created", "run_id", "message", "note"]
TEXT_COLUMNS = ["task_name", "action", "run_id", "message", "note"]
NASTY = ['"', '""', ",", "\r", "\n", "\r\n", "\n\r", "\x85", "\u2028", "\u2029", "\ufeff", "\t", "\x00", "\x1b[31m",
         "\x7f", "\x9b", "\u202e", " ", "é", "✗", "😀", "日本", "\\", "'", "a", "b"]  # fmt: skip
VALID_CREATED = st.builds(
    lambda seconds, micros: f"{seconds}.{micros:06d}", st.integers(0, 4_000_000_000), st.integers(0, 999_999)
)
BAD_CREATED = ["", "nan", "NaN", "inf", "-inf", "1e400", "x", "12:00"]

field_text = st.lists(st.sampled_from(NASTY) | st.text(max_size=3), max_size=6).map("".join)
rows = st.fixed_dictionaries(
    {
        "task_name": st.sampled_from(["a", "b", 'say "hi", wörld ✓']) | field_text,
        "action": st.sampled_from(["run", "success", "fail"]) | field_text,
        "created": VALID_CREATED | VALID_CREATED | st.sampled_from(BAD_CREATED),
        "run_id": st.sampled_from(["", "1", "r,2"]) | field_text,
        "message": field_text,
        "note": field_text,
    }
)
files = st.fixed_dictionaries(
    {
        "columns": st.permutations(COLUMNS),
        "rows": st.lists(rows, max_size=8),
        "line_end": st.sampled_from(["\r\n", "\n"]),
        "bom": st.booleans(),
    }
)


def write_file(path: Path, spec: dict[str, Any]) -> bytes:
    """Write the rows with csv.writer; an LF file's lone CRs get an LF (csv.writer would not quote them,
    and no reader can tell them from a row end)."""
    line_end = spec["line_end"]
    with path.open("w", newline="", encoding="utf-8-sig" if spec["bom"] else "utf-8") as file:
        writer = csv.writer(file, lineterminator=line_end)
        writer.writerow(spec["columns"])
        for row in spec["rows"]:
            values = [row[name] for name in spec["columns"]]
            writer.writerow([value.replace("\r", "\r\n") for value in values] if line_end == "\n" else values)
    return path.read_bytes()


def is_time(text: str) -> bool:
    try:
        return 0 <= float(text) < 1e10
    except ValueError:
        return False


def oracle(path: Path) -> tuple[list[dict[str, str]], int]:
    """The records Python's csv module reads (rows with a task, an action and a time), and the rest."""
    with path.open(newline="", encoding="utf-8-sig") as file:
        parsed = list(csv.DictReader(file))
    good = [row for row in parsed if row["task_name"] and row["action"] and is_time(row["created"])]
    return good, len(parsed) - len(good)


def shown(row: dict[str, str]) -> tuple[Any, ...]:
    return (round(float(row["created"]), 6), *((row[name] or None) for name in TEXT_COLUMNS))


def as_shown(record: Record) -> tuple[Any, ...]:
    return (round(record.created, 6), *(record.get(name) for name in TEXT_COLUMNS))


def printed(item: dict[str, Any]) -> tuple[Any, ...]:
    return (
        round(datetime.fromisoformat(item["created"]).timestamp(), 6),
        *(item[name] for name in TEXT_COLUMNS),
    )


def jsonl(*args: str, expect: int) -> tuple[list[tuple[Any, ...]], str]:
    result = run_cli(*args, "-o", "jsonl", "--fields", "all", "--utc", expect=expect)
    return [printed(json.loads(line)) for line in result.stdout.split("\n") if line], result.stderr


def assert_close(got: Sequence[tuple[Any, ...]], expected: Sequence[tuple[Any, ...]]) -> None:
    assert [item[1:] for item in got] == [item[1:] for item in expected]
    assert all(abs(a[0] - b[0]) < 2e-6 for a, b in zip(got, expected, strict=True))


def follow_in_pieces(path: Path, data: bytes, header_end: int, cuts: list[int]) -> list[tuple[Any, ...]]:
    """Write the header, start following, then write the rest cut at the given points, polling after each."""
    path.write_bytes(data[:header_end])
    source = open_source(str(path), OpenOptions())
    watch = source.watch(Query(), None, lambda note: None)
    followed = []
    try:
        assert watch.backlog(10) == []
        for cut in sorted({header_end + cut % (len(data) - header_end + 1) for cut in cuts} | {len(data)}):
            with path.open("ab") as file:
                file.write(data[path.stat().st_size : cut])
            followed += watch.poll()
    finally:
        watch.close()
    return [as_shown(record) for record in followed]


def header_length(data: bytes, spec: dict[str, Any]) -> int:
    last_name = spec["columns"][-1]
    return data.index(last_name.encode()) + len(last_name) + len(spec["line_end"])


@settings(max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(spec=files, last=st.integers(1, 5), cuts=st.lists(st.integers(0, 10_000), max_size=6))
def test_scan_tail_and_follow_read_what_csv_writer_wrote(
    spec: dict[str, Any], last: int, cuts: list[int]
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "log.csv"
        data = write_file(path, spec)
        good, bad = oracle(path)
        expected = [shown(row) for row in good]
        source = open_source(str(path), OpenOptions())
        assert_close([as_shown(record) for record in source.scan(Query())], expected)
        assert source.skipped == bad
        tailed = open_source(str(path), OpenOptions()).select(Query(), Selection(last=last))
        assert_close([as_shown(record) for record in tailed], expected[-last:])
        assert_close(follow_in_pieces(path, data, header_length(data, spec), cuts), expected)


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(spec=files, last=st.integers(1, 5))
def test_ls_and_tail_print_what_csv_writer_wrote(spec: dict[str, Any], last: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "log.csv"
        write_file(path, spec)
        good, bad = oracle(path)
        expected = [shown(row) for row in good]
        listed, warning = jsonl("ls", "-r", str(path), expect=0 if expected else 1)
        assert_close(listed, expected)
        assert (f"skipped {bad} malformed" in warning) if bad else warning == "", warning
        tailed, _ = jsonl("tail", "-n", str(last), "-r", str(path), expect=0 if expected else 1)
        assert_close(tailed, expected[-last:])
