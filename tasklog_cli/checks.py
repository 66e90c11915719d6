"""Health checks over runs for `tasklog check`: stale successes, failure streaks, long runs."""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from tasklog_cli.runs import FAILURES, RUNNING, Run
from tasklog_cli.times import human_duration

CHECK_FIELDS = ("task_name", "check", "problem", "value", "limit")


@dataclass(frozen=True)
class Limits:
    """The thresholds asked for; None means not checked."""

    max_age: timedelta | None = None
    max_failures: int | None = None
    max_duration: timedelta | None = None


def _problem(task: str, check: str, text: str, value: float | None, limit: float | None) -> dict[str, Any]:
    return {"task_name": task, "check": check, "problem": text, "value": value, "limit": limit}


def task_problems(task: str, runs: Sequence[Run], limits: Limits, now: float) -> list[dict[str, Any]]:
    """What is wrong with one task whose runs (by start) are given."""
    problems = []
    if limits.max_age is not None:
        limit = limits.max_age.total_seconds()
        successes = [run.end or run.moment for run in runs if run.outcome == "success"]
        if not successes:
            problems.append(_problem(task, "max_age", "no successful run", None, limit))
        elif now - max(successes) > limit:
            age = now - max(successes)
            problems.append(
                _problem(
                    task,
                    "max_age",
                    f"last success {human_duration(age)} ago (limit {human_duration(limit)})",
                    age,
                    limit,
                )
            )
    if limits.max_failures is not None:
        finished = [run for run in runs if run.outcome != RUNNING]
        streak = 0
        for run in reversed(finished):
            if run.outcome not in FAILURES:
                break
            streak += 1
        if streak >= limits.max_failures:
            text = f"{streak} failures in a row (limit {limits.max_failures})"
            problems.append(_problem(task, "max_failures", text, streak, limits.max_failures))
    if limits.max_duration is not None:
        limit = limits.max_duration.total_seconds()
        for run in runs:
            if run.outcome == RUNNING and run.start is not None and now - run.start > limit:
                text = f"running for {human_duration(now - run.start)} (limit {human_duration(limit)})"
                problems.append(_problem(task, "max_duration", text, now - run.start, limit))
        latest = next((run for run in reversed(runs) if run.duration is not None), None)
        if latest is not None and latest.duration is not None and latest.duration > limit:
            text = f"last run took {human_duration(latest.duration)} (limit {human_duration(limit)})"
            problems.append(_problem(task, "max_duration", text, latest.duration, limit))
    return problems


def find_problems(
    runs: Iterable[Run], expected_tasks: Sequence[str], limits: Limits, now: float
) -> list[dict[str, Any]]:
    """Problems of every task with runs, and of every expected task that has none."""
    by_task: dict[str, list[Run]] = {}
    for run in runs:
        by_task.setdefault(run.task_name, []).append(run)
    problems = [
        _problem(task, "runs", "no runs found", None, None) for task in expected_tasks if task not in by_task
    ]
    for task in sorted(by_task):
        problems.extend(task_problems(task, sorted(by_task[task], key=lambda run: run.moment), limits, now))
    return problems
