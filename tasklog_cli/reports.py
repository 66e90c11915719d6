"""Paired runs and records turned into the API's result values: runs, runtimes, task health, timelines."""

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from enum import StrEnum
from itertools import groupby
from operator import attrgetter
from types import MappingProxyType
from typing import Any

from tasklog_cli import models, results, runs
from tasklog_cli.models import FAILURES, Outcome
from tasklog_cli.query import Query, task_matcher
from tasklog_cli.runs import run_selector, runtime_stats, streak, success_rate
from tasklog_cli.selection import last_n
from tasklog_cli.sources import Source
from tasklog_cli.times import Zone, in_zone, utc_from_epoch

RECENT = 20


class Bucket(StrEnum):
    """Time buckets for `runtimes --by`."""

    HOUR = "hour"
    DAY = "day"


def _moment(epoch: float | None) -> datetime | None:
    return None if epoch is None else utc_from_epoch(epoch)


def seconds(value: float | None) -> float | None:
    """A duration to the microsecond, as every output carries it."""
    return None if value is None else timedelta(seconds=value).total_seconds()


def record_result(record: models.Record) -> results.Record:
    """A stored record as the API returns it: `created` as an aware UTC datetime."""
    fields = MappingProxyType(dict(record.extra)) if record.extra else results.NO_FIELDS
    return results.Record(
        utc_from_epoch(record.created), record.task_name, record.action, record.run_id, fields
    )


def run_result(run: runs.Run) -> results.Run:
    """A paired run as the API returns it."""
    return results.Run(
        task_name=run.task_name,
        run_id=run.run_id,
        start=_moment(run.start),
        end=_moment(run.end),
        duration=seconds(run.duration),
        outcome=run.outcome,
        attempt=run.attempt,
        status=run.status,
    )


def bucket_start(moment: float, bucket: Bucket, zone: Zone) -> datetime:
    """The start of the hour or day (in the display zone) that a moment falls in."""
    local = in_zone(utc_from_epoch(moment), zone)
    if bucket is Bucket.HOUR:
        return local.replace(minute=0, second=0, microsecond=0)
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


def _runtime(task_name: str, stats: dict[str, Any], **extra: Any) -> results.Runtime:
    stats = {**stats, "last_start": _moment(stats["last_start"])}
    stats.update({name: seconds(stats[name]) for name in ("min", "p50", "p95", "max", "mean")})
    return results.Runtime(task_name=task_name, **stats, **extra)


def runtime_results(
    selected: Iterable[runs.Run], *, by: Bucket | None = None, zone: Zone = None, recent: bool = False
) -> list[results.Runtime]:
    """Statistics per task (and per time bucket with `by`); `recent` adds the last durations and outcomes.

    Runs come grouped by task (as pairing yields them), so only one task's runs are held at a time.
    """
    rows = []
    for task_name, task_runs in groupby(selected, key=attrgetter("task_name")):
        groups: dict[datetime | None, list[runs.Run]] = defaultdict(list)
        for run in task_runs:
            groups[None if by is None else bucket_start(run.moment, by, zone)].append(run)
        for bucket in sorted(groups, key=lambda moment: moment.timestamp() if moment else 0.0):
            group = groups[bucket]
            extra: dict[str, Any] = {"bucket": bucket}
            if recent:
                extra["recent"] = tuple(d for run in group[-RECENT:] if (d := run.duration) is not None)
                extra["outcomes"] = tuple(run.outcome for run in group[-RECENT:])
            rows.append(_runtime(task_name, runtime_stats(group), **extra))
    return sorted(rows, key=attrgetter("task_name"))


def task_results(selected: Iterable[runs.Run]) -> list[results.TaskHealth]:
    """One health row per task, by task name."""
    by_task: dict[str, list[runs.Run]] = defaultdict(list)
    for run in selected:
        by_task[run.task_name].append(run)
    rows = []
    for task_name in sorted(by_task):
        task_runs = sorted(by_task[task_name], key=attrgetter("moment"))
        last = task_runs[-1]
        rows.append(
            results.TaskHealth(
                task_name=task_name,
                runs=len(task_runs),
                last_start=_moment(last.start),
                last_outcome=last.outcome,
                last_duration=seconds(last.duration),
                success_rate=success_rate(run.outcome for run in task_runs),
                streak=streak(task_runs),
            )
        )
    return rows


