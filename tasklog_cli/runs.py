"""Pure pairing of records into runs (DESIGN §4), retry attempts, and runtime statistics."""

import math
from collections import Counter, defaultdict
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from datetime import timedelta
from typing import Any, NamedTuple

from tasklog_cli.models import FAILURES, FINISHES, OUTCOMES, Outcome, Record
from tasklog_cli.query import Query, compile_query

RUNNING = Outcome.RUNNING
DEFAULT_RETRY_WINDOW = timedelta(minutes=10)


class Run(NamedTuple):
    """One run of a task: from its `run` record to its finish (times are epoch seconds)."""

    task_name: str
    run_id: str | None
    start: float | None
    end: float | None
    outcome: str
    attempt: int = 1
    records: tuple[Record, ...] = ()
    status: str | None = None
    stored_duration: float | None = None

    @property
    def duration(self) -> float | None:
        """Seconds from start to finish: a stored duration wins; crashed and running runs have none."""
        if self.stored_duration is not None:
            return self.stored_duration
        if self.start is None or self.end is None or self.outcome in (Outcome.CRASH, RUNNING):
            return None
        return self.end - self.start

    @property
    def moment(self) -> float:
        """When the run counts as happening: its start, else its finish, else its (crash) record."""
        if self.start is not None:
            return self.start
        return self.end if self.end is not None else self.records[-1].created


def pair_task(records: Iterable[Record], retry_window: timedelta = DEFAULT_RETRY_WINDOW) -> list[Run]:
    """Pair one task's records (in created order, ties in store order) into runs, ordered by start.

    The hot loop of every run command: plain tuples and local names, no per-record objects.
    """
    window = retry_window.total_seconds()
    open_runs: list[tuple[Record, int]] = []  # (its `run` record, attempt), oldest first
    runs: list[Run] = []
    chain_outcome, chain_end, chain_attempt = "", 0.0, 0  # the last closed run, for retry chains
    for record in sorted(records, key=_created):
        created, task_name, action, run_id = record[0], record[1], record[2], record[3]
        if action == "run":
            retry = window > 0 and chain_outcome in FAILURES and created - chain_end <= window
            open_runs.append((record, chain_attempt + 1 if retry else 1))
            continue
        if action in FINISHES:
            position = _matching_open_run(open_runs, run_id)
            if position is None:  # history cut off: a finish without its start
                closed = [Run(task_name, run_id, None, created, action, 1, (record,))]
            else:
                start, attempt = open_runs.pop(position)
                closed = [Run(task_name, start[3], start[0], created, action, attempt, (start, record))]
        elif action == Outcome.CRASH:
            closed = [
                Run(task_name, start[3], start[0], None, Outcome.CRASH, attempt, (start, record))
                for start, attempt in open_runs
            ] or [Run(task_name, run_id, None, None, Outcome.CRASH, 1, (record,))]
            open_runs.clear()
        else:
            continue
        runs.extend(closed)
        chain_outcome, chain_end, chain_attempt = closed[-1].outcome, created, closed[-1].attempt
    runs.extend(
        Run(start[1], start[3], start[0], None, RUNNING, attempt, (start,)) for start, attempt in open_runs
    )
    runs.sort(key=_moment)
    return runs


def _created(record: Record) -> float:
    return record[0]


def _moment(run: Run) -> float:
    return run.moment


def _matching_open_run(open_runs: Sequence[tuple[Record, int]], run_id: str | None) -> int | None:
    """With a run id: the most recent open run with that id. Without: the oldest open run."""
    if run_id is None:
        return 0 if open_runs else None
    for position in range(len(open_runs) - 1, -1, -1):
        if open_runs[position][0][3] == run_id:
            return position
    return None


def pair_runs(records: Iterable[Record], retry_window: timedelta = DEFAULT_RETRY_WINDOW) -> Iterator[Run]:
    """Pair every task's records into runs: tasks in name order, each task's runs by start."""
    by_task: dict[str, list[Record]] = defaultdict(list)
    for record in records:
        by_task[record[1]].append(record)
    for task_name in sorted(by_task):
        yield from pair_task(by_task.pop(task_name), retry_window)


def percentile(ordered: Sequence[float], fraction: float) -> float | None:
    """Linearly interpolated percentile of sorted values (SQL percentile_cont; 0.5 is the median)."""
    if not ordered:
        return None
    position = fraction * (len(ordered) - 1)
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def success_rate(outcomes: Iterable[str]) -> float | None:
    """success / (success + fail + terminate + crash); inaction and running count in neither."""
    counted = [outcome for outcome in outcomes if outcome in (Outcome.SUCCESS, *FAILURES)]
    return sum(outcome == Outcome.SUCCESS for outcome in counted) / len(counted) if counted else None


def runtime_stats(runs: Sequence[Run]) -> dict[str, Any]:
    """Counts by outcome, success rate and duration statistics of one group of runs."""
    durations = sorted(duration for run in runs if (duration := run.duration) is not None)
    outcomes = Counter(run.outcome for run in runs)
    rated = outcomes[Outcome.SUCCESS] + sum(outcomes[outcome] for outcome in FAILURES)
    last = max(runs, key=_moment)
    stats: dict[str, Any] = {"runs": len(runs)}
    stats.update({outcome: outcomes[outcome] for outcome in OUTCOMES})
    stats.update(
        success_rate=outcomes[Outcome.SUCCESS] / rated if rated else None,
        min=durations[0] if durations else None,
        p50=percentile(durations, 0.5),
        p95=percentile(durations, 0.95),
        max=durations[-1] if durations else None,
        mean=sum(durations) / len(durations) if durations else None,
        last_start=last.start,
        last_outcome=last.outcome,
    )
    return stats


def streak(runs: Sequence[Run]) -> str:
    """The latest run's outcome and how many runs in a row had it, e.g. `fail x3` or `running x1`; runs
    left running earlier in the history (killed, never closed) do not break a streak of finished runs."""
    if not runs:
        return ""
    counted = runs if runs[-1].outcome == RUNNING else [run for run in runs if run.outcome != RUNNING]
    latest = counted[-1].outcome
    count = 0
    for run in reversed(counted):
        if run.outcome != latest:
            break
        count += 1
    return f"{latest} x{count}"


def run_selector(query: Query, outcomes: Collection[str] = ()) -> Callable[[Run], bool]:
    """Which runs a query selects (DESIGN §3): by run id, by when it happened, by any of its records."""
    run_ids = frozenset(query.run_ids)
    wanted_outcomes = frozenset(outcomes)
    since = float("-inf") if query.since is None else query.since
    until = float("inf") if query.until is None else query.until
    by_record = query.grep is not None or query.where or query.level is not None
    record_matches = compile_query(
        Query(grep=query.grep, ignore_case=query.ignore_case, where=query.where, level=query.level)
    )

    def keep(run: Run) -> bool:
        return (
            (not run_ids or run.run_id in run_ids)
            and (not wanted_outcomes or run.outcome in wanted_outcomes)
            and since <= run.moment < until
            and (not by_record or any(record_matches(record) for record in run.records))
        )

    return keep
