"""Runs turned into output rows: runs, runtimes per task (and time bucket), task health, timeline rows."""

from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from itertools import groupby
from operator import attrgetter
from typing import Any

from tasklog_cli.models import Record
from tasklog_cli.query import Query
from tasklog_cli.render import TimelineRun
from tasklog_cli.runs import FAILURES, RUNNING, Run, run_selector, runtime_stats, streak, success_rate
from tasklog_cli.sources import Source
from tasklog_cli.times import Zone, in_zone, utc_from_epoch

RUN_FIELDS = ("task_name", "run_id", "start", "end", "duration", "outcome", "attempt")
RUNTIME_FIELDS = (
    "task_name", "runs", "success", "fail", "terminate", "inaction", "crash", "running", "success_rate",
    "min", "p50", "p95", "max", "mean", "last_start", "last_outcome",
)  # fmt: skip
RUNTIME_TABLE_FIELDS = (
    "runs",
    "success",
    "fail",
    "success_rate",
    "p50",
    "p95",
    "max",
    "last_start",
    "last_outcome",
)
TASK_FIELDS = ("task_name", "runs", "last_start", "last_outcome", "last_duration", "success_rate", "streak")
DURATION_FIELDS = frozenset({"duration", "min", "p50", "p95", "max", "mean", "last_duration"})
TIME_FIELDS = frozenset({"start", "end", "last_start", "bucket"})
RECENT = 20


class Bucket(StrEnum):
    """Time buckets for `runtimes --by`."""

    HOUR = "hour"
    DAY = "day"


def _typed(row: dict[str, Any]) -> dict[str, Any]:
    """Epoch seconds become UTC datetimes and durations timedeltas, so every format shows them its way."""
    for name, value in row.items():
        if value is not None and name in TIME_FIELDS and not isinstance(value, datetime):
            row[name] = utc_from_epoch(value)
        elif value is not None and name in DURATION_FIELDS:
            row[name] = timedelta(seconds=value)
    return row


def run_row(run: Run) -> dict[str, Any]:
    """One run as an output row."""
    row = {
        "task_name": run.task_name,
        "run_id": run.run_id,
        "start": run.start,
        "end": run.end,
        "duration": run.duration,
        "outcome": run.outcome,
        "attempt": run.attempt,
    }
    if run.status is not None:
        row["status"] = run.status
    return _typed(row)


def bucket_start(moment: float, bucket: Bucket, zone: Zone) -> datetime:
    """The start of the hour or day (in the display zone) that a moment falls in."""
    local = in_zone(utc_from_epoch(moment), zone)
    if bucket is Bucket.HOUR:
        return local.replace(minute=0, second=0, microsecond=0)
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


def runtime_rows(
    runs: Iterable[Run], *, by: Bucket | None = None, zone: Zone = None, recent: bool = False
) -> list[dict[str, Any]]:
    """Statistics per task (and per time bucket with `by`); `recent` adds the last durations and outcomes.

    Runs come grouped by task (as pairing yields them), so only one task's runs are held at a time.
    """
    rows = []
    for task_name, task_runs in groupby(runs, key=attrgetter("task_name")):
        groups: dict[datetime | None, list[Run]] = defaultdict(list)
        for run in task_runs:
            groups[None if by is None else bucket_start(run.moment, by, zone)].append(run)
        for bucket, group in sorted(
            groups.items(), key=lambda item: item[0] or datetime.min.replace(tzinfo=UTC)
        ):
            row: dict[str, Any] = {"task_name": task_name}
            if by is not None:
                row["bucket"] = bucket
            row.update(runtime_stats(group))
            if recent:
                row["recent"] = [
                    duration for run in group[-RECENT:] if (duration := run.duration) is not None
                ]
                row["outcomes"] = [run.outcome for run in group[-RECENT:]]
            rows.append(_typed(row))
    return sorted(rows, key=lambda row: row["task_name"])


