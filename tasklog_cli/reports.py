"""Paired runs and records turned into the API's result values: runs, runtimes, task health, timelines."""

from collections import deque
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from enum import StrEnum
from heapq import merge, nlargest
from itertools import count, islice
from operator import attrgetter, itemgetter
from types import MappingProxyType
from typing import Any

from tasklog_cli import models, results, runs
from tasklog_cli.checks import Limits, ProblemTally, find_problems
from tasklog_cli.models import FAILURES, Outcome
from tasklog_cli.query import Query, task_matcher
from tasklog_cli.runs import run_selector
from tasklog_cli.runs import selected as selected_runs
from tasklog_cli.selection import last_n
from tasklog_cli.sources import Source
from tasklog_cli.spill import sort_spilling
from tasklog_cli.statistics import HealthTally, RuntimeTally
from tasklog_cli.times import Zone, in_zone, utc_from_epoch

KeyedRun = tuple[float, str, int, tuple[Any, ...]]  # (moment, task name, arrival, `run_values`)


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


def run_values(run: runs.Run) -> tuple[Any, ...]:
    """A run's result values with times still in epoch seconds (cheap to hold and to spill)."""
    return (run.task_name, run.run_id, run.start, run.end, run.duration, run.outcome, run.attempt, run.status)


def result_of_values(values: tuple[Any, ...]) -> results.Run:
    """The API's run from `run_values`."""
    task_name, run_id, start, end, duration, outcome, attempt, status = values
    return results.Run(
        task_name, run_id, _moment(start), _moment(end), seconds(duration), outcome, attempt, status
    )


def run_result(run: runs.Run) -> results.Run:
    """A paired run as the API returns it."""
    return result_of_values(run_values(run))


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
    """Statistics per task (and per time bucket with `by`) of runs that come each task's by start;
    `recent` adds the last durations and outcomes. Only counts and durations are kept."""
    tallies: dict[tuple[str, datetime | None], RuntimeTally] = {}
    for run in selected:
        key = (run.task_name, None if by is None else bucket_start(run.moment, by, zone))
        tally = tallies.get(key)
        if tally is None:
            tally = tallies[key] = RuntimeTally(recent=recent)
        tally.add(run)
    rows = []
    for key in sorted(tallies, key=_task_then_bucket):
        tally = tallies[key]
        extra: dict[str, Any] = {"bucket": key[1], **(tally.recent_runs() if recent else {})}
        rows.append(_runtime(key[0], tally.stats(), **extra))
    return rows


def _task_then_bucket(key: tuple[str, datetime | None]) -> tuple[str, float]:
    return key[0], key[1].timestamp() if key[1] else 0.0


