"""The Query model and `matches`, the reference semantics every source must agree with (DESIGN §2)."""

import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from fnmatch import fnmatchcase
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tasklog_cli.errors import UsageError
from tasklog_cli.models import Action, Record
from tasklog_cli.query import Query, build_query, matches, parse_condition

NOW = datetime(2026, 11, 21, 19, 13, 12, 33474, tzinfo=UTC)
NOW_EPOCH = NOW.timestamp()
HELSINKI = ZoneInfo("Europe/Helsinki")


def query(**options: Any) -> Query:
    """A Query built as the CLI builds it, at NOW, with naive times in UTC unless a zone is given."""
    options.setdefault("zone", UTC)
    return build_query(now=NOW, **options)


def record(
    task_name: str = "nightly_backup",
    action: str = "run",
    created: float = NOW_EPOCH,
    run_id: str | None = None,
    **extra: Any,
) -> Record:
    return Record(created=created, task_name=task_name, action=action, run_id=run_id, extra=extra)


def selected(records: list[Record], query: Query) -> list[Record]:
    return [item for item in records if matches(item, query)]


# --- tasks, actions, run ids ------------------------------------------------------------------------------

TASK_NAMES = [
    "nightly_backup",
    "nightly_report",
    "task_1",
    "task_12",
    "alpha",
    "beta",
    "gamma",
    "weird[1]",
    "weird1",
]


def names_selected(*tasks: str) -> list[str]:
    q = query(tasks=tasks)
    return [name for name in TASK_NAMES if matches(record(name), q)]


def test_no_filter_matches_everything() -> None:
    assert names_selected() == TASK_NAMES
    assert matches(record(), Query())


@pytest.mark.parametrize(
    ("tasks", "expected"),
    [
        (("alpha",), ["alpha"]),
        (("alp",), []),
        (("Alpha",), []),
        (("nightly_*",), ["nightly_backup", "nightly_report"]),
        (("task_?",), ["task_1"]),
        (("[ab]*",), ["alpha", "beta"]),
        (("[!abnt]*",), ["gamma", "weird[1]", "weird1"]),
        (("*a",), ["alpha", "beta", "gamma"]),
        (("weird[1]",), ["weird[1]", "weird1"]),  # a glob for weird1, and an exact name matching itself
        (("weird[[]1]",), ["weird[1]"]),
        (("alpha", "beta"), ["alpha", "beta"]),
        (("alpha", "task_?"), ["task_1", "alpha"]),
        (("nightly_*", "*_1*"), ["nightly_backup", "nightly_report", "task_1", "task_12"]),
    ],
)
def test_tasks_exact_or_glob_repeated_or(tasks: tuple[str, ...], expected: list[str]) -> None:
    assert names_selected(*tasks) == expected


@pytest.mark.parametrize("name", ["weird[1]", "a*b", "what?", "[x]", "[", "a[b"])
def test_an_exact_name_holding_glob_chars_matches_itself(name: str) -> None:
    assert matches(record(name), query(tasks=[name]))


def test_actions() -> None:
    items = [record(action=action.value) for action in Action]
    assert [item.action for item in selected(items, query(actions=[Action.FAIL]))] == ["fail"]
    both = query(actions=[Action.FAIL, Action.CRASH, Action.FAIL])
    assert [item.action for item in selected(items, both)] == ["fail", "crash"]
    assert both.actions == (Action.FAIL, Action.CRASH)


def test_run_ids_and_records_without_one() -> None:
    items = [record(run_id="1"), record(run_id="2"), record(run_id=None), record(run_id="12")]
    assert [item.run_id for item in selected(items, query(run_ids=["1"]))] == ["1"]
    assert [item.run_id for item in selected(items, query(run_ids=["1", "12"]))] == ["1", "12"]
    assert selected(items, query(run_ids=["3"])) == []


def test_different_options_and_together() -> None:
    q = query(tasks=["nightly_*"], actions=[Action.FAIL], run_ids=["7"])
    assert matches(record("nightly_backup", "fail", run_id="7"), q)
    assert not matches(record("nightly_backup", "run", run_id="7"), q)
    assert not matches(record("nightly_backup", "fail", run_id="8"), q)
    assert not matches(record("daily_backup", "fail", run_id="7"), q)


# --- the time window --------------------------------------------------------------------------------------


def test_window_is_half_open() -> None:
    q = query(since="@100", until="@200")
    assert q.since == 100.0
    assert q.until == 200.0
    assert [matches(record(created=moment), q) for moment in (99.999, 100.0, 150.0, 199.999, 200.0)] == [
        False,
        True,
        True,
        True,
        False,
    ]


