"""Pure pairing of records into runs (DESIGN §4): retry attempts, the reorder buffer, run selection."""

import math
from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from datetime import timedelta
from heapq import heappop, heappush
from typing import Any, NamedTuple, TypeVar

from tasklog_cli.models import FAILURES, FINISHES, Outcome, Record
from tasklog_cli.query import Query, compile_query

RUNNING = Outcome.RUNNING
DEFAULT_RETRY_WINDOW = timedelta(minutes=10)
T = TypeVar("T")
RECENT = 20  # runs a terminal table of runtimes draws


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


class LateRecord(Exception):
    """A record older than its task's reorder buffer let through: that task must be paired exactly."""

    def __init__(self, task_name: str) -> None:
        super().__init__(f"a record of {task_name!r} arrived later than the reorder horizon")
        self.task_name = task_name


def _new_run(values: tuple[Any, ...]) -> Run:
    """A Run from all its nine values, without the keyword handling of Run(...) (pairing's hot path)."""
    return tuple.__new__(Run, values)


class TaskPairing:
    """One task's open runs and retry chain, fed the task's records in created order (ties in store
    order)."""

    __slots__ = ("chain_attempt", "chain_end", "chain_outcome", "open_runs", "window")

    def __init__(self, retry_window: timedelta = DEFAULT_RETRY_WINDOW) -> None:
        self.window = retry_window.total_seconds()
        self.open_runs: list[tuple[Record, int]] = []  # (its `run` record, attempt), oldest first
        self.chain_outcome, self.chain_end, self.chain_attempt = "", 0.0, 0  # the last closed run

    def feed(self, records: Iterable[Record]) -> list[Run]:
        """The runs these records close, in the order they close."""
        open_runs, window = self.open_runs, self.window
        chain_outcome, chain_end, chain_attempt = self.chain_outcome, self.chain_end, self.chain_attempt
        closed: list[Run] = []
        for record in records:
            created, action = record[0], record[2]
            if action == "run":
                retry = window > 0 and chain_outcome in FAILURES and created - chain_end <= window
                open_runs.append((record, chain_attempt + 1 if retry else 1))
                continue
            if action in FINISHES:
                run_id = record[3]
                position = _matching_open_run(open_runs, run_id)
                if position is None:  # history cut off: a finish without its start
                    run = _new_run((record[1], run_id, None, created, action, 1, (record,), None, None))
                    chain_attempt = 1
                else:
                    start, chain_attempt = open_runs.pop(position)
                    run = _new_run(
                        (
                            record[1],
                            start[3],
                            start[0],
                            created,
                            action,
                            chain_attempt,
                            (start, record),
                            None,
                            None,
                        )
                    )
                closed.append(run)
                chain_outcome = action
            elif action == Outcome.CRASH:
                if open_runs:
                    closed.extend(
                        _new_run(
                            (
                                record[1],
                                start[3],
                                start[0],
                                None,
                                Outcome.CRASH,
                                attempt,
                                (start, record),
                                None,
                                None,
                            )
                        )
                        for start, attempt in open_runs
                    )
                    chain_attempt = open_runs[-1][1]
                    open_runs.clear()
                else:
                    closed.append(
                        _new_run((record[1], record[3], None, None, Outcome.CRASH, 1, (record,), None, None))
                    )
                    chain_attempt = 1
                chain_outcome = Outcome.CRASH
            else:
                continue
            chain_end = created
        self.chain_outcome, self.chain_end, self.chain_attempt = chain_outcome, chain_end, chain_attempt
        return closed

    def earliest_start(self) -> float:
        """When the oldest open run started (infinity when none is open): no later run starts before it."""
        return self.open_runs[0][0][0] if self.open_runs else math.inf

    def close(self) -> list[Run]:
        """The runs still open at the end of the history, as `running`."""
        running = [
            _new_run((start[1], start[3], start[0], None, RUNNING, attempt, (start,), None, None))
            for start, attempt in self.open_runs
        ]
        self.open_runs = []
        return running


def pair_task(records: Iterable[Record], retry_window: timedelta = DEFAULT_RETRY_WINDOW) -> list[Run]:
    """Pair one task's records (in created order, ties in store order) into runs, ordered by start."""
    pairing = TaskPairing(retry_window)
    runs = pairing.feed(sorted(records, key=_created))
    runs.extend(pairing.close())
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