def task_results(selected: Iterable[runs.Run]) -> list[results.TaskHealth]:
    """One health row per task, by task name, of runs that come each task's by start."""
    tallies: dict[str, HealthTally] = {}
    for run in selected:
        tally = tallies.get(run.task_name)
        if tally is None:
            tallies[run.task_name] = HealthTally(run)
        else:
            tally.add(run)
    rows = []
    for task_name in sorted(tallies):
        tally = tallies[task_name]
        last = tally.last
        rows.append(
            results.TaskHealth(
                task_name=task_name,
                runs=tally.runs,
                last_start=_moment(last.start),
                last_outcome=last.outcome,
                last_duration=seconds(last.duration),
                success_rate=tally.success_rate,
                streak=tally.streak,
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
    """Each task's selected runs with their records (the last `last` of them), in the order the tasks
    were named; the history comes each task's by start."""
    kept: dict[str, deque[tuple[int, runs.Run]]] = {}
    totals: dict[str, int] = {}
    for number, item in numbered_runs(history):
        totals[item.task_name] = number
        if keep(item):
            if item.task_name not in kept:
                kept[item.task_name] = deque(maxlen=last)
            kept[item.task_name].append((number, item))
    order = {name: position for position, name in enumerate(tasks)}

    def first_naming(name: str) -> tuple[int, str]:
        named = (order[task] for task in tasks if task_matcher((task,))(name))
        return min(named, default=len(tasks)), name

    shown = {
        name: tuple(
            results.TimelineRun(number, run_result(item), tuple(map(record_result, item.records)))
            for number, item in last_n(numbered, last)
        )
        for name, numbered in kept.items()
    }
    return [
        results.Timeline(name, totals[name], shown[name])
        for name in sorted(kept, key=first_naming)
        if shown[name]
    ]


def runtime_report(
    source: Source, query: Query, retry_window: timedelta, *, by: Bucket | None, zone: Zone, recent: bool
) -> list[results.Runtime]:
    """Runtime rows for a query: computed by the store where it can (PostgreSQL), else paired here."""
    by_runs_only = not (query.run_ids or query.grep or query.where or query.level is not None)
    pushed = source.task_statistics(query) if by is None and not recent and by_runs_only else None
    if pushed is None:
        keep = run_selector(query)
        return source.paired(
            query, retry_window, query.fields(),
            lambda stream: runtime_results(selected_runs(stream, keep), by=by, zone=zone, recent=recent),
        )  # fmt: skip
    statistics, irregular = pushed  # the database paired what it could; the rest is paired here
    rest = replace(query, tasks=tuple(irregular))
    keep_rest = run_selector(rest)
    paired_here = (
        source.paired(
            rest, retry_window, (), lambda stream: runtime_results(selected_runs(stream, keep_rest))
        )
        if irregular
        else []
    )
    exact = [row for row in paired_here if row.task_name in irregular]  # a name may also be a glob
    stored = [_runtime(task, stats) for task, stats in statistics.items()]
    return sorted(stored + exact, key=attrgetter("task_name"))


def run_report(
    source: Source,
    query: Query,
    retry_window: timedelta,
    outcomes: Collection[str],
    last: int | None,
    reverse: bool = False,
) -> Iterator[results.Run]:
    """The selected runs by start (ties by task name; `reverse`: newest first), the last `last` of them:
    paired by the store where it can, else here. Only `last` runs are held, and without `last`, holding
    them all is left to temporary files."""
    keep = run_selector(query, outcomes)
    pushed = None if query.by_record else source.pushed_runs(query, retry_window, outcomes, last, reverse)
    if pushed is None:
        chosen = source.paired(
            query,
            retry_window,
            query.fields(),
            lambda stream: _keyed(selected_runs(stream, keep), last, reverse),
        )
        return _results(chosen)
    irregular, regular = pushed  # the store paired what it could; the rest is paired here
    in_store = ((run.moment, run.task_name, 0, run_values(run)) for run in regular)
    if not irregular:
        return _results(in_store)
    named = frozenset(irregular)  # a name may also be a glob: only these tasks are taken
    paired_here = source.paired(
        replace(query, tasks=tuple(irregular)), retry_window, (),
        lambda stream: _keyed((run for run in stream if run.task_name in named and keep(run)), last, reverse),
    )  # fmt: skip
    merged: Iterator[KeyedRun] = merge(in_store, paired_here, key=itemgetter(0, 1), reverse=reverse)
    if last is not None:
        merged = iter(list(islice(merged, last)) if reverse else deque(merged, maxlen=last))
    return _results(merged)


def by_start_order(chosen: Iterable[runs.Run], last: int | None, reverse: bool) -> Iterator[results.Run]:
    """Runs by start (ties by task name, then as they came), the last `last` of them, newest first with
    `reverse`. Every one is read now; without `last`, holding them all is left to temporary files."""
    return _results(_keyed(chosen, last, reverse))


def _keyed(chosen: Iterable[runs.Run], last: int | None, reverse: bool) -> Iterator[KeyedRun]:
    arrival = count()
    keyed = ((run.moment, run.task_name, next(arrival), run_values(run)) for run in chosen)
    if last is None:
        return sort_spilling(keyed, reverse=reverse)
    latest = nlargest(last, keyed)
    return iter(latest if reverse else latest[::-1])


def _results(keyed: Iterable[KeyedRun]) -> Iterator[results.Run]:
    return (result_of_values(item[3]) for item in keyed)


def task_report(source: Source, query: Query, retry_window: timedelta) -> list[results.TaskHealth]:
    """One health row per task of the query's selected runs."""
    keep = run_selector(query)
    return source.paired(
        query, retry_window, query.fields(), lambda stream: task_results(selected_runs(stream, keep))
    )


def timeline_report(
    source: Source, query: Query, retry_window: timedelta, tasks: Sequence[str], last: int | None
) -> list[results.Timeline]:
    """The named tasks' selected runs with every field of their records."""
    keep = run_selector(query)
    return source.paired(query, retry_window, None, lambda history: timelines(history, tasks, keep, last))


def check_report(
    source: Source, query: Query, retry_window: timedelta, limits: Limits, now: float
) -> list[results.Problem]:
    """The problems of the tasks in scope (chosen over the whole history by run id, grep, where and level;
    the time window narrows the runs looked at)."""
    in_window = run_selector(query)
    scope = run_selector(Query(run_ids=query.run_ids, grep=query.grep, ignore_case=query.ignore_case,
                               where=query.where, level=query.level))  # fmt: skip

    def tally(stream: Iterable[runs.Run]) -> dict[str, ProblemTally]:
        tallies: dict[str, ProblemTally] = {}
        for run in stream:
            if scope(run):
                if run.task_name not in tallies:
                    tallies[run.task_name] = ProblemTally(limits, now)
                if in_window(run):
                    tallies[run.task_name].add(run)
        return tallies

    return find_problems(source.paired(query, retry_window, query.fields(), tally), query.exact_tasks())


def timeline_rows(found: Sequence[results.Timeline]) -> Iterator[dict[str, Any]]:
    """A timeline for machines: every record of the runs, with the run's number in its task and attempt."""
    for timeline in found:
        for item in timeline.runs:
            for record in item.records:
                attempt = record.get("attempt")  # a store that logs attempts within a run says which
                row = {name: record.get(name) for name in (*results.RECORD_FIELDS, *record.fields)}
                row.update(run=item.number, attempt=attempt if isinstance(attempt, int) else item.run.attempt)
                yield row
