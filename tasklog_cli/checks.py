"""Health checks over runs for `tasklog check`: stale successes, failure streaks, long runs."""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from operator import attrgetter

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


def task_problems(task: str, runs: Sequence[Run], limits: Limits, now: float) -> list[Problem]:
    """What is wrong with one task whose selected runs (by start, maybe none) are given."""
    problems = []
    if limits.max_age is not None:
        limit = limits.max_age.total_seconds()
        successes = [run.end or run.moment for run in runs if run.outcome == Outcome.SUCCESS]
        if not successes:
            problems.append(Problem(task, "max_age", "no successful run", None, limit))
        elif (age := now - max(successes)) > limit:
            text = f"last success {human_duration(age)} ago (limit {human_duration(limit)})"
            problems.append(Problem(task, "max_age", text, age, limit))
    if limits.max_failures is not None:
        streak = 0
        for run in reversed([run for run in runs if run.outcome != Outcome.RUNNING]):
            if run.outcome not in FAILURES:
                break
            streak += 1
        if streak >= limits.max_failures:
            text = f"{streak} failures in a row (limit {limits.max_failures})"
            problems.append(Problem(task, "max_failures", text, streak, limits.max_failures))
    if limits.max_duration is not None:
        limit = limits.max_duration.total_seconds()
        for run in runs:
            if run.outcome == Outcome.RUNNING and run.start is not None and now - run.start > limit:
                took = human_duration(now - run.start)
                text = f"running for {took} (limit {human_duration(limit)}; {_which(run)})"
                problems.append(Problem(task, "max_duration", text, now - run.start, limit))
        latest = next((run for run in reversed(runs) if run.duration is not None), None)
        if latest is not None and latest.duration is not None and latest.duration > limit:
            took = human_duration(latest.duration)
            text = f"last run took {took} (limit {human_duration(limit)}; {_which(latest)})"
            problems.append(Problem(task, "max_duration", text, latest.duration, limit))
    return problems


def find_problems(
    in_scope: Iterable[str], selected: Iterable[Run], expected: Sequence[str], limits: Limits, now: float
) -> list[Problem]:
    """Problems of every task in scope (selected runs or not), of every expected task that has no runs at
    all, and `no task matched` when nothing is in scope: a monitor never stays green on a mistyped log."""
    by_task: dict[str, list[Run]] = {task: [] for task in in_scope}
    for run in selected:
        by_task.setdefault(run.task_name, []).append(run)
    problems = [Problem(task, "runs", "no runs found") for task in expected if task not in by_task]
    if not by_task and not problems:
        problems.append(Problem("", "tasks", "no task matched"))
    for task in sorted(by_task):
        problems.extend(task_problems(task, sorted(by_task[task], key=attrgetter("moment")), limits, now))
    return problems
