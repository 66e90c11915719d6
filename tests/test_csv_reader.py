"""The streaming CSV reader: quote-aware record splitting, the byte-cheap prefilter, and CSV quirks (DESIGN §1, §8)."""

import csv
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from conftest import ROCKETRY, local_zone
from hypothesis import given
from hypothesis import strategies as st

from tasklog_cli.errors import SourceError
from tasklog_cli.models import Action, Record
from tasklog_cli.query import Query
from tasklog_cli.sources import OpenOptions, Selection
from tasklog_cli.sources.csvfile import CsvSource, records
from tasklog_cli.sources.csvfile.prefilter import csv_needle, glob_needle, keep_containing, prefilter_groups
from tasklog_cli.sources.csvfile.records import read_chunks, read_header, split_records

TASK_RUN_CSV = ROCKETRY / "task_run.csv"
HELSINKI = ZoneInfo("Europe/Helsinki")
HEADER = ["task_name", "action", "created", "run_id", "message"]
CHUNK_SIZES = [1, 2, 3, 5, 7, 13, 64, records.CHUNK_BYTES]
LOUD = 'fails, "loudly" ✗'
SAY_HI = 'say "hi", wörld ✓'

Row = tuple[str, str, str, str, str]
Core = tuple[str, str, float, str | None, str | None]