def worst_first(rows: Sequence[results.TaskHealth]) -> list[results.TaskHealth]:
    """Task rows ordered for a person: failing streaks (longest first), then low success rates."""

    def badness(row: results.TaskHealth) -> tuple[int, int, float]:
        outcome, _, count = row.streak.partition(" x")
        failing = outcome in FAILURES
        rank = 0 if failing else 1 if row.last_outcome == Outcome.RUNNING else 2
        rate = 1.0 if row.success_rate is None else row.success_rate
        return rank, -int(count or 0) if failing else 0, rate

    return sorted(rows, key=badness)


def numbered_runs(selected: Iterable[runs.Run]) -> Iterator[tuple[int, runs.Run]]:
    """Each run with its number in its task's history (1 for the first), in task then start order."""
    counts: dict[str, int] = {}
    for item in selected:
        counts[item.task_name] = counts.get(item.task_name, 0) + 1
        yield counts[item.task_name], item


def timelines(
    history: Iterable[runs.Run], tasks: Sequence[str], keep: Callable[[runs.Run], bool], last: int | None
) -> list[results.Timeline]:
    """Each task's selected runs with their records, in the order the tasks were named."""
    by_task: dict[str, list[results.TimelineRun]] = {}
    totals: dict[str, int] = {}
    for number, item in numbered_runs(history):
        totals[item.task_name] = number
        if keep(item):
            records = tuple(record_result(record) for record in item.records)
            by_task.setdefault(item.task_name, []).append(
                results.TimelineRun(number, run_result(item), records)
            )
    order = {name: position for position, name in enumerate(tasks)}

    def first_naming(name: str) -> tuple[int, str]:
        named = (order[task] for task in tasks if task_matcher((task,))(name))
        return min(named, default=len(tasks)), name

    shown = {name: tuple(last_n(numbered, last)) for name, numbered in by_task.items()}
    return [
        results.Timeline(name, totals[name], shown[name])
        for name in sorted(by_task, key=first_naming)
        if shown[name]
    ]


def runtime_report(
    source: Source, query: Query, retry_window: timedelta, *, by: Bucket | None, zone: Zone, recent: bool
) -> list[results.Runtime]:
    """Runtime rows for a query: computed by the store where it can (PostgreSQL), else paired here."""
    by_runs_only = not (query.run_ids or query.grep or query.where or query.level is not None)
    pushed = source.task_statistics(query) if by is None and not recent and by_runs_only else None
    if pushed is None:
        selected = filter(run_selector(query), source.runs(query, retry_window))
        return runtime_results(selected, by=by, zone=zone, recent=recent)
    statistics, irregular = pushed  # the database paired what it could; the rest is paired here
    rest = replace(query, tasks=tuple(irregular))
    paired_here = (
        runtime_results(filter(run_selector(rest), source.runs(rest, retry_window))) if irregular else []
    )
    exact = [row for row in paired_here if row.task_name in irregular]  # a name may also be a glob
    stored = [_runtime(task, stats) for task, stats in statistics.items()]
    return sorted(stored + exact, key=attrgetter("task_name"))


def timeline_rows(found: Sequence[results.Timeline]) -> Iterator[dict[str, Any]]:
    """A timeline for machines: every record of the runs, with the run's number in its task and attempt."""
    for timeline in found:
        for item in timeline.runs:
            for record in item.records:
                attempt = record.get("attempt")  # a store that logs attempts within a run says which
                row = {name: record.get(name) for name in (*results.RECORD_FIELDS, *record.fields)}
                row.update(run=item.number, attempt=attempt if isinstance(attempt, int) else item.run.attempt)
                yield row
