"""Pure pairing of records into runs (DESIGN §4), retry attempts, and runtime statistics."""

import math
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from tasklog_cli.models import Action, Record
from tasklog_cli.query import Query, compile_query

FINISHES = frozenset({Action.SUCCESS, Action.FAIL, Action.TERMINATE, Action.INACTION})
FAILURES = frozenset({"fail", "terminate", "crash"})
RUNNING = "running"
OUTCOMES = ("success", "fail", "terminate", "inaction", "crash", RUNNING)
DEFAULT_RETRY_WINDOW = timedelta(minutes=10)


@dataclass(frozen=True, slots=True)
class Run:
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
        if self.start is None or self.end is None or self.outcome in ("crash", RUNNING):
            return None
        return self.end - self.start

    @property
    def moment(self) -> float:
        """When the run counts as happening: its start, else its finish, else its (crash) record."""
        if self.start is not None:
            return self.start
        return self.end if self.end is not None else self.records[-1].created

    @property
    def chain_end(self) -> float | None:
        """Where a retry window is measured from: the finish, or the crash record for a crash."""
        if self.end is not None:
            return self.end
        return self.records[-1].created if self.outcome == "crash" and self.records else None


@dataclass
class _OpenRun:
    start: Record
    attempt: int
    records: list[Record] = field(default_factory=list)


def _close(opened: _OpenRun, finish: Record, outcome: str) -> Run:
    return Run(
        task_name=opened.start.task_name,
        run_id=opened.start.run_id,
        start=opened.start.created,
        end=None if outcome == "crash" else finish.created,
        outcome=outcome,
        attempt=opened.attempt,
        records=(*opened.records, finish),
    )


def pair_task(records: Iterable[Record], retry_window: timedelta = DEFAULT_RETRY_WINDOW) -> list[Run]:
    """Pair one task's records (in created order, ties in store order) into runs, ordered by start."""
    window = retry_window.total_seconds()
    ordered = sorted(records, key=lambda record: record.created)
    open_runs: list[_OpenRun] = []
    runs: list[Run] = []
    last_closed: Run | None = None

    def closed(run: Run) -> None:
        nonlocal last_closed
        runs.append(run)
        last_closed = run

    for record in ordered:
        if record.action == Action.RUN:
            attempt = 1
            if last_closed is not None and last_closed.outcome in FAILURES:
                chain_end = last_closed.chain_end
                if chain_end is not None and record.created - chain_end <= window:
                    attempt = last_closed.attempt + 1
            open_runs.append(_OpenRun(start=record, attempt=attempt, records=[record]))
        elif record.action in FINISHES:
            position = _matching_open_run(open_runs, record.run_id)
            if position is None:
                closed(
                    Run(
                        record.task_name,
                        record.run_id,
                        None,
                        record.created,
                        record.action,
                        records=(record,),
                    )
                )
            else:
                closed(_close(open_runs.pop(position), record, record.action))
        elif record.action == Action.CRASH:
            if not open_runs:
                closed(Run(record.task_name, record.run_id, None, None, "crash", records=(record,)))
            for opened in open_runs:
                closed(_close(opened, record, "crash"))
            open_runs.clear()
    runs.extend(
        Run(opened.start.task_name, opened.start.run_id, opened.start.created, None, RUNNING, opened.attempt,
            tuple(opened.records))
        for opened in open_runs
    )  # fmt: skip
    runs.sort(key=lambda run: run.moment)
    return runs


def _matching_open_run(open_runs: Sequence[_OpenRun], run_id: str | None) -> int | None:
    """With a run id: the most recent open run with that id. Without: the oldest open run."""
    if run_id is None:
        return 0 if open_runs else None
    for position in range(len(open_runs) - 1, -1, -1):
        if open_runs[position].start.run_id == run_id:
            return position
    return None


def pair_runs(records: Iterable[Record], retry_window: timedelta = DEFAULT_RETRY_WINDOW) -> list[Run]:
    """Pair every task's records into runs; tasks in name order, each task's runs by start."""
    by_task: dict[str, list[Record]] = defaultdict(list)
    for record in records:
        by_task[record.task_name].append(record)
    return [run for task in sorted(by_task) for run in pair_task(by_task[task], retry_window)]


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
    counted = [outcome for outcome in outcomes if outcome in ("success", *FAILURES)]
    return sum(outcome == "success" for outcome in counted) / len(counted) if counted else None


def runtime_stats(runs: Sequence[Run]) -> dict[str, Any]:
    """Counts by outcome, success rate and duration statistics of one group of runs."""
    durations = sorted(duration for run in runs if (duration := run.duration) is not None)
    last = max(runs, key=lambda run: run.moment)
    stats: dict[str, Any] = {"runs": len(runs)}
    stats.update({outcome: sum(run.outcome == outcome for run in runs) for outcome in OUTCOMES})
    stats.update(
        success_rate=success_rate(run.outcome for run in runs),
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
    """The latest finished outcome and how many runs in a row had it, e.g. `fail x3`."""
    finished = [run for run in runs if run.outcome != RUNNING]
    if not finished:
        return ""
    latest = finished[-1].outcome
    count = 0
    for run in reversed(finished):
        if run.outcome != latest:
            break
        count += 1
    return f"{latest} x{count}"


def retry_chains(runs: Sequence[Run]) -> Iterator[list[Run]]:
    """Group a task's runs (by start) into retry chains: a chain grows while attempts count up."""
    chain: list[Run] = []
    for run in runs:
        if chain and run.attempt == chain[-1].attempt + 1:
            chain.append(run)
            continue
        if chain:
            yield chain
        chain = [run]
    if chain:
        yield chain


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
