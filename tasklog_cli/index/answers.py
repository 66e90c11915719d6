"""Results from a task's settled facts and its runs after the cut, the same as pairing the whole history
gives: task health, runtime statistics, and the runs that health checks look at."""

from collections.abc import Sequence
from typing import Any

from tasklog_cli import reports, results
from tasklog_cli.index.history import Settled
from tasklog_cli.models import FAILURES, OUTCOMES, Outcome
from tasklog_cli.runs import RUNNING, Run
from tasklog_cli.statistics import percentile
from tasklog_cli.times import utc_from_epoch


def _moment(epoch: float | None) -> Any:
    return None if epoch is None else utc_from_epoch(epoch)


def _counts(settled: Settled, tail: Sequence[Run]) -> dict[str, int]:
    counts: dict[str, int] = {outcome: settled.outcomes.get(outcome, 0) for outcome in OUTCOMES}
    for run in tail:
        counts[run.outcome] = counts.get(run.outcome, 0) + 1
    return counts


def _success_rate(counts: dict[str, int]) -> float | None:
    rated = counts[Outcome.SUCCESS] + sum(counts[outcome] for outcome in FAILURES)
    return counts[Outcome.SUCCESS] / rated if rated else None


def streak(settled: Settled, tail: Sequence[Run]) -> str:
    """`statistics.streak` of the settled runs followed by the runs after the cut."""
    counted = tail if tail and tail[-1].outcome == RUNNING else [r for r in tail if r.outcome != RUNNING]
    if not counted and not settled.runs:
        return ""
    latest = counted[-1].outcome if counted else settled.streak_outcome
    count = 0
    for run in reversed(counted):
        if run.outcome != latest:
            return f"{latest} x{count}"
        count += 1
    if settled.streak_outcome == latest:
        count += settled.streak_count
    return f"{latest} x{count}"


def task_health(name: str, settled: Settled, tail: Sequence[Run]) -> results.TaskHealth | None:
    """A task's row of `tasks` (None when it has no runs)."""
    last = tail[-1] if tail else settled.last_run
    if last is None:
        return None
    return results.TaskHealth(
        task_name=name,
        runs=settled.runs + len(tail),
        last_start=_moment(last.start),
        last_outcome=last.outcome,
        last_duration=reports.seconds(last.duration),
        success_rate=_success_rate(_counts(settled, tail)),
        streak=streak(settled, tail),
    )


def runtime_stats(settled: Settled, tail: Sequence[Run]) -> dict[str, Any] | None:
    """`statistics.runtime_stats` of the settled runs followed by the runs after the cut (None: no runs)."""
    if not settled.runs and not tail:
        return None
    assert settled.durations is not None, "loaded with its durations"
    added = [duration for run in tail if (duration := run.duration) is not None]
    durations, more = settled.durations, sorted([*settled.pending, *added])
    total = settled.total
    for duration in added:  # in start order, as a full read sums
        total += duration
    count = len(durations) + len(more)
    ends = [values[index] for values in (durations, more) for index in (0, -1) if values]
    counts = _counts(settled, tail)
    peak = settled.peak_run
    for run in tail:
        if peak is None or run.moment > peak.moment:
            peak = run
    assert peak is not None
    stats: dict[str, Any] = {"runs": settled.runs + len(tail)}
    stats.update({outcome: counts[outcome] for outcome in OUTCOMES})
    stats.update(
        success_rate=_success_rate(counts),
        min=min(ends, default=None),
        p50=percentile(durations, 0.5, more),
        p95=percentile(durations, 0.95, more),
        max=max(ends, default=None),
        mean=total / count if count else None,
        last_start=peak.start,
        last_outcome=peak.outcome,
    )
    return stats


def runtime_row(name: str, stats: dict[str, Any], **extra: Any) -> results.Runtime:
    """A row of `runtimes` from `runtime_stats` (as `reports.runtime_results` makes it)."""
    stats = {**stats, "last_start": _moment(stats["last_start"])}
    stats.update({key: reports.seconds(stats[key]) for key in ("min", "p50", "p95", "max", "mean")})
    return results.Runtime(task_name=name, **stats, **extra)


def checked_runs(name: str, settled: Settled, tail: Sequence[Run]) -> list[Run]:
    """Runs that give `checks.task_problems` what the whole history gives it: the latest success, the
    failures in a row at the end, the last run with a duration, then the runs after the cut."""
    shown: list[Run] = []
    if settled.last_success is not None:
        shown.append(Run(name, None, None, settled.last_success, Outcome.SUCCESS))
    timed = settled.last_timed
    timed_in_streak = timed is not None and settled.last_timed_index >= settled.runs - settled.failures
    if timed is not None and not timed_in_streak:
        shown.append(timed)
    if settled.failures < settled.runs:  # a run that is no failure ends the streak before them
        shown.append(Run(name, None, None, None, Outcome.INACTION))
    failures = settled.failures - (1 if timed_in_streak else 0)
    shown.extend(Run(name, None, None, None, Outcome.CRASH) for _ in range(failures))
    if timed is not None and timed_in_streak:
        shown.append(timed)
    return shown + list(tail)