def test_window_with_one_end() -> None:
    assert matches(record(created=NOW_EPOCH - 3599), query(since="1h"))
    assert not matches(record(created=NOW_EPOCH - 3601), query(since="1h"))
    assert matches(record(created=NOW_EPOCH - 3601), query(until="1h"))
    assert not matches(record(created=NOW_EPOCH - 3600), query(until="1h"))


def test_window_reads_naive_times_in_the_zone() -> None:
    q = query(since="2026-11-21T12:00:00", until="2026-11-21T13:00:00", zone=HELSINKI)  # 10:00-11:00 UTC
    assert matches(record(created=datetime(2026, 11, 21, 10, 30, tzinfo=UTC).timestamp()), q)
    assert not matches(record(created=datetime(2026, 11, 21, 12, 30, tzinfo=UTC).timestamp()), q)


def test_bad_time_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="'last tuesday'"):
        query(since="last tuesday")


# --- grep -------------------------------------------------------------------------------------------------


def test_grep_searches_message_and_exc_text() -> None:
    in_message = record(message="Task 'x' failed: timeout", exc_text=None)
    in_traceback = record(message="Task 'x' status: 'fail'", exc_text="Traceback\n  ValueError: bad row\n")
    in_neither = record(message="all good", exc_text="")
    without_columns = record()
    items = [in_message, in_traceback, in_neither, without_columns]
    assert selected(items, query(grep="timeout")) == [in_message]
    assert selected(items, query(grep=r"ValueError: \w+ row")) == [in_traceback]
    assert selected(items, query(grep="^  ValueError")) == []  # not multiline
    assert selected(items, query(grep="Task")) == [in_message, in_traceback]
    assert selected(items, query(grep="")) == [in_message, in_traceback, in_neither]


def test_grep_is_none_safe_and_ignores_other_columns() -> None:
    assert not matches(record(message=None, exc_text=None), query(grep="."))
    assert not matches(record("timeout_task", message=None, note="timeout"), query(grep="timeout"))


def test_grep_ignore_case() -> None:
    item = record(message="Connection TIMEOUT")
    assert not matches(item, query(grep="timeout"))
    assert matches(item, query(grep="timeout", ignore_case=True))
    assert not matches(record(exc_text="ü"), query(grep="Ü"))
    assert matches(record(exc_text="ü"), query(grep="Ü", ignore_case=True))


@pytest.mark.parametrize("pattern", ["(", "[a-", "*x", "a{2,1}"])
def test_bad_regex_is_a_usage_error(pattern: str) -> None:
    with pytest.raises(UsageError) as caught:
        query(grep=pattern)
    assert repr(pattern) in str(caught.value)


# --- where ------------------------------------------------------------------------------------------------


def holds(condition: str, value: Any, *, field: str = "note") -> bool:
    """Whether `--where condition` selects a record whose `field` holds `value`."""
    return matches(record(**{field: value}), query(where=[condition]))


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ("note=beta", True),
        ("note=bet", False),
        ("note = beta", True),
        ("note!=beta", False),
        ("note!=alpha", True),
        ("note<gamma", True),
        ("note<beta", False),
        ("note<=beta", True),
        ("note>alpha", True),
        ("note>beta", False),
        ("note>=beta", True),
        ("note~b*", True),
        ("note~?eta", True),
        ("note~[ab]eta", True),
        ("note~B*", False),
        ("note~eta", False),
    ],
)
def test_where_text_operators(condition: str, expected: bool) -> None:
    assert holds(condition, "beta") is expected


@pytest.mark.parametrize(
    ("condition", "value", "expected"),
    [
        ("levelno=40", 40, True),
        ("levelno=40.0", 40, True),
        ("levelno!=40", 40, False),
        ("levelno<50", 40, True),
        ("levelno<=40", 40, True),
        ("levelno>9", 40, True),  # 40 > 9 as numbers, not as text
        ("levelno>=41", 40, False),
        ("msecs>12", 12.5, True),
        ("msecs<12.75", 12.5, True),
        ("msecs=12.5", 12.5, True),
        ("msecs>=1e1", 12.5, True),
        ("id>9", "10", True),  # numeric strings on both sides compare as numbers
        ("id<9", "10", False),
        ("id=10.0", "10", True),
        ("id=-3", "-3.0", True),
        ("id>9", "abc", True),  # not a number: text, and "abc" > "9"
        ("id<9", "abc", False),
        ("id=10", "10abc", False),
        ("id~1*", 10, True),
        ("id~1?", "10", True),
        ("id~2*", 10, False),
    ],
)
def test_where_numbers(condition: str, value: Any, expected: bool) -> None:
    field = re.match(r"\w+", condition)
    assert field is not None
    assert holds(condition, value, field=field.group()) is expected


