"""Light types built per row: actions, records and the column kinds of Rocketry's record models."""

from collections.abc import Iterable, Mapping
from enum import StrEnum
from types import MappingProxyType
from typing import Any, NamedTuple


class Action(StrEnum):
    """A task action as Rocketry logs it."""

    RUN = "run"
    SUCCESS = "success"
    FAIL = "fail"
    TERMINATE = "terminate"
    INACTION = "inaction"
    CRASH = "crash"


class Outcome(StrEnum):
    """How a run ended (or that it has not): the one outcome vocabulary of every command and store."""

    SUCCESS = "success"
    FAIL = "fail"
    TERMINATE = "terminate"
    INACTION = "inaction"
    CRASH = "crash"
    RUNNING = "running"


# The actions that finish a run, the outcomes that count against it, and every outcome in report order.
FINISHES = frozenset({Outcome.SUCCESS, Outcome.FAIL, Outcome.TERMINATE, Outcome.INACTION})
FAILURES = frozenset({Outcome.FAIL, Outcome.TERMINATE, Outcome.CRASH})
OUTCOMES = tuple(Outcome)


class ColumnKind(StrEnum):
    """How a column's stored values are read and compared."""

    TEXT = "text"
    INT = "int"
    FLOAT = "float"
    EPOCH = "epoch"
    TIME = "time"
    DURATION = "duration"


REQUIRED_COLUMNS = ("task_name", "action", "created")
CORE_COLUMNS = ("created", "task_name", "action", "run_id")

# Rocketry's record models (rocketry/log/log_record.py) fix these columns' types whatever the store says.
ROCKETRY_COLUMN_KINDS: Mapping[str, ColumnKind] = {
    "created": ColumnKind.EPOCH,
    "start": ColumnKind.TIME,
    "end": ColumnKind.TIME,
    "runtime": ColumnKind.DURATION,
    "levelno": ColumnKind.INT,
    "lineno": ColumnKind.INT,
    "thread": ColumnKind.INT,
    "process": ColumnKind.INT,
    "msecs": ColumnKind.FLOAT,
    "relativeCreated": ColumnKind.FLOAT,
}

_LOG_RECORD_COLUMNS = frozenset(
    {
        "name", "msg", "levelname", "levelno", "pathname", "filename", "module", "exc_text", "lineno",
        "funcName", "msecs", "relativeCreated", "thread", "threadName", "processName", "process",
        "message", "formatted_message",
    }
)  # fmt: skip
_TASK_LOG_COLUMNS = frozenset({"start", "end", "runtime", "message", "exc_text"})


def detect_model(columns: Iterable[str]) -> str:
    """Name the richest Rocketry record model whose columns the store has."""
    present = set(columns)
    if present >= _LOG_RECORD_COLUMNS:
        base = "LogRecord"
    elif present >= _TASK_LOG_COLUMNS:
        base = "TaskLogRecord"
    else:
        base = "MinimalRecord"
    if "run_id" not in present:
        return base
    return {"LogRecord": "RunRecord", "TaskLogRecord": "TaskRunRecord"}.get(base, "MinimalRunRecord")


NO_EXTRA: Mapping[str, Any] = MappingProxyType({})


class Record(NamedTuple):
    """One logged task action; `created` is epoch seconds, other times are aware UTC datetimes.

    A named tuple: a million of them are built per large store, and tuples are the cheapest to build.
    """

    created: float
    task_name: str
    action: str
    run_id: str | None = None
    extra: Mapping[str, Any] = NO_EXTRA

    def get(self, name: str) -> Any:
        """The value of any column, core or the store's own (None when absent)."""
        if name in CORE_COLUMNS:
            return getattr(self, name)
        return self.extra.get(name)
