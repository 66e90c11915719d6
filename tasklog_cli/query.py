"""The one query model every command and source shares, and its reference semantics."""

import logging
import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from fnmatch import fnmatchcase
from typing import Any, Literal

from tasklog_cli.errors import UsageError
from tasklog_cli.models import Action, Record
from tasklog_cli.times import Zone, attach_zone, iso_utc, parse_time

Operator = Literal["=", "!=", "<", "<=", ">", ">=", "~"]
# A time as the API takes it: the CLI's syntax, an aware (or, in the zone, naive) datetime, or epoch seconds.
Moment = str | datetime | float
GREP_FIELDS = ("message", "exc_text")
GLOB_CHARS = frozenset("*?[")
_CONDITION = re.compile(r"\s*([A-Za-z_][\w.]*)\s*(!=|<=|>=|=|<|>|~)(.*)", re.DOTALL)
_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "=": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}


@dataclass(frozen=True, slots=True)
class Condition:
    """One `--where 'FIELD OP VALUE'` condition, with its value pre-read as a number and as a time."""

    field: str
    op: Operator
    value: str
    number: float | None = None
    moment: float | None = None


@dataclass(frozen=True, slots=True)
class Query:
    """What to select: every option ANDs with the others, repeated values of one option OR.

    A plain frozen dataclass: `build_query` checks what users type (a pydantic model here would cost
    every command ~60 ms of start-up).
    """

    tasks: tuple[str, ...] = ()
    actions: tuple[str, ...] = ()
    run_ids: tuple[str, ...] = ()
    since: float | None = None
    until: float | None = None
    grep: str | None = None
    ignore_case: bool = False
    where: tuple[Condition, ...] = ()
    level: int | None = None

    def fields(self) -> set[str]:
        """The store columns beyond the core four that this query reads."""
        used = {condition.field for condition in self.where}
        if self.grep is not None:
            used.update(GREP_FIELDS)
        if self.level is not None:
            used.update(("levelname", "levelno"))
        return used

    @property
    def by_record(self) -> bool:
        """Whether it selects by what records say (`--grep`, `--where`, `--level`): only reading the
        records answers it."""
        return self.grep is not None or bool(self.where) or self.level is not None

    def task_globs(self) -> tuple[str, ...]:
        """The `--task` values that are glob patterns."""
        return tuple(task for task in self.tasks if GLOB_CHARS & set(task))

    def exact_tasks(self) -> tuple[str, ...]:
        """The `--task` values that name one task (not glob patterns)."""
        return tuple(task for task in self.tasks if not GLOB_CHARS & set(task))


def is_number(text: str) -> bool:
    """Whether text reads as a finite number."""
    try:
        return math.isfinite(float(text))
    except ValueError:
        return False


def parse_condition(text: str, *, now: datetime, zone: Zone) -> Condition:
    """Parse `FIELD OP VALUE` (one shell token) into a Condition."""
    match = _CONDITION.fullmatch(text)
    if match is None:
        raise UsageError(f"bad --where {text!r}: use 'FIELD OP VALUE' with OP one of = != < <= > >= ~")
    field, op, value = match.group(1), match.group(2), match.group(3).strip()
    number = float(value) if is_number(value) else None
    try:
        moment: float | None = parse_time(value, now=now, zone=zone) if value else None
    except UsageError:
        moment = None
    return Condition(field=field, op=op, value=value, number=number, moment=moment)  # type: ignore[arg-type]


def parse_level(name: str) -> int:
    """The numeric logging level of a level name or number."""
    if is_number(name):
        return int(float(name))
    level = logging.getLevelName(name.upper())
    if not isinstance(level, int):
        raise UsageError(f"unknown level {name!r}: use DEBUG, INFO, WARNING, ERROR or CRITICAL")
    return level


def parse_moment(value: Moment, *, now: datetime, zone: Zone) -> float:
    """Epoch seconds of a time given as text (the CLI's syntax), a datetime or a number."""
    if isinstance(value, datetime):
        return attach_zone(value, zone).timestamp()
    if isinstance(value, int | float):
        return float(value)
    return parse_time(value, now=now, zone=zone)


def parse_actions(actions: Iterable[str]) -> tuple[str, ...]:
    """Actions as typed, checked: Rocketry's and fastapi-taskflow's `log` (exit 2 for anything else)."""
    known = (*Action, "log")
    chosen = tuple(dict.fromkeys(action.lower() for action in actions))
    for action in chosen:
        if action not in known:
            raise UsageError(f"unknown action {action!r}: use {', '.join(known)}")
    return chosen