def test_where_number_column_against_text_compares_as_text() -> None:
    assert holds("levelno<abc", 40, field="levelno")  # "40" < "abc"
    assert not holds("levelno=abc", 40, field="levelno")


def test_where_text_that_reads_as_nan_still_equals_itself() -> None:
    """`nan` is not a number to tasklog, whatever its sign, so such values compare as text."""
    assert holds("note=nan", "nan")
    assert holds("note=-nan", "-nan")


def test_where_durations_compare_in_seconds() -> None:
    assert holds("runtime>1", timedelta(seconds=1.5), field="runtime")
    assert holds("runtime=1.5", timedelta(seconds=1.5), field="runtime")
    assert not holds("runtime<1", timedelta(seconds=1.5), field="runtime")


def test_where_created_with_a_number_and_with_a_time() -> None:
    created = datetime(2026, 11, 21, 12, 0, tzinfo=UTC).timestamp()
    item = record(created=created)

    def where(condition: str, zone: Any = UTC) -> bool:
        return matches(item, query(where=[condition], zone=zone))

    assert where(f"created={created}")
    assert where(f"created>{created - 1}")
    assert not where(f"created<{created}")
    assert where(f"created<={created}")
    assert where("created>=2026-11-21")
    assert where("created<2026-11-22")
    assert where("created>2026-11-21T11:59:59")
    assert not where("created>2026-11-21T12:00:00")
    assert where("created=2026-11-21T12:00:00Z")
    assert where("created=2026-11-21T14:00:00", HELSINKI)
    assert where("created<2h")  # 12:00 is more than two hours before NOW (19:13)
    assert not where("created>2h")
    assert where("created>1w")
    assert where(f"created=@{created}")
    assert where("created>yesterday")
    assert where("created>=today")
    assert not where("created<today")
    assert where("created>=12:00")
    assert not where("created>12:00")


def test_where_start_and_end_compare_as_times() -> None:
    start = datetime(2026, 11, 21, 12, 0, 0, 500000, tzinfo=UTC)
    item = record(start=start, end=None)

    def where(condition: str, zone: Any = UTC) -> bool:
        return matches(item, query(where=[condition], zone=zone))

    assert where("start>2026-11-21T12:00:00")
    assert where("start<2026-11-21T12:00:01")
    assert where("start=2026-11-21T12:00:00.5")
    assert where("start!=2026-11-21T12:00:00")
    assert where("start>=2026-11-21")
    assert where("start<2026-11-21T14:00:01", HELSINKI)  # 12:00:01 UTC
    assert not where("start<2026-11-21T14:00:00", HELSINKI)  # 12:00 UTC
    assert not where("start<2026-11-21T12:00:01", HELSINKI)  # 10:00:01 UTC
    assert where("start<2h")
    assert where("start>1d")
    assert where(f"start=@{start.timestamp()}")
    assert where("start~2026-11-21T12:*")  # globs see the UTC ISO text
    assert not where("start~2026-11-21 12:*")
    assert where("start=2026-11-21T12:00:00.500000+00:00")
    assert where("end=")
    assert not where("end>2026-11-21")


def test_where_on_missing_values() -> None:
    missing = record(run_id=None)  # no `note` column, no run id
    assert matches(missing, query(where=["note="]))
    assert not matches(missing, query(where=["note!="]))
    assert not matches(missing, query(where=["note=x"]))
    assert matches(missing, query(where=["note!=x"]))
    assert matches(missing, query(where=["run_id!=7"]))
    assert not matches(missing, query(where=["run_id=7"]))
    for op in ("<", "<=", ">", ">=", "~"):
        assert not matches(missing, query(where=[f"note{op}x"])), op
        assert not matches(missing, query(where=[f"note{op}5"])), op
    assert not matches(missing, query(where=["note~*"]))


def test_where_on_empty_text() -> None:
    assert holds("note=", "")
    assert not holds("note!=", "")
    assert holds("note!=x", "")
    assert holds("note<a", "")


