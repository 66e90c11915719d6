"""One stored fastapi-taskflow task as its run: a `run` record, one `log` record per line, its finish."""

import json
import re
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any, NamedTuple

from tasklog_cli.models import Action, Record
from tasklog_cli.runs import Run
from tasklog_cli.sources.base import MalformedRowError
from tasklog_cli.values import to_epoch

# The snapshot fields tasklog reads (args, kwargs and encrypted payloads stay in the store).
SNAPSHOT_FIELDS = (
    "task_id", "func_name", "status", "created_at", "start_time", "end_time", "duration", "retries_used",
    "error", "stacktrace", "logs_json", "queue", "executor", "source", "priority",
)  # fmt: skip
# Every record of a task carries these, when the store has them (later versions added them).
TASK_FIELDS = ("queue", "executor", "source", "priority")
RECORD_FIELDS = ("message", "exc_text", "status", "attempt", "duration", "retries_used")
# DESIGN §4 rule 7, the one status vocabulary: the outcome of a task that ended with this status, which is
# also the action of its finishing record.
OUTCOME_OF_STATUS: Mapping[str, Action] = {
    "success": Action.SUCCESS,
    "failed": Action.FAIL,
    "cancelled": Action.TERMINATE,
    "interrupted": Action.TERMINATE,
    "rejected": Action.FAIL,
}
LOG_ACTION = "log"
_SEPARATOR = re.compile(r"--- Retry (\d+) ---")
# `task_log()` lines: `2026-11-21T19:06:47Z message` since 0.11, without the `Z` (also UTC) before.
_LOG_LINE = re.compile(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)Z? (.*)", re.DOTALL)


class Snapshot(NamedTuple):
    """One stored task: when it was enqueued (the store's order) and its run."""

    created: float
    task_id: str
    run: Run


def read_snapshot(row: Mapping[str, Any]) -> Snapshot:
    """A stored task as its run: `run` at start_time, one `log` record per line, the finish at end_time."""
    task_name, task_id, status = (_text(row.get(name)) for name in ("func_name", "task_id", "status"))
    outcome = OUTCOME_OF_STATUS.get(status or "")
    if task_name is None or task_id is None or status is None or outcome is None:
        raise MalformedRowError(f"no func_name, task_id or known status ({status})")
    created, start, end = (_time(row, name) for name in ("created_at", "start_time", "end_time"))
    if created is None:
        raise MalformedRowError("no created_at")
    finished = created if end is None else end  # a rejected task never started nor ended: refused then
    retries = int(_text(row.get("retries_used")) or 0)
    stored = _text(row.get("duration"))
    duration = None if stored is None else float(stored)
    common = _task_fields(row)
    lines = [str(line) for line in json.loads(row["logs_json"])] if row.get("logs_json") else []
    first_attempt = _first_attempt(lines, retries + 1)
    records = (
        []
        if start is None
        else [Record(start, task_name, "run", task_id, {**common, "attempt": first_attempt})]
    )
    first = created if start is None else start
    records.extend(_log_records(lines, first_attempt, first, (task_name, task_id), common))
    finish = {
        **common,
        "message": _text(row.get("error")),
        "exc_text": _text(row.get("stacktrace")),
        "status": status,
        "attempt": retries + 1,
        "duration": None if duration is None else timedelta(seconds=duration),
        "retries_used": retries,
    }
    records.append(Record(finished, task_name, outcome.value, task_id, finish))
    run = Run(
        task_name, task_id, start, finished, outcome.value, retries + 1, tuple(records), status, duration
    )
    return Snapshot(created, task_id, run)


def _first_attempt(lines: list[str], final_attempt: int) -> int:
    """The attempt of the lines before the first `--- Retry N ---`: the final one less the separators
    (a task re-run from scratch after a restart keeps its `retries_used` but only the new run's lines)."""
    separators = sum(1 for line in lines if _SEPARATOR.fullmatch(line))
    return max(final_attempt - separators, 1)


def _log_records(
    lines: list[str], attempt: int, first: float, task: tuple[str, str], common: Mapping[str, Any]
) -> Iterator[Record]:
    """One `log` record per line; the lines after `--- Retry N ---` are attempt N + 1."""
    created = first
    for line in lines:
        if separator := _SEPARATOR.fullmatch(line):
            attempt = int(separator.group(1)) + 1
            continue
        stamped = _LOG_LINE.fullmatch(line)
        created = _line_epoch(stamped.group(1)) if stamped else created  # an unstamped line: as the last
        extra = {**common, "message": stamped.group(2) if stamped else line, "attempt": attempt}
        yield Record(created, task[0], LOG_ACTION, task[1], extra)


@lru_cache(maxsize=4096)
def _line_epoch(stamp: str) -> float:
    """Epoch seconds of a log line's `2026-11-21T19:06:47` (UTC; many lines share one second)."""
    return datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC).timestamp()


def _text(value: Any) -> str | None:
    """A stored value as text; None and '' (how Redis stores None) are None."""
    return None if value is None or value == "" else str(value)


def _time(row: Mapping[str, Any], name: str) -> float | None:
    """Epoch seconds of a stored ISO time (naive ones, written before 0.11, are UTC)."""
    value = row.get(name)
    return None if _text(value) is None else to_epoch(value, UTC)


def _task_fields(row: Mapping[str, Any]) -> dict[str, Any]:
    """The fields every record of the task carries: queue, executor, source, priority."""
    fields: dict[str, Any] = {name: _text(row.get(name)) for name in TASK_FIELDS if name in row}
    if fields.get("priority") is not None:
        fields["priority"] = int(fields["priority"])
    return fields