def write_csv(path: Path, rows: Sequence[Sequence[str]], header: Sequence[str] = HEADER) -> Path:
    """Write rows as Red Bird's CSVFileRepo does: csv.writer, excel dialect, CRLF row ends."""
    with path.open("w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def open_csv(path: Path, **options: Any) -> CsvSource:
    return CsvSource(path, OpenOptions(**options))


@contextmanager
def chunk_bytes(size: int) -> Iterator[None]:
    """Read in chunks of `size` bytes inside the block."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(records, "CHUNK_BYTES", size)
        yield


def core(record: Record) -> Core:
    return record.task_name, record.action, record.created, record.run_id, record.get("message")


def core_of_row(row: Sequence[str]) -> Core:
    task_name, action, created, run_id, message = row
    return task_name, action, float(created), run_id or None, message or None


def plain_rows(path: Path) -> list[list[str]]:
    """The data rows as Python's own csv module reads the whole file."""
    with path.open(newline="", encoding="utf-8-sig") as file:
        return list(csv.reader(file))[1:]


# --- split_records, read_records, read_header -------------------------------------------------------------


def test_split_records_joins_quoted_newlines() -> None:
    lines = ["a,run,1\r", 'b,fail,2,"Traceback', '  line ""two""', 'end",x\r', "c,run,3\r"]
    assert split_records(lines) == (
        ["a,run,1\r", 'b,fail,2,"Traceback\n  line ""two""\nend",x\r', "c,run,3\r"],
        [],
    )


def test_split_records_leaves_an_open_record_for_later() -> None:
    lines = ["a,run,1\r", 'b,fail,2,"Traceback', "  still open"]
    assert split_records(lines) == (["a,run,1\r"], ['b,fail,2,"Traceback', "  still open"])


def test_split_records_without_quotes_or_with_balanced_quotes() -> None:
    assert split_records([]) == ([], [])
    assert split_records(["a,b\r", '"x,y",""""\r']) == (["a,b\r", '"x,y",""""\r'], [])
    # a line that closes one quoted field and opens the next keeps the record open
    lines = ['a,"one', 'two","three', 'four"\r', "b\r"]
    assert split_records(lines) == (['a,"one\ntwo","three\nfour"\r', "b\r"], [])


def test_read_header_and_data_offset(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "log.csv", [["a", "run", "1", "", "m"]])
    columns, offset, line = read_header(path)
    assert columns == HEADER
    assert path.read_bytes()[offset:] == b"a,run,1,,m\r\n"
    assert line == 2


def test_read_header_with_a_bom_and_quoted_names(tmp_path: Path) -> None:
    path = tmp_path / "log.csv"
    path.write_bytes('\ufeff"task_name","action","created"\r\na,run,1\r\n'.encode())
    columns, offset, _ = read_header(path)
    assert columns == ["task_name", "action", "created"]
    assert path.read_bytes()[offset:] == b"a,run,1\r\n"


@pytest.mark.parametrize("size", CHUNK_SIZES)
def test_read_chunks_yields_whole_records_at_any_chunk_size(tmp_path: Path, size: int) -> None:
    rows = [
        ["ünï", "run", "1.5", "", "plain"],
        [LOUD, "fail", "2", "r,1", 'Traceback:\n  File "x.py"\r\nValueError: ✗ "bad"'],
        ["😀", "success", "3", "", '"'],
        ["a", "run", "4", "", "\r\n\n\r"],
    ]
    path = write_csv(tmp_path / "log.csv", rows)
    _, offset, line = read_header(path)
    with chunk_bytes(size):
        chunks = list(read_chunks(path, offset, line))
    texts = [text for chunk in chunks for text in chunk.texts]
    assert len(texts) == len(rows)
    assert [next(csv.reader([text])) for text in texts] == rows


# --- needles and the prefilter ----------------------------------------------------------------------------


def test_csv_needle() -> None:
    assert csv_needle("nightly") == "nightly"
    assert csv_needle('say "hi"') == 'say ""hi""'
    assert csv_needle("a,b\nc") == "a,b\nc"
    assert csv_needle("") is None
    assert csv_needle("a\r\nb") is None


@pytest.mark.parametrize(
    ("pattern", "needle"),
    [
        ("nightly_*", "nightly_"),
        ("task_?", "task_"),
        ("*backup*", "backup"),
        ("a[bc]defg*h", "defg"),
        ('say "*', 'say ""'),
        ("[ab]*", None),
        ("*", None),
        ("weird[1]", "weird"),
    ],
)
def test_glob_needle(pattern: str, needle: str | None) -> None:
    assert glob_needle(pattern) == needle


@st.composite
def names_and_matching_globs(draw: st.DrawFn) -> tuple[str, str]:
    """A task name, and a glob built to match it: each character kept, or as `?`, `*`, or a class."""
    name = draw(st.text(alphabet="ab]", min_size=1, max_size=5))
    forms = [
        [char, "?", f"*{char}", f"[{char}b]", "[]]" if char == "]" else f"[]{char}]", "[!x]"] for char in name
    ]
    return name, "".join(draw(st.sampled_from(choices)) for choices in forms)


@given(names_and_matching_globs())
def test_every_name_a_glob_matches_contains_its_needle(name_and_glob: tuple[str, str]) -> None:
    name, pattern = name_and_glob
    assert fnmatchcase(name, pattern)
    needle = glob_needle(pattern)
    assert needle is None or needle in name, (pattern, needle)


@given(
    value=st.text(alphabet='a,"\n\r✗ ', max_size=6), others=st.lists(st.text(alphabet='a,"\n ', max_size=3))
)
def test_every_csv_row_holding_a_value_contains_its_needle(value: str, others: list[str]) -> None:
    needle = csv_needle(value)
    with tempfile.TemporaryDirectory() as folder:
        path = write_csv(Path(folder) / "log.csv", [[*others, value, *others]], header=["x"])
        text = path.read_bytes().decode().split("\r\n", 1)[1]
    if needle is not None:
        assert needle in text


def test_prefilter_groups() -> None:
    query = Query(
        tasks=("backup", "nightly_*"), actions=(Action.RUN, Action.FAIL), run_ids=('x"y',), grep="boom"
    )
    assert prefilter_groups(query) == [("backup", "nightly_"), ("run", "fail"), ('x""y',)]
    assert prefilter_groups(Query()) == []
    assert prefilter_groups(Query(tasks=("backup", "[ab]*"), actions=(Action.RUN,))) == [("run",)]
    assert prefilter_groups(Query(tasks=("a\r\nb",))) == []
    assert prefilter_groups(Query(tasks=("a", "a*"))) == [("a",)]


def test_keep_containing() -> None:
    texts = ["a,run,1", "b,run,2", "a,fail,3", "c,crash,4"]
    assert keep_containing(texts, []) == texts
    assert keep_containing(texts, [("a,",)]) == ["a,run,1", "a,fail,3"]
    assert keep_containing(texts, [("a", "c"), ("run", "crash")]) == ["a,run,1", "c,crash,4"]
    assert keep_containing(texts, [("zzz",)]) == []


# --- property: the reader agrees with csv.reader and a plain predicate --------------------------------------

PIECES = ["a", "b", "é", "✗", "😀", ",", '"', "\n", "\r\n", "\r", " "]
text_values = st.lists(st.sampled_from(PIECES), max_size=5).map("".join)
rows = st.tuples(
    st.sampled_from(["a", "b", "a,b", SAY_HI]) | text_values,
    st.sampled_from(["run", "success", "fail", "fail", "run", ""]),
    st.sampled_from([*(f"{1000 + step}.25" for step in range(10)), "1005", ""]),
    st.sampled_from(["", "1", "2", "r,3"]),
    text_values,
)


def often_empty(values: list[Any]) -> st.SearchStrategy[tuple[Any, ...]]:
    """Half the time no values (the option is not given), else one or two."""
    return st.just(()) | st.lists(st.sampled_from(values), min_size=1, max_size=2).map(tuple)


queries = st.builds(
    Query,
    tasks=often_empty(
        ["a", "b", "a,b", 'a"b', "é", "", "a*", "*b*", "?", "[ab]*", '*"*', "*\n*", "*\r\n*", "*😀*"]
    ),
    actions=often_empty([Action.RUN, Action.SUCCESS, Action.FAIL]),
    run_ids=often_empty(["1", "2", "r,3", "9"]),
    since=st.none() | st.integers(1000, 1010).map(float),
    until=st.none() | st.integers(1000, 1010).map(float),
)


def is_well_formed(row: Sequence[str]) -> bool:
    """Red Bird reads an empty field as None: a row without task_name, action or created is no record."""
    return len(row) == len(HEADER) and all(row[:3])


def plainly_selected(row: Sequence[str], query: Query) -> bool:
    task_name, action, created, run_id, _ = row
    globs = [task for task in query.tasks if any(char in task for char in "*?[")]
    if query.tasks and task_name not in query.tasks and not any(fnmatchcase(task_name, g) for g in globs):
        return False
    if query.actions and action not in query.actions:
        return False
    if query.run_ids and run_id not in query.run_ids:
        return False
    if query.since is not None and float(created) < query.since:
        return False
    return query.until is None or float(created) < query.until


@given(data=st.lists(rows, max_size=12), query=queries)
def test_scan_agrees_with_csv_reader_at_any_chunk_size(data: list[Row], query: Query) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = write_csv(Path(folder) / "log.csv", data)
        parsed = plain_rows(path)
        assert parsed == [list(row) for row in data]  # the writer round-trips: the reference is sound
        well_formed = [row for row in parsed if is_well_formed(row)]
        expected = [core_of_row(row) for row in well_formed if plainly_selected(row, query)]
        for size in (7, 64, records.CHUNK_BYTES):
            source, everything = open_csv(path), open_csv(path)
            with chunk_bytes(size):
                assert [core(record) for record in source.scan(query)] == expected, size
                assert [core(record) for record in everything.scan(Query())] == list(
                    map(core_of_row, well_formed)
                )
                assert everything.skipped == len(parsed) - len(well_formed)


@given(data=st.lists(rows, max_size=12), query=queries, last=st.integers(1, 4))
def test_last_n_equals_the_tail_of_a_full_scan(data: list[Row], query: Query, last: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = write_csv(Path(folder) / "log.csv", data)
        source = open_csv(path)
        full = [core(record) for record in source.scan(query)]
        assert [core(record) for record in source.select(query, Selection(last=last))] == full[-last:]


# --- chunk boundaries on a hand-made file -------------------------------------------------------------------

AWKWARD_ROWS = [
    ["ünïcödé_task", "run", "1795290404.8080544", "1", "Task 'ünïcödé' status: 'run'"],
    [
        LOUD,
        "fail",
        "1795290404.827388",
        "2",
        'Traceback (most recent call last):\r\n  File "x.py"\n    ✗ 😀\nEnd',
    ],
    ["a,b", "success", "1795290405", "", '""'],
    ["😀😀😀", "run", "1795290406.5", "3", "\n"],
    ["last", "inaction", "1795290407", "4", ""],
]


@pytest.mark.parametrize("size", CHUNK_SIZES)
def test_chunk_boundaries_inside_quotes_characters_and_crlf(tmp_path: Path, size: int) -> None:
    path = write_csv(tmp_path / "log.csv", AWKWARD_ROWS)
    source = open_csv(path)
    with chunk_bytes(size):
        assert [core(record) for record in source.scan(Query())] == [core_of_row(row) for row in AWKWARD_ROWS]
        assert [record.task_name for record in source.scan(Query(tasks=(LOUD, "😀*")))] == [LOUD, "😀😀😀"]
    assert source.skipped == 0


def test_header_longer_than_a_chunk(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "log.csv", AWKWARD_ROWS)  # a 41-byte header
    with chunk_bytes(16):
        source = open_csv(path)
        assert source.columns == tuple(HEADER)
        assert len(list(source.scan(Query()))) == len(AWKWARD_ROWS)


# --- quirks -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("content", [b"task_name,action,created\r\n", b"task_name,action,created"])
def test_header_only_is_a_valid_empty_log(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "log.csv"
    path.write_bytes(content)
    source = open_csv(path)
    assert source.columns == ("task_name", "action", "created")
    assert list(source.scan(Query())) == []
    assert list(source.select(Query(), Selection(last=3))) == []
    assert source.skipped == 0


def test_empty_file_is_a_source_error(tmp_path: Path) -> None:
    path = tmp_path / "log.csv"
    path.write_bytes(b"")
    with pytest.raises(SourceError, match="empty"):
        open_csv(path)


@pytest.mark.parametrize(
    "content",
    [
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00",
        b"SQLite format 3\x00\x10\x00\x01\x01",
        b"task_name,action,created\r\n\xff\xfe\x00\x01",
        b"\xff\xfe\xfa\xfb,\xc3\r\n",
    ],
)
def test_binary_file_is_a_source_error(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "log.csv"
    path.write_bytes(content)
    with pytest.raises(SourceError, match=str(path)):
        open_csv(path)


@pytest.mark.parametrize(
    ("header", "missing"),
    [
        ("name,when,what", "task_name/action/created"),
        ("task_name,when", "action/created"),
        ("id,action,created,message", "task_name"),
    ],
)
def test_header_without_the_required_columns(tmp_path: Path, header: str, missing: str) -> None:
    path = tmp_path / "log.csv"
    path.write_text(f"{header}\r\na,b,c\r\n", encoding="utf-8")
    with pytest.raises(SourceError) as caught:
        open_csv(path)
    assert missing in str(caught.value)
    assert header.split(",", maxsplit=1)[0] in str(caught.value)  # says what it found


def test_file_without_a_trailing_newline(tmp_path: Path) -> None:
    path = tmp_path / "log.csv"
    path.write_bytes(b'task_name,action,created,run_id,message\r\na,run,1,,one\r\nb,fail,2,,"two\r\nlines"')
    for size in (5, records.CHUNK_BYTES):
        source = open_csv(path)
        with chunk_bytes(size):
            assert [core(record) for record in source.scan(Query())] == [
                ("a", "run", 1.0, None, "one"),
                ("b", "fail", 2.0, None, "two\r\nlines"),
            ]


def test_utf8_bom(tmp_path: Path) -> None:
    path = tmp_path / "log.csv"
    with path.open("w", newline="", encoding="utf-8-sig") as file:
        csv.writer(file).writerows([HEADER, ["ünï", "run", "1", "7", "m"]])
    source = open_csv(path)
    assert source.columns == tuple(HEADER)
    assert [core(record) for record in source.scan(Query(tasks=("ünï",)))] == [("ünï", "run", 1.0, "7", "m")]


def test_rows_with_the_wrong_number_of_fields_are_skipped_and_counted(tmp_path: Path) -> None:
    path = tmp_path / "log.csv"
    path.write_bytes(
        b"task_name,action,created,run_id,message\r\n"
        b"a,run,1,,ok\r\n"
        b"b,run,2\r\n"
        b"c,run,3,,too,many\r\n"
        b"d,fail,4,,ok\r\n"
    )
    source = open_csv(path)
    assert [record.task_name for record in source.scan(Query())] == ["a", "d"]
    assert source.skipped == 2
    with pytest.raises(SourceError, match="malformed row"):
        list(open_csv(path, strict=True).scan(Query()))


def test_rows_without_task_name_action_or_created_are_skipped_and_counted(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "log.csv",
        [
            ["a", "run", "1", "", ""],
            ["", "run", "2", "", ""],
            ["b", "", "3", "", ""],
            ["c", "run", "", "", ""],
        ],
    )
    source = open_csv(path)
    assert [record.task_name for record in source.scan(Query())] == ["a"]
    assert source.skipped == 3
    with pytest.raises(SourceError, match="malformed row"):
        list(open_csv(path, strict=True).scan(Query()))


TASK_LOG_HEADER = [
    "task_name",
    "action",
    "created",
    "start",
    "end",
    "runtime",
    "message",
    "exc_text",
    "run_id",
]
TASK_LOG_ROWS = [
    ["spring", "run", "1774744200", "2026-03-29 02:30:00", "", "", "m", "", "1"],
    [
        "autumn",
        "success",
        "1792884600",
        "2026-10-25 03:30:00.5",
        "2026-10-25 04:30:00",
        "0:00:00.000001",
        "m",
        "",
        "1",
    ],
    [
        "long",
        "fail",
        "1795290404",
        "2026-11-22 00:41:56.851376",
        "2026-11-22 00:41:57",
        "1 day, 2:03:04.5",
        "",
        "",
        "",
    ],
]


def start_end_runtime(path: Path, zone: Any) -> list[tuple[Any, Any, Any]]:
    return [
        (record.get("start"), record.get("end"), record.get("runtime"))
        for record in open_csv(path, zone=zone).scan(Query())
    ]


def test_naive_start_and_end_are_read_in_the_given_zone(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "log.csv", TASK_LOG_ROWS, TASK_LOG_HEADER)
    assert start_end_runtime(path, HELSINKI) == [
        (datetime(2026, 3, 29, 0, 30, tzinfo=UTC), None, None),
        (
            datetime(2026, 10, 25, 0, 30, 0, 500000, tzinfo=UTC),  # the first 03:30 of the repeated hour
            datetime(2026, 10, 25, 2, 30, tzinfo=UTC),
            timedelta(microseconds=1),
        ),
        (
            datetime(2026, 11, 21, 22, 41, 56, 851376, tzinfo=UTC),
            datetime(2026, 11, 21, 22, 41, 57, tzinfo=UTC),
            timedelta(days=1, hours=2, minutes=3, seconds=4.5),
        ),
    ]
    in_utc = start_end_runtime(path, UTC)
    assert in_utc[0][0] == datetime(2026, 3, 29, 2, 30, tzinfo=UTC)
    assert in_utc[2][:2] == (
        datetime(2026, 11, 22, 0, 41, 56, 851376, tzinfo=UTC),
        datetime(2026, 11, 22, 0, 41, 57, tzinfo=UTC),
    )
    assert start_end_runtime(path, None) == in_utc  # the test environment's local zone is UTC
    with local_zone("Asia/Tokyo"):
        in_tokyo = start_end_runtime(path, None)
    assert [start for start, _, _ in in_tokyo] == [start - timedelta(hours=9) for start, _, _ in in_utc]


def test_runtime_and_empty_values(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "log.csv", TASK_LOG_ROWS, TASK_LOG_HEADER)
    records = list(open_csv(path).scan(Query()))
    assert records[1].get("runtime") == timedelta(microseconds=1)
    assert records[0].get("runtime") is None
    assert records[0].get("end") is None
    assert records[2].get("message") is None
    assert records[2].run_id is None
    assert all(isinstance(record.get("start"), datetime) for record in records)


def test_fields_do_not_change_which_records_a_level_query_selects(tmp_path: Path) -> None:
    """A custom level (NOTICE = 25) is known by its levelno; limiting printed fields must not lose it."""
    path = write_csv(
        tmp_path / "log.csv",
        [["t", "run", "1", "NOTICE", "25"], ["t", "run", "2", "DEBUG", "10"]],
        ["task_name", "action", "created", "levelname", "levelno"],
    )
    query = Query(level=20)
    everything = [record.created for record in open_csv(path).scan(query)]
    assert everything == [1.0]
    assert [record.created for record in open_csv(path).scan(query, fields=())] == everything
    assert [record.created for record in open_csv(path).scan(query, fields=["levelname"])] == everything


def test_a_glob_with_a_bracket_first_in_its_class_is_not_prefiltered_away(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "log.csv",
        [["a", "run", "1", "", ""], ["b]", "run", "2", "", ""], ["]x", "run", "3", "", ""]],
    )
    assert [record.task_name for record in open_csv(path).scan(Query(tasks=("[]a]*",)))] == ["a", "]x"]
    assert [record.task_name for record in open_csv(path).scan(Query(tasks=("[!]]",)))] == ["a"]


def test_last_n_skips_a_malformed_row_at_the_end(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "log.csv", [["a", "run", "1", "", ""], ["b", "run", "2", "", ""], ["", "run", "3", "", ""]]
    )
    source = open_csv(path)
    assert [record.task_name for record in source.select(Query(), Selection(last=2))] == ["a", "b"]


# --- the real Rocketry fixture ----------------------------------------------------------------------------


def fixture_rows() -> list[dict[str, str]]:
    with TASK_RUN_CSV.open(newline="", encoding="utf-8") as file:
        return list(csv.DictReader(file))


@pytest.mark.parametrize("size", [64, 4096, records.CHUNK_BYTES])
def test_fixture_reads_exactly_as_dict_reader(size: int) -> None:
    rows = fixture_rows()
    source = open_csv(TASK_RUN_CSV, zone=UTC)
    with chunk_bytes(size):
        records = list(source.scan(Query()))
    assert source.skipped == 0
    assert len(records) == len(rows) == 306
    for record, row in zip(records, rows, strict=True):
        assert record.task_name == row["task_name"]
        assert record.action == row["action"]
        assert record.created == float(row["created"])
        assert record.run_id == (row["run_id"] or None)
        assert record.get("message") == (row["message"] or None)
        assert record.get("exc_text") == (row["exc_text"] or None)


def test_fixture_tracebacks_keep_their_newlines_and_quotes() -> None:
    tracebacks = {
        record.created: record.get("exc_text")
        for record in open_csv(TASK_RUN_CSV).scan(Query(actions=(Action.FAIL,)))
    }
    expected = {float(row["created"]): row["exc_text"] for row in fixture_rows() if row["action"] == "fail"}
    assert tracebacks == expected
    loud = [text for text in tracebacks.values() if text and "fails_loudly" in text]
    assert loud
    assert loud[0].startswith("Traceback (most recent call last):\n")
    assert "parse_row('x,\"y\",z')" in loud[0]
    assert loud[0].endswith('ValueError: bad row \'x,"y",z\': expected "a,b", got 3 fields, ünïcödé')


def test_fixture_task_names_with_quotes_commas_and_non_ascii() -> None:
    source = open_csv(TASK_RUN_CSV)
    names = {record.task_name for record in source.scan(Query())}
    assert {LOUD, SAY_HI} <= names
    assert len(list(source.scan(Query(tasks=(LOUD,))))) == 18
    assert len(list(source.scan(Query(tasks=('say "hi"*',))))) == 24
    assert {record.task_name for record in source.scan(Query(tasks=("*✗", "*wörld*")))} == {LOUD, SAY_HI}
    assert list(source.scan(Query(tasks=('fails, "loudly"',)))) == []


@pytest.mark.parametrize(
    "query",
    [
        Query(),
        Query(tasks=(LOUD,)),
        Query(actions=(Action.FAIL, Action.CRASH)),
        Query(tasks=("*process*", "multilaunch_*"), actions=(Action.SUCCESS,)),
        Query(since=1795290410.0, until=1795290600.0),
        Query(grep="Traceback"),
        Query(tasks=("nothing_to_do",), grep="nothing"),
    ],
)
@pytest.mark.parametrize("last", [1, 5, 400])
def test_fixture_last_n_equals_the_tail_of_a_full_scan(query: Query, last: int) -> None:
    source = open_csv(TASK_RUN_CSV)
    full = list(source.scan(query))
    assert list(source.select(query, Selection(last=last))) == full[-last:]


# --- what csv.writer writes, whatever the fields hold (issue #11.11) ------------------------------------


def test_nul_and_control_characters_in_fields_are_text_not_a_binary_file(tmp_path: Path) -> None:
    rows = [["a\x00b", "run", "1", "", "\x01\x1b[31m\x7f\x85\u2028\ufeff"]]
    path = write_csv(tmp_path / "log.csv", rows)
    assert [core(record) for record in open_csv(path).scan(Query())] == [core_of_row(row) for row in rows]


def test_a_field_longer_than_the_csv_modules_default_limit(tmp_path: Path) -> None:
    traceback = "Traceback (most recent call last):\n" + "  frame\n" * 40_000  # 320 KB
    path = write_csv(tmp_path / "log.csv", [["a", "fail", "1", "", traceback], ["b", "run", "2", "", ""]])
    source = open_csv(path)
    assert [record.get("message") for record in source.scan(Query())] == [traceback, None]
    assert [record.task_name for record in source.select(Query(), Selection(last=2))] == ["a", "b"]
    assert source.skipped == 0


# --- malformed rows are named by their line (issue #13) ---------------------------------------------------

MALFORMED_FILE = (
    b"task_name,action,created,run_id,message\r\n"  # line 1
    b'a,run,1,,"one\r\ntwo\nthree"\r\n'  # lines 2-4
    b"b,run,2,,ok\r\n"  # line 5
    b'c,run,,,"four\nfive"\r\n'  # lines 6-7: no created
    b"d,run,3\r\n"  # line 8: too few fields
    b"e,run,nan,,x\r\n"  # line 9: no time
)


@pytest.mark.parametrize("size", CHUNK_SIZES)
def test_the_first_malformed_row_is_named_by_its_line_at_any_chunk_size(tmp_path: Path, size: int) -> None:
    path = tmp_path / "log.csv"
    path.write_bytes(MALFORMED_FILE)
    with chunk_bytes(size):
        source = open_csv(path)
        assert [record.task_name for record in source.scan(Query())] == ["a", "b"]
        assert source.skipped == 3
        assert (
            source.first_malformed == "empty task_name, action or created: line 6, 'c,run,,,\"four\\nfive\"'"
        )
        backwards = open_csv(path)
        assert [record.task_name for record in backwards.select(Query(), Selection(last=5))] == ["a", "b"]
        assert backwards.first_malformed in (  # the one met first, reading backwards chunk by chunk
            "empty task_name, action or created: line 6, 'c,run,,,\"four\\nfive\"'",
            "3 fields where the header has 5: line 8, 'd,run,3'",
            "nan is not a time: line 9, 'e,run,nan,,x'",
        )
        with pytest.raises(SourceError, match=f"malformed row in {path}: empty .*: line 6, "):
            list(open_csv(path, strict=True).scan(Query(tasks=("b",))))  # --strict reads every row
        with pytest.raises(SourceError, match=f"malformed row in {path}: .*: line [689], "):
            list(open_csv(path, strict=True).select(Query(), Selection(last=1)))


def test_a_malformed_row_found_by_follow_is_named_by_its_line(tmp_path: Path) -> None:
    path = tmp_path / "log.csv"
    path.write_bytes(MALFORMED_FILE[: MALFORMED_FILE.index(b"b,run")])
    source = open_csv(path)
    watch = source.watch(Query(), None, lambda note: None)
    try:
        with path.open("ab") as file:
            file.write(MALFORMED_FILE[MALFORMED_FILE.index(b"b,run") :])
        assert [record.task_name for record in watch.poll()] == ["b"]
    finally:
        watch.close()
    assert source.first_malformed is not None
    assert source.first_malformed.endswith("line 6, 'c,run,,,\"four\\nfive\"'")


# --- raw records: what follow compares a rewritten file with ----------------------------------------------


def test_raw_records_and_the_last_records_of_some_bytes() -> None:
    data = b'a,1\r\nb,"x\ny"\r\n"c\r\n,",2\r\nd,3\n'
    assert records.raw_records(data) == [b"a,1\r\n", b'b,"x\ny"\r\n', b'"c\r\n,",2\r\n', b"d,3\n"]
    assert records.last_records(data, 2, starts_a_record=True) == ([b'"c\r\n,",2\r\n', b"d,3\n"], True)
    assert records.last_records(data[2:], 9, starts_a_record=False) == (records.raw_records(data)[1:], False)
    big = b'z,"' + b"\n" * 200_000 + b'"\r\n'
    assert records.last_records(b"a,1\r\n" + big, 1, starts_a_record=True) == ([big], True)
    assert records.last_records(big[5:], 1, starts_a_record=False) == ([], False)