def test_where_core_columns() -> None:
    item = record("nightly_backup", "fail", run_id="7")
    assert matches(item, query(where=["task_name~nightly_*"]))
    assert matches(item, query(where=["action=fail"]))
    assert matches(item, query(where=["run_id>=7"]))
    assert not matches(item, query(where=["run_id>10"]))  # numbers, not text


def test_where_conditions_and_together() -> None:
    item = record(note="beta", levelno=40)
    assert matches(item, query(where=["note=beta", "levelno>=30"]))
    assert not matches(item, query(where=["note=beta", "levelno>=50"]))


def test_parse_condition() -> None:
    condition = parse_condition("  levelno >= 30 ", now=NOW, zone=UTC)
    assert (condition.field, condition.op, condition.value, condition.number) == ("levelno", ">=", "30", 30.0)
    tricky = parse_condition("message=a = b != c", now=NOW, zone=UTC)
    assert (tricky.field, tricky.op, tricky.value) == ("message", "=", "a = b != c")
    moment = parse_condition("created>2h", now=NOW, zone=UTC)
    assert moment.number is None
    assert moment.moment == NOW_EPOCH - 7200
    assert parse_condition("x.y<=1", now=NOW, zone=UTC).op == "<="
    assert parse_condition("note!=", now=NOW, zone=UTC).value == ""


@pytest.mark.parametrize("text", ["", "note", "=x", "1note=x", "note x", "-note=1", "no te=1"])
def test_bad_where_is_a_usage_error(text: str) -> None:
    with pytest.raises(UsageError) as caught:
        query(where=[text])
    message = str(caught.value)
    assert repr(text) in message
    assert "FIELD OP VALUE" in message
    assert "!=" in message
    assert "~" in message


# --- level ------------------------------------------------------------------------------------------------


def test_level_by_levelno_and_by_levelname() -> None:
    items = [
        record("by_number", levelno=10, levelname="DEBUG"),
        record("by_number", levelno=30, levelname="WARNING"),
        record("by_number", levelno=45),
        record("by_name", levelname="INFO"),
        record("by_name", levelname="error"),
        record("by_name", levelname="CRITICAL"),
        record("neither"),
        record("bogus", levelname="LOUD"),
    ]
    assert [
        (item.task_name, item.get("levelno"), item.get("levelname"))
        for item in selected(items, query(level="WARNING"))
    ] == [
        ("by_number", 30, "WARNING"),
        ("by_number", 45, None),
        ("by_name", None, "error"),
        ("by_name", None, "CRITICAL"),
    ]
    assert len(selected(items, query(level="debug"))) == 6
    assert len(selected(items, query(level="40"))) == 3
    assert selected(items, query(level="0")) == items


def test_levelno_wins_over_levelname() -> None:
    assert matches(record(levelno=40, levelname="INFO"), query(level="ERROR"))
    assert not matches(record(levelno=20, levelname="ERROR"), query(level="ERROR"))


def test_bad_level_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="'LOUD'"):
        query(level="LOUD")


# --- Query.fields ------------------------------------------------------------------------------------------


def test_query_fields() -> None:
    assert query().fields() == set()
    assert query(tasks=["a"], actions=[Action.RUN], run_ids=["1"], since="1h", until="now").fields() == set()
    assert query(grep="x").fields() == {"message", "exc_text"}
    assert query(where=["levelno>1", "note=x", "levelno<9"]).fields() == {"levelno", "note"}
    assert "levelname" in query(level="INFO").fields()
    assert query(grep="x", where=["pathname~*.py"]).fields() == {"message", "exc_text", "pathname"}


# --- property: matches equals a plain predicate --------------------------------------------------------------


@dataclass(frozen=True)
class Options:
    """What a user typed, and what the plain predicate below reads."""

    tasks: list[str]
    actions: list[Action]
    run_ids: list[str]
    since: int | None
    until: int | None
    grep: str | None
    ignore_case: bool
    where: list[tuple[str, str, str]]
    level: str | None


LEVELS = {"DEBUG": 10, "INFO": 20, "WARNING": 30, "ERROR": 40, "CRITICAL": 50}


def as_number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def grep_hit(pattern: str, text: str, ignore_case: bool) -> bool:
    if ignore_case:
        pattern, text = pattern.lower(), text.lower()
    if pattern == "x|y":
        return "x" in text or "y" in text
    if pattern == "^e":
        return text.startswith("e")
    if pattern == "^E":
        return text.startswith("E")
    return pattern in text


