"""Health checks over runs for `tasklog check`: stale successes, failure streaks, long runs."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta

from tasklog_cli.models import FAILURES, Outcome
from tasklog_cli.results import Problem
from tasklog_cli.runs import Run
from tasklog_cli.times import human_duration, utc_from_epoch


@dataclass(frozen=True)
class Limits:
    """The thresholds asked for; None means not checked."""

    max_age: timedelta | None = None
    max_failures: int | None = None
    max_duration: timedelta | None = None


def _which(run: Run) -> str:
    """Which run a problem is about: its start (UTC, to the second) and its id."""
    start = (
        "start unknown" if run.start is None else f"started {utc_from_epoch(run.start):%Y-%m-%d %H:%M:%SZ}"
    )
    return f"{start}, id {run.run_id}" if run.run_id else start


class ProblemTally:
    """What the checks need of one task's selected runs, fed by start: the latest success, the failure
    streak, the runs running past the limit and the latest run with a duration."""

    __slots__ = ("failure_streak", "last_success", "latest_timed", "limits", "long_running", "now")

    def __init__(self, limits: Limits, now: float) -> None:
        self.limits, self.now = limits, now
        self.last_success: float | None = None
        self.failure_streak = 0
        self.long_running: list[tuple[Run, float]] = []  # with its start
        self.latest_timed: Run | None = None

    def add(self, run: Run) -> None:
        """Take one more run into account, the latest so far."""
        outcome = run.outcome
        if outcome == Outcome.SUCCESS:
            finished = run.end or run.moment
            if self.last_success is None or finished > self.last_success:
                self.last_success = finished
        if outcome == Outcome.RUNNING:
            limit = self.limits.max_duration
            if limit is not None and run.start is not None and self.now - run.start > limit.total_seconds():
                self.long_running.append((run, run.start))
        else:
            self.failure_streak = self.failure_streak + 1 if outcome in FAILURES else 0
        if run.duration is not None:
            self.latest_timed = run

    def problems(self, task: str) -> list[Problem]:
        """What is wrong with the task."""
        limits, now = self.limits, self.now
        problems = []
        if limits.max_age is not None:
            limit = limits.max_age.total_seconds()
            if self.last_success is None:
                problems.append(Problem(task, "max_age", "no successful run", None, limit))
            elif (age := now - self.last_success) > limit:
                text = f"last success {human_duration(age)} ago (limit {human_duration(limit)})"
                problems.append(Problem(task, "max_age", text, age, limit))
        if limits.max_failures is not None and self.failure_streak >= limits.max_failures:
            streak = self.failure_streak
            text = f"{streak} failures in a row (limit {limits.max_failures})"
            problems.append(Problem(task, "max_failures", text, streak, limits.max_failures))
        if limits.max_duration is not None:
            limit = limits.max_duration.total_seconds()
            for run, start in self.long_running:
                took = human_duration(now - start)
                text = f"running for {took} (limit {human_duration(limit)}; {_which(run)})"
                problems.append(Problem(task, "max_duration", text, now - start, limit))
            latest = self.latest_timed
            if latest is not None and latest.duration is not None and latest.duration > limit:
                took = human_duration(latest.duration)
                text = f"last run took {took} (limit {human_duration(limit)}; {_which(latest)})"
                problems.append(Problem(task, "max_duration", text, latest.duration, limit))
        return problems


def find_problems(tallies: Mapping[str, ProblemTally], expected: Sequence[str]) -> list[Problem]:
    """Problems of every task in scope (each with its tally of selected runs, maybe none), of every
    expected task that has no runs at all, and `no task matched` when nothing is in scope: a monitor never
    stays green on a mistyped log."""
    problems = [Problem(task, "runs", "no runs found") for task in expected if task not in tallies]
    if not tallies and not problems:
        problems.append(Problem("", "tasks", "no task matched"))
    for task in sorted(tallies):
        problems.extend(tallies[task].problems(task))
    return problems
