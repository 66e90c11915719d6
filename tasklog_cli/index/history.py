"""A task's history as the index keeps it: runs before a quiet cut folded into counts and sorted
durations, and the records from the cut on, paired again when records are appended."""

import math
from array import array
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from tasklog_cli.models import FAILURES, Outcome, Record
from tasklog_cli.runs import Run, pair_task

HORIZON_SECONDS = 3600.0  # records may arrive this late (by `created`) without rebuilding their task


@dataclass
class Settled:
    """What commands need of a task's runs before its cut (none of them running): counts by outcome,
    durations, the streaks at their end, the latest success and the runs that are looked at.

    Durations are a large sorted array, stored apart and rewritten only when the durations settled since
    (`pending`, unsorted, stored with the facts) reach an eighth of it, so an append costs what it adds;
    `total` sums every duration in start order, as a full read does for the mean."""

    runs: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    durations: array | None = field(default_factory=lambda: array("d"))  # type: ignore[type-arg]
    sorted_count: int = 0  # how many durations the sorted array holds (loaded or not)
    pending: array = field(default_factory=lambda: array("d"))  # type: ignore[type-arg]
    total: float = 0.0
    streak_outcome: str = ""
    streak_count: int = 0
    failures: int = 0  # how many runs at the end failed (fail, terminate, crash) in a row
    last_success: float | None = None  # the latest `end or moment` of a successful run
    last_run: Run | None = None
    peak_run: Run | None = None  # the first run with the greatest moment
    last_timed: Run | None = None  # the last run that has a duration
    last_timed_index: int = -1

    def add(self, run: Run) -> None:
        """Fold in the next run (in start order)."""
        self.runs += 1
        self.outcomes[run.outcome] += 1
        duration = run.duration
        if duration is not None:
            self.pending.append(duration)
            self.total += duration
            self.last_timed, self.last_timed_index = run, self.runs - 1
        if run.outcome == self.streak_outcome:
            self.streak_count += 1
        else:
            self.streak_outcome, self.streak_count = run.outcome, 1
        self.failures = self.failures + 1 if run.outcome in FAILURES else 0
        if run.outcome == Outcome.SUCCESS:
            finished = run.end or run.moment
            self.last_success = finished if self.last_success is None else max(self.last_success, finished)
        self.last_run = run
        if self.peak_run is None or run.moment > self.peak_run.moment:
            self.peak_run = run

    @property
    def fold_due(self) -> bool:
        """Whether the pending durations are many enough to be merged into the sorted array."""
        return len(self.pending) * 8 >= max(self.sorted_count, 1)

    def fold(self, durations: array) -> array:  # type: ignore[type-arg]
        """The sorted array (as loaded) with the pending durations merged in; nothing is left pending."""
        self.durations = array("d", sorted(durations + self.pending))
        self.sorted_count, self.pending = len(self.durations), array("d")
        return self.durations


@dataclass
class TaskState:
    """One task in the index: its settled runs, its cut, and its records from the cut on (store order)."""

    name: str
    cut: float = -math.inf
    records: int = 0
    settled: Settled = field(default_factory=Settled)
    tail: list[Record] = field(default_factory=list)
    new_runs: list[Run] = field(default_factory=list)  # settled since the state was loaded

    def advance(self, retry_window: timedelta, limit: float) -> list[Run]:
        """Pair the records from the cut on, settle the runs before the latest quiet point that is no later
        than `limit`, and return the runs after it."""
        paired = pair_task(self.tail, retry_window)
        count, cut = quiet_cut(paired, retry_window.total_seconds(), limit)
        if count == 0:
            return paired
        for run in paired[:count]:
            self.settled.add(run)
        self.new_runs.extend(paired[:count])
        self.cut = cut
        self.tail = [record for record in self.tail if record.created >= cut]
        return paired[count:]


def _last_created(run: Run) -> float:
    """When the last record of a run was written."""
    if run.records:
        return run.records[-1].created
    return run.end if run.end is not None else run.moment


def quiet_cut(runs: Sequence[Run], retry_window: float, limit: float) -> tuple[int, float]:
    """The latest point (a run's first record, no later than `limit`) at which pairing from scratch gives
    the same runs: every earlier run closed before it, and no retry chain reaching over it. Returns how
    many runs come before it and the point itself ((0, -inf) when there is none)."""
    best = (0, -math.inf)
    latest_record = latest_close = -math.inf
    close_failed = False
    for position, run in enumerate(runs):
        first = run.moment
        if first > limit:
            break
        quiet = first > latest_record and (not close_failed or first - latest_close > retry_window)
        if position and quiet:
            best = (position, first)
        if run.outcome == Outcome.RUNNING:
            break  # open from here to the end: no later point is quiet
        closed = _last_created(run)
        if closed > latest_close:
            latest_close, close_failed = closed, run.outcome in FAILURES
        elif closed == latest_close:
            close_failed = close_failed or run.outcome in FAILURES
        latest_record = max(latest_record, closed)
    return best