def condition_ok(item: Record, field: str, op: str, value: str) -> bool:
    stored = item.get(field)
    if stored is None:
        return {"=": value == "", "!=": value != ""}.get(op, False)
    if op == "~":
        return fnmatchcase(str(stored), value)
    left: Any = as_number(stored)
    right: Any = as_number(value)
    if field == "created" and value.startswith("@"):
        right = float(value[1:])
    if left is None or right is None:
        left, right = str(stored), value
    return bool(
        {
            "=": left == right,
            "!=": left != right,
            "<": left < right,
            "<=": left <= right,
            ">": left > right,
            ">=": left >= right,
        }[op]
    )


def level_of(item: Record) -> int:
    levelno = item.get("levelno")
    if isinstance(levelno, int):
        return levelno
    return LEVELS.get(str(item.get("levelname")).upper(), 0)


def plainly_matches(item: Record, options: Options) -> bool:
    """DESIGN §2 read literally, without the code under test."""
    globs = [task for task in options.tasks if any(char in task for char in "*?[")]
    if options.tasks and not (
        item.task_name in options.tasks or any(fnmatchcase(item.task_name, glob) for glob in globs)
    ):
        return False
    if options.actions and item.action not in [action.value for action in options.actions]:
        return False
    if options.run_ids and item.run_id not in options.run_ids:
        return False
    if options.since is not None and not item.created >= options.since:
        return False
    if options.until is not None and not item.created < options.until:
        return False
    if options.grep is not None:
        texts = [item.get("message"), item.get("exc_text")]
        if not any(
            isinstance(text, str) and grep_hit(options.grep, text, options.ignore_case) for text in texts
        ):
            return False
    if not all(condition_ok(item, field, op, value) for field, op, value in options.where):
        return False
    return options.level is None or level_of(item) >= LEVELS.get(options.level, 0)


maybe_text = st.sampled_from([None, "", "err", "Error", "x", "ERR y", "nothing"])
records = st.builds(
    record,
    task_name=st.sampled_from(["a", "b", "ab", "ba", "weird[1]", "weird1", "a_1"]),
    action=st.sampled_from([action.value for action in Action]),
    created=st.integers(0, 10).map(float),
    run_id=st.sampled_from([None, "1", "2"]),
    message=maybe_text,
    exc_text=maybe_text,
    note=st.sampled_from([None, "", "a", "b", "ab", "10", "9", "2.5"]),
    n=st.sampled_from([None, 9, 10, 2.5, "10", "x", -1]),
    levelno=st.sampled_from([None, 10, 20, 30, 40]),
    levelname=st.sampled_from([None, "INFO", "warning", "ERROR", "bogus"]),
)
conditions = st.tuples(
    st.sampled_from(["note", "n", "created", "missing", "task_name", "run_id"]),
    st.sampled_from(["=", "!=", "<", "<=", ">", ">=", "~"]),
    st.sampled_from(["", "a", "b", "10", "9", "2.5", "-1", "a*", "1*", "?", "@5", "ab", "weird[1]"]),
)


def often_empty(values: list[Any]) -> st.SearchStrategy[list[Any]]:
    """Half the time no values (the option is not given), else one or two."""
    return st.just([]) | st.lists(st.sampled_from(values), min_size=1, max_size=2)


options = st.builds(
    Options,
    tasks=often_empty(["a", "ab", "a*", "?b", "[ab]*", "weird[1]", "*1*", "b", "c"]),
    actions=often_empty(list(Action)),
    run_ids=often_empty(["1", "2", "3"]),
    since=st.none() | st.integers(0, 10),
    until=st.none() | st.integers(0, 10),
    grep=st.none() | st.sampled_from(["err", "E", "x|y", "^E"]),
    ignore_case=st.booleans(),
    where=st.just([]) | st.lists(conditions, min_size=1, max_size=2),
    level=st.none() | st.sampled_from(["INFO", "WARNING", "ERROR"]),
)


@given(items=st.lists(records, min_size=1, max_size=8), typed=options)
def test_matches_agrees_with_a_plain_predicate(items: list[Record], typed: Options) -> None:
    built = query(
        tasks=typed.tasks,
        actions=typed.actions,
        run_ids=typed.run_ids,
        since=None if typed.since is None else f"@{typed.since}",
        until=None if typed.until is None else f"@{typed.until}",
        grep=typed.grep,
        ignore_case=typed.ignore_case,
        where=[f"{field}{op}{value}" for field, op, value in typed.where],
        level=typed.level,
    )
    for item in items:
        assert matches(item, built) is plainly_matches(item, typed), (item, typed)