def build_query(
    *,
    tasks: Iterable[str] = (),
    actions: Iterable[str] = (),
    run_ids: Iterable[str] = (),
    since: Moment | None = None,
    until: Moment | None = None,
    grep: str | None = None,
    ignore_case: bool = False,
    where: Iterable[str] = (),
    level: str | None = None,
    now: datetime,
    zone: Zone,
) -> Query:
    """Build a Query from the options as typed, reading times and conditions in `zone`."""
    if grep is not None:
        try:
            re.compile(grep)
        except (re.error, OverflowError, RecursionError) as exc:  # `a{4294967296}`, deep nesting
            raise UsageError(f"bad --grep regex {grep!r}: {exc}") from exc
    return Query(
        tasks=tuple(tasks),
        actions=parse_actions(actions),
        run_ids=tuple(run_ids),
        since=None if since is None else parse_moment(since, now=now, zone=zone),
        until=None if until is None else parse_moment(until, now=now, zone=zone),
        grep=grep,
        ignore_case=ignore_case,
        where=tuple(parse_condition(text, now=now, zone=zone) for text in where),
        level=None if level is None else parse_level(level),
    )


def _comparable(value: Any, condition: Condition) -> tuple[Any, Any]:
    """The pair to compare: times as epochs, numbers as floats, anything else as text."""
    if isinstance(value, datetime):
        if condition.moment is not None:
            return value.timestamp(), condition.moment
        if condition.number is not None:
            return value.timestamp(), condition.number
        return iso_utc(value), condition.value
    if isinstance(value, timedelta):
        value = value.total_seconds()
    if isinstance(value, int | float) and not isinstance(value, bool):
        if condition.number is not None:
            return float(value), condition.number
        if condition.field == "created" and condition.moment is not None:
            return float(value), condition.moment
    text = str(value)
    if condition.number is not None and is_number(text):
        return float(text), condition.number
    return text, condition.value


def condition_holds(condition: Condition, value: Any) -> bool:
    """Whether a record's value satisfies one condition (a missing value only equals '')."""
    if value is None:
        return (condition.op == "=") == (condition.value == "") if condition.op in ("=", "!=") else False
    if condition.op == "~":
        return fnmatchcase(iso_utc(value) if isinstance(value, datetime) else str(value), condition.value)
    left, right = _comparable(value, condition)
    return _COMPARE[condition.op](left, right)


def task_matcher(tasks: tuple[str, ...]) -> Callable[[str], bool]:
    """A test for task names: exact names, or globs (an exact name always matches itself)."""
    names = frozenset(tasks)
    globs = tuple(task for task in tasks if GLOB_CHARS & set(task))
    if not globs:
        return names.__contains__
    return lambda name: name in names or any(fnmatchcase(name, glob) for glob in globs)


def level_of(record: Record) -> int | None:
    """A record's numeric level, from `levelno` or `levelname`."""
    levelno = record.get("levelno")
    if isinstance(levelno, int):
        return levelno
    name = record.get("levelname")
    level = logging.getLevelName(str(name).upper()) if name else None
    return level if isinstance(level, int) else None


def compile_query(query: Query) -> Callable[[Record], bool]:
    """Compile a Query into a predicate over Records: the reference semantics for every source."""
    checks: list[Callable[[Record], bool]] = []
    if query.tasks:
        is_task = task_matcher(query.tasks)
        checks.append(lambda record: is_task(record.task_name))
    if query.actions:
        actions = frozenset(query.actions)
        checks.append(lambda record: record.action in actions)
    if query.run_ids:
        run_ids = frozenset(query.run_ids)
        checks.append(lambda record: record.run_id in run_ids)
    if query.since is not None:
        since = query.since
        checks.append(lambda record: record.created >= since)
    if query.until is not None:
        until = query.until
        checks.append(lambda record: record.created < until)
    if query.grep is not None:
        pattern = re.compile(query.grep, re.IGNORECASE if query.ignore_case else 0)
        checks.append(
            lambda record: any(
                isinstance(text := record.get(name), str) and pattern.search(text) for name in GREP_FIELDS
            )
        )
    checks.extend(_where_check(condition) for condition in query.where)
    if query.level is not None:
        minimum = query.level
        checks.append(lambda record: (level_of(record) or 0) >= minimum)
    return lambda record: all(check(record) for check in checks)


def _where_check(condition: Condition) -> Callable[[Record], bool]:
    return lambda record: condition_holds(condition, record.get(condition.field))


def matches(record: Record, query: Query) -> bool:
    """Whether a record matches a query (the spec the sources' push-downs must agree with)."""
    return compile_query(query)(record)
