"""Runtime statistics and task health over paired runs: exact percentiles, success rates, streaks."""

import math
from array import array
from collections import deque
from collections.abc import Iterable, Sequence
from typing import Any

from tasklog_cli.models import FAILURES, OUTCOMES, Outcome
from tasklog_cli.runs import RECENT, RUNNING, Run


def percentile(ordered: Sequence[float], fraction: float, more: Sequence[float] = ()) -> float | None:
    """Linearly interpolated percentile of sorted values (SQL percentile_cont; 0.5 is the median), and of
    `more` sorted values with them, without merging the two."""
    count = len(ordered) + len(more)
    if not count:
        return None
    position = fraction * (count - 1)
    low = math.floor(position)
    high = min(low + 1, count - 1)
    low_value, high_value = nth_of_two(ordered, more, low), nth_of_two(ordered, more, high)
    return low_value + (high_value - low_value) * (position - low)


def nth_of_two(first: Sequence[float], second: Sequence[float], index: int) -> float:
    """The value at `index` (from 0) of two sorted sequences merged, found by bisection."""
    if not second:
        return first[index]
    low, high = max(0, index + 1 - len(second)), min(index + 1, len(first))
    while low < high:  # the fewest values of `first` among the index + 1 smallest
        taken = (low + high) // 2
        if first[taken] < second[index - taken]:
            low = taken + 1
        else:
            high = taken
    taken = low
    return max(
        first[taken - 1] if taken else -math.inf, second[index - taken] if index >= taken else -math.inf
    )


def success_rate(outcomes: Iterable[str]) -> float | None:
    """success / (success + fail + terminate + crash); inaction and running count in neither."""
    counted = [outcome for outcome in outcomes if outcome in (Outcome.SUCCESS, *FAILURES)]
    return sum(outcome == Outcome.SUCCESS for outcome in counted) / len(counted) if counted else None


class RuntimeTally:
    """Runtime statistics of a group of runs fed by start: counts, the durations (a compact array, for
    exact percentiles) and the latest run; `recent` keeps the last runs' durations and outcomes."""

    __slots__ = ("counts", "durations", "last", "recent", "runs", "total")

    def __init__(self, *, recent: bool = False) -> None:
        self.runs = 0
        self.counts: dict[str, int] = {}
        self.durations = array("d")
        self.total = 0.0  # in start order: the run index sums its settled runs the same way
        self.last: Run | None = None
        self.recent: deque[tuple[float | None, str]] | None = deque(maxlen=RECENT) if recent else None

    def add(self, run: Run) -> None:
        """Count one more run (the latest by start so far, or the equal of one)."""
        self.runs += 1
        outcome = run.outcome
        self.counts[outcome] = self.counts.get(outcome, 0) + 1
        duration = run.duration
        if duration is not None:
            self.durations.append(duration)
            self.total += duration
        if self.last is None or run.moment > self.last.moment:
            self.last = run
        if self.recent is not None:
            self.recent.append((duration, outcome))

    def stats(self) -> dict[str, Any]:
        """Counts by outcome, success rate and duration statistics."""
        durations = sorted(self.durations)
        counts = self.counts
        rated = counts.get(Outcome.SUCCESS, 0) + sum(counts.get(outcome, 0) for outcome in FAILURES)
        last = self.last
        stats: dict[str, Any] = {"runs": self.runs}
        stats.update({outcome: counts.get(outcome, 0) for outcome in OUTCOMES})
        stats.update(
            success_rate=counts.get(Outcome.SUCCESS, 0) / rated if rated else None,
            min=durations[0] if durations else None,
            p50=percentile(durations, 0.5),
            p95=percentile(durations, 0.95),
            max=durations[-1] if durations else None,
            mean=self.total / len(durations) if durations else None,
            last_start=None if last is None else last.start,
            last_outcome=None if last is None else last.outcome,
        )
        return stats

    def recent_runs(self) -> dict[str, tuple[Any, ...]]:
        """The last runs' durations (of those that have one) and outcomes."""
        recent = self.recent or ()
        return {
            "recent": tuple(duration for duration, _ in recent if duration is not None),
            "outcomes": tuple(outcome for _, outcome in recent),
        }


def runtime_stats(runs: Sequence[Run]) -> dict[str, Any]:
    """Counts by outcome, success rate and duration statistics of one group of runs (by start)."""
    tally = RuntimeTally()
    for run in runs:
        tally.add(run)
    return tally.stats()


class HealthTally:
    """A task's health from its runs fed by start: how many, the latest, success rate and streak."""

    __slots__ = ("last", "latest", "rated", "running_tail", "runs", "streak_count", "successes")

    def __init__(self, first: Run) -> None:
        self.runs = self.successes = self.rated = self.streak_count = self.running_tail = 0
        self.last = first
        self.latest = ""  # the outcome of the latest run that is not running
        self.add(first)

    def add(self, run: Run) -> None:
        """Count one more run, the latest so far."""
        self.runs += 1
        self.last = run
        outcome = run.outcome
        if outcome == Outcome.SUCCESS:
            self.successes += 1
            self.rated += 1
        elif outcome in FAILURES:
            self.rated += 1
        if outcome == RUNNING:
            self.running_tail += 1
            return
        self.running_tail = 0
        if outcome == self.latest:
            self.streak_count += 1
        else:
            self.latest, self.streak_count = outcome, 1

    @property
    def success_rate(self) -> float | None:
        """success / (success + fail + terminate + crash)."""
        return self.successes / self.rated if self.rated else None

    @property
    def streak(self) -> str:
        """The latest run's outcome and how many runs in a row had it, e.g. `fail x3` or `running x1`;
        runs left running earlier in the history (killed, never closed) do not break a streak."""
        if self.last.outcome == RUNNING:
            return f"{RUNNING} x{self.running_tail}"
        return f"{self.latest} x{self.streak_count}"


def streak(runs: Sequence[Run]) -> str:
    """The latest run's outcome and how many runs in a row had it, e.g. `fail x3` or `running x1`; runs
    left running earlier in the history (killed, never closed) do not break a streak of finished runs."""
    if not runs:
        return ""
    tally = HealthTally(runs[0])
    for run in runs[1:]:
        tally.add(run)
    return tally.streak
