"""The plain immutable values the Python API returns: attribute names are the machine field names."""

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import datetime
from types import MappingProxyType
from typing import Any

from tasklog_cli.models import CORE_COLUMNS

NO_FIELDS: Mapping[str, Any] = MappingProxyType({})

# The machine field names of each kind of result, in output order (DESIGN §5: a public interface).
RECORD_FIELDS = CORE_COLUMNS
RUN_FIELDS = ("task_name", "run_id", "start", "end", "duration", "outcome", "attempt")
RUNTIME_FIELDS = (
    "task_name", "runs", "success", "fail", "terminate", "inaction", "crash", "running", "success_rate",
    "min", "p50", "p95", "max", "mean", "last_start", "last_outcome",
)  # fmt: skip
TASK_FIELDS = ("task_name", "runs", "last_start", "last_outcome", "last_duration", "success_rate", "streak")
CHECK_FIELDS = ("task_name", "check", "problem", "value", "limit")

# Which result fields hold durations (float seconds) and which hold times (aware UTC datetimes).
DURATION_FIELDS = frozenset({"duration", "min", "p50", "p95", "max", "mean", "last_duration"})
TIME_FIELDS = frozenset({"created", "start", "end", "last_start", "first", "last", "bucket"})


@dataclass(frozen=True, slots=True)
class Result:
    """A value whose fields can be read by name, as output rows are."""

    def get(self, name: str) -> Any:
        """The value of a field by its machine name (None when it has no such field)."""
        return getattr(self, name, None)

    def names(self) -> tuple[str, ...]:
        """The machine field names, in order."""
        return tuple(item.name for item in fields(self))


@dataclass(frozen=True, slots=True)
class Record(Result):
    """One logged task action; the store's own columns are in `fields`."""

    created: datetime
    task_name: str
    action: str
    run_id: str | None = None
    fields: Mapping[str, Any] = field(default_factory=lambda: NO_FIELDS)

    def get(self, name: str) -> Any:
        if name in ("created", "task_name", "action", "run_id"):
            return getattr(self, name)
        return self.fields.get(name)


@dataclass(frozen=True, slots=True)
class Run(Result):
    """One run: its `run` record paired with its finish (DESIGN §4)."""

    task_name: str
    run_id: str | None
    start: datetime | None
    end: datetime | None
    duration: float | None
    outcome: str
    attempt: int = 1
    status: str | None = None


@dataclass(frozen=True, slots=True)
class Runtime(Result):
    """Statistics of one task's runs (and of one time bucket with `by`); durations in seconds."""

    task_name: str
    runs: int
    success: int
    fail: int
    terminate: int
    inaction: int
    crash: int
    running: int
    success_rate: float | None
    min: float | None
    p50: float | None
    p95: float | None
    max: float | None
    mean: float | None
    last_start: datetime | None
    last_outcome: str
    bucket: datetime | None = None
    recent: tuple[float, ...] = ()
    outcomes: tuple[str, ...] = ()

    @property
    def failed(self) -> int:
        """The runs that count against the success rate: fail, terminate and crash."""
        return self.fail + self.terminate + self.crash


@dataclass(frozen=True, slots=True)
class TaskHealth(Result):
    """One task at a glance: its latest run, success rate and streak (`fail x3`)."""

    task_name: str
    runs: int
    last_start: datetime | None
    last_outcome: str
    last_duration: float | None
    success_rate: float | None
    streak: str


@dataclass(frozen=True, slots=True)
class Problem(Result):
    """One failed health check: which task, which check, what is wrong, the value and the limit."""

    task_name: str
    check: str
    problem: str
    value: float | None = None
    limit: float | None = None


@dataclass(frozen=True, slots=True)
class TimelineRun(Result):
    """A run in a timeline: its number in its task's history, the run and its records."""

    number: int
    run: Run
    records: tuple[Record, ...]


@dataclass(frozen=True, slots=True)
class Timeline(Result):
    """A task's selected runs, with how many runs its whole history has."""

    task_name: str
    total_runs: int
    runs: tuple[TimelineRun, ...]


@dataclass(frozen=True, slots=True)
class Info(Result):
    """What a store is: how it was chosen, its model and columns, its size, time span and tasks."""

    source: str
    chosen_by: str
    kind: str
    model: str
    details: Mapping[str, Any]
    columns: tuple[str, ...]
    records: int
    first: datetime | None
    last: datetime | None
    tasks: Mapping[str, int]
    malformed_rows: int = 0
