"""The dashboard's view of the store: every view's data behind one lock, and the follow thread."""

import gc
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import timedelta

from tasklog_cli.api import Repo
from tasklog_cli.errors import TasklogError
from tasklog_cli.redact import redact_text
from tasklog_cli.reports import worst_first
from tasklog_cli.results import Record, Run, Runtime, TaskHealth, Timeline
from tasklog_cli.ui.query_text import ViewFilter

# How far a run's time window reaches past its first and last start: times round-trip through epoch
# floats, so a run's own start may compare a microsecond early (the runs are then picked by identity).
EDGE = timedelta(milliseconds=1)
RUNS_SHOWN = 2000  # the newest runs a runs view or chart holds
RECORDS_SHOWN = 500  # the newest records the live tail holds
FOLLOW_RETRY = 2.0  # seconds between attempts to follow again after the store failed


@dataclass(frozen=True)
class TaskRow:
    """One row of the tasks view: the task's health and its duration statistics."""

    health: TaskHealth
    stats: Runtime | None


def outcomes_of(actions: tuple[str, ...]) -> tuple[str, ...]:
    """What `-a` means for runs: the outcomes named (`run` is a run still running; `log` names none)."""
    return tuple("running" if action == "run" else action for action in actions if action != "log")


def problem_text(exc: BaseException) -> str:
    """An error as one line for the status bar (secrets hidden)."""
    text = str(exc) if isinstance(exc, TasklogError) else f"{type(exc).__name__}: {exc}"
    return redact_text(" ".join(text.split()))


def merge_rows(shown: list[TaskRow], fresh: list[TaskRow], names: frozenset[str]) -> list[TaskRow]:
    """The tasks view after some tasks changed: their fresh rows replace the shown ones, worst first."""
    by_name = {row.health.task_name: row for row in shown if row.health.task_name not in names}
    by_name.update((row.health.task_name, row) for row in fresh)
    order = worst_first([row.health for row in by_name.values()])
    return [by_name[health.task_name] for health in order]


class Store:
    """The opened repo behind a lock: the views ask for their data from worker threads, one at a time."""

    def __init__(self, repo: Repo, *, retry_window: str) -> None:
        self.repo = repo
        self.retry_window = retry_window
        self.lock = threading.Lock()

    @contextmanager
    def reading(self) -> Iterator[None]:
        """Hold the store for one read, without cycle collection meanwhile: pairing a large store builds
        millions of short-lived acyclic objects, and collecting them would cost up to half the time."""
        with self.lock:
            collecting = gc.isenabled()
            gc.disable()
            try:
                yield
            finally:
                if collecting:
                    gc.enable()

    def check(self, view: ViewFilter) -> None:
        """Raise a UsageError when the filter does not fit this store (an unknown field, a bad time)."""
        with self.lock:
            self.repo.query(view.api(), view.action)

    def health(self, view: ViewFilter, only: frozenset[str] | None = None) -> list[TaskRow]:
        """The tasks view without duration statistics, worst first (`-a`: tasks whose last outcome is
        one named); `only`: just these tasks."""
        chosen = replace(view, task=tuple(sorted(only))) if only else view
        with self.reading():
            health = self.repo.tasks(retry_window=self.retry_window, **chosen.api())
        wanted = outcomes_of(view.action)
        kept = [row for row in health if (not wanted or row.last_outcome in wanted)]
        kept = [row for row in kept if only is None or row.task_name in only]
        return [TaskRow(row, None) for row in worst_first(kept)]

    def with_stats(
        self, view: ViewFilter, rows: list[TaskRow], only: frozenset[str] | None = None
    ) -> list[TaskRow]:
        """The rows (of the tasks `health` gave for the same view and `only`) with their duration
        statistics and recent runs."""
        if not rows:
            return rows
        chosen = replace(view, task=tuple(sorted(only))) if only else view
        with self.reading():
            found = self.repo.runtimes(recent=True, retry_window=self.retry_window, **chosen.api())
        stats = {row.task_name: row for row in found}
        return [TaskRow(row.health, stats.get(row.health.task_name)) for row in rows]

    def runs(self, view: ViewFilter, task: str | None) -> list[Run]:
        """A task's runs (all tasks' with None), newest first, at most RUNS_SHOWN of them."""
        chosen = view if task is None else replace(view, task=(task,))
        with self.reading():
            found = self.repo.runs(
                outcome=outcomes_of(view.action), last=RUNS_SHOWN, retry_window=self.retry_window,
                **chosen.api(),
            )  # fmt: skip
        return found[::-1]

    def timeline(self, chain: tuple[Run, ...]) -> list[Timeline]:
        """The timeline of a run and the attempts before it in its retry chain (oldest first)."""
        first, last = chain[0], chain[-1]
        begin, end = first.start or first.end, last.start or last.end
        if begin is None or end is None:
            return []
        keys = {(run.start, run.end, run.run_id) for run in chain}
        with self.reading():
            found = self.repo.timeline(
                [last.task_name], since=begin - EDGE, until=end + EDGE, retry_window=self.retry_window
            )
        return [
            replace(item, runs=tuple(r for r in item.runs if (r.run.start, r.run.end, r.run.run_id) in keys))
            for item in found
        ]

    def records(self, view: ViewFilter) -> list[Record]:
        """The newest matching records, at most RECORDS_SHOWN, in store order."""
        with self.reading():
            return list(self.repo.records(last=RECORDS_SHOWN, action=view.action, **view.api()))


class Live:
    """Follows the store in a thread: each batch of new records goes to `deliver`, problems to `note`."""

    def __init__(
        self,
        store: Store,
        tasks: tuple[str, ...],
        *,
        interval: float,
        deliver: Callable[[list[Record]], None],
        note: Callable[[str], None],
    ) -> None:
        self.store = store
        self.tasks = tasks
        self.interval = interval
        self.deliver = deliver
        self.note = note
        self.stopped = threading.Event()
        self.pending: list[Record] = []
        self.thread = threading.Thread(target=self._follow, name="tasklog-follow", daemon=True)

    def start(self) -> None:
        """Start following."""
        self.thread.start()

    def stop(self) -> None:
        """Stop following and wait for the thread to let the store go."""
        self.stopped.set()
        if self.thread.is_alive():
            self.thread.join(timeout=5)

    def _follow(self) -> None:
        while not self.stopped.is_set():
            try:
                with self.store.lock:
                    following = self.store.repo.follow(
                        last=0, interval=self.interval, on_note=self.note, sleep=self._sleep, task=self.tasks
                    )
                    try:
                        for record in following:
                            self.pending.append(record)
                    finally:
                        following.close()
                return  # a store that ended (nothing more will come)
            except _Stopped:
                return
            except Exception as exc:  # the store went away or the connection dropped: try again
                self.note(f"following stopped: {problem_text(exc)}; retrying")
                self.stopped.wait(FOLLOW_RETRY)

    def _sleep(self, seconds: float) -> None:
        """Between polls: hand over what came, and let the views use the store while waiting."""
        if self.pending:
            self.deliver(self.pending)
            self.pending = []
        self.store.lock.release()
        try:
            stopped = self.stopped.wait(seconds)
        finally:
            self.store.lock.acquire()
        if stopped:
            raise _Stopped


class _Stopped(Exception):
    """Raised out of the follow loop's sleep when the dashboard stops following."""