class _TaskStream:
    """A task in a streamed pairing: records held for reordering, the pairing, and runs held until every
    run that could start before them has closed."""

    __slots__ = ("count", "held", "pairing", "released", "waiting")

    def __init__(self, retry_window: timedelta) -> None:
        self.pairing = TaskPairing(retry_window)
        self.held: list[Record] = []  # by created, ties in store order
        self.released = -math.inf  # created of the last record handed to the pairing
        self.waiting: list[tuple[float, int, Run]] = []  # a heap by (moment, order closed)
        self.count = 0

    def release(self, records: list[Record]) -> list[Run]:
        """Pair these records (the task's next by created); the runs now known to come next by start."""
        self.released = records[-1][0]
        closed = self.pairing.feed(records)
        if not closed:
            return closed
        watermark = self.pairing.earliest_start()
        if not self.waiting:
            previous = -math.inf
            for run in closed:
                moment = run[2] if run[2] is not None else run[3] if run[3] is not None else run[6][-1][0]
                if moment < previous:
                    break
                previous = moment
            else:
                if previous <= watermark:
                    return closed
        return self.settle(closed, watermark)

    def settle(self, closed: list[Run], watermark: float) -> list[Run]:
        """Hold these runs with the waiting ones; hand back those no later run can precede."""
        waiting = self.waiting
        for run in closed:
            self.count += 1
            heappush(waiting, (run.moment, self.count, run))
        ready = []
        while waiting and waiting[0][0] <= watermark:
            ready.append(heappop(waiting)[2])
        return ready

    def finish(self) -> list[Run]:
        """Every run left: the held records paired, then the waiting and running runs by start."""
        ready = self.release(self.held) if self.held else []
        self.held = []
        return ready + self.settle(self.pairing.close(), math.inf)


class _AllTasks(frozenset[str]):
    """The tasks to pair exactly when too many were late: every one."""

    def __contains__(self, task_name: object) -> bool:
        return True


ALL_TASKS: frozenset[str] = _AllTasks()
MAX_RESTARTS = 3
REORDER_HORIZON = 900.0  # seconds a record may arrive after later records of its task
MAX_HELD = 1 << 16  # records held per task for reordering, whatever the horizon


def stream_runs(
    records: Iterable[Record],
    retry_window: timedelta = DEFAULT_RETRY_WINDOW,
    *,
    horizon: float | None = REORDER_HORIZON,
    exact: Collection[str] = (),
) -> Iterator[Run]:
    """Each task's runs by start, tasks interleaved as the records come, holding only open runs, the
    records of the last `horizon` seconds of each task (None: records come in created order per task),
    and runs that a still open run starts before; tasks in `exact` are gathered and paired whole.

    Raises LateRecord when a record is older than its task's records already paired.
    """
    streams: dict[str, _TaskStream] = {}
    gathered: dict[str, list[Record]] = {}
    span = math.inf if horizon is None else 2 * horizon  # records are released a batch at a time
    for record in records:
        task_name = record[1]
        stream = streams.get(task_name)
        if stream is None:
            if task_name in gathered or task_name in exact:
                gathered.setdefault(task_name, []).append(record)
                continue
            stream = streams[task_name] = _TaskStream(retry_window)
        created = record[0]
        if created < stream.released:
            raise LateRecord(task_name)
        if horizon is None:
            yield from stream.release([record])
            continue
        held = stream.held
        if not held or created >= held[-1][0]:
            held.append(record)
            if created - held[0][0] <= span and len(held) <= MAX_HELD:
                continue
        else:
            held.insert(bisect_right(held, created, key=_created), record)
        cut = max(bisect_left(held, held[-1][0] - horizon, key=_created), len(held) - MAX_HELD // 2)
        if cut > 0:
            stream.held = held[cut:]
            yield from stream.release(held[:cut])
    for task_name in sorted(streams):
        yield from streams.pop(task_name).finish()
    for task_name in sorted(gathered):
        yield from pair_task(gathered.pop(task_name), retry_window)


def consume_runs(
    make_runs: Callable[[Collection[str]], Iterable[Run]], consume: Callable[[Iterable[Run]], T]
) -> T:
    """`consume(make_runs(exact))`, started again with the late tasks paired exactly whenever the
    stream meets a late record (after a few, every task is paired exactly)."""
    exact: set[str] = set()
    while True:
        try:
            return consume(make_runs(frozenset(exact)))
        except LateRecord as late:
            exact.add(late.task_name)
            if len(exact) > MAX_RESTARTS:
                return consume(make_runs(ALL_TASKS))


def run_selector(query: Query, outcomes: Collection[str] = ()) -> Callable[[Run], bool]:
    """Which runs a query selects (DESIGN §3): by run id, by when it happened, by any of its records."""
    run_ids = frozenset(query.run_ids)
    wanted_outcomes = frozenset(outcomes)
    since = float("-inf") if query.since is None else query.since
    until = float("inf") if query.until is None else query.until
    by_record = query.by_record
    record_matches = compile_query(
        Query(grep=query.grep, ignore_case=query.ignore_case, where=query.where, level=query.level)
    )

    if not (run_ids or wanted_outcomes or by_record) and since == -math.inf and until == math.inf:
        return every_run

    def keep(run: Run) -> bool:
        return (
            (not run_ids or run.run_id in run_ids)
            and (not wanted_outcomes or run.outcome in wanted_outcomes)
            and since <= run.moment < until
            and (not by_record or any(record_matches(record) for record in run.records))
        )

    return keep


def every_run(run: Run) -> bool:
    """The selector of a query that selects every run."""
    return True


def selected(stream: Iterable[Run], keep: Callable[[Run], bool]) -> Iterable[Run]:
    """The runs a selector keeps (no call per run when it keeps every one)."""
    return stream if keep is every_run else filter(keep, stream)