def statistics_rows(statistics: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """Per-task statistics computed by a store, as runtime rows."""
    return [_typed({"task_name": task, **stats}) for task, stats in statistics.items()]


def task_rows(runs: Iterable[Run]) -> list[dict[str, Any]]:
    """One health row per task, by task name."""
    by_task: dict[str, list[Run]] = defaultdict(list)
    for run in runs:
        by_task[run.task_name].append(run)
    rows = []
    for task_name in sorted(by_task):
        task_runs = sorted(by_task[task_name], key=lambda run: run.moment)
        last = task_runs[-1]
        rows.append(
            _typed(
                {
                    "task_name": task_name,
                    "runs": len(task_runs),
                    "last_start": last.start,
                    "last_outcome": last.outcome,
                    "last_duration": last.duration,
                    "success_rate": success_rate(run.outcome for run in task_runs),
                    "streak": streak(task_runs),
                }
            )
        )
    return rows


def worst_first(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Task rows ordered for a person: failing streaks (longest first), then low success rates."""

    def badness(row: dict[str, Any]) -> tuple[int, int, float]:
        outcome, _, count = str(row["streak"]).partition(" x")
        failing = outcome in FAILURES
        rate = row["success_rate"]
        rank = 0 if failing else 1 if row["last_outcome"] == RUNNING else 2
        return rank, -int(count or 0) if failing else 0, 1.0 if rate is None else rate

    return sorted(rows, key=badness)


def timeline_rows(numbered: Sequence[tuple[int, Run]], columns: Sequence[str]) -> list[dict[str, Any]]:
    """A timeline for machines: each run's records with the run's number in its task and its attempt."""
    rows = []
    for number, run in numbered:
        for record in run.records:
            row: dict[str, Any] = {name: record.get(name) for name in columns}
            attempt = record.get("attempt")  # a store that logs attempts within a run says which
            row.update(run=number, attempt=attempt if isinstance(attempt, int) else run.attempt)
            if "created" in row:
                row["created"] = utc_from_epoch(record.created)
            rows.append(row)
    return rows


def record_rows(records: Iterable[Record], columns: Sequence[str]) -> Iterator[Mapping[str, Any]]:
    """Records as output rows."""
    return (record_row(record, columns) for record in records)


def record_row(record: Record, columns: Sequence[str]) -> dict[str, Any]:
    """A record as an output row: `created` as an aware UTC datetime."""
    row = {name: record.get(name) for name in columns}
    if "created" in row:
        row["created"] = utc_from_epoch(record.created)
    return row


def numbered_runs(runs: Iterable[Run]) -> Iterator[tuple[int, Run]]:
    """Each run with its number in its task's history (1 for the first), in task then start order."""
    counts: dict[str, int] = {}
    for item in runs:
        counts[item.task_name] = counts.get(item.task_name, 0) + 1
        yield counts[item.task_name], item


def timeline_run(number: int, item: Run, text_columns: Sequence[str]) -> TimelineRun:
    """A run as the human timeline shows it."""
    row = run_row(item)
    records = [
        {"created": utc_from_epoch(record.created), "action": record.action, "attempt": record.get("attempt"),
         **{name: record.get(name) for name in text_columns}}
        for record in item.records
    ]  # fmt: skip
    return TimelineRun(
        number, item.attempt, row["start"], item.outcome, row["duration"], item.run_id, records, item.status
    )


def runtime_report(
    source: Source, query: Query, retry_window: timedelta, *, by: Bucket | None, zone: Zone, recent: bool
) -> list[dict[str, Any]]:
    """Runtime rows for a query: computed by the store where it can (PostgreSQL), else paired here."""
    by_runs_only = not (query.run_ids or query.grep or query.where or query.level is not None)
    pushed = source.task_statistics(query) if by is None and not recent and by_runs_only else None
    if pushed is None:
        selected = filter(run_selector(query), source.runs(query, retry_window))
        return runtime_rows(selected, by=by, zone=zone, recent=recent)
    statistics, irregular = pushed  # the database paired what it could; the rest is paired here
    rest = replace(query, tasks=tuple(irregular))
    paired_here = (
        runtime_rows(filter(run_selector(rest), source.runs(rest, retry_window))) if irregular else []
    )
    exact = [row for row in paired_here if row["task_name"] in irregular]  # a name may also be a glob
    return sorted(statistics_rows(statistics) + exact, key=lambda row: row["task_name"])
