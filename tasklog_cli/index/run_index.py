"""RunIndex: brings a store's index up to date (reading only what was appended since the last command)
and answers run commands from it; any trouble with the index file means no answer, never an error."""

import math
import sqlite3
from collections.abc import Iterable, Iterator, Mapping
from datetime import timedelta
from itertools import islice
from pathlib import Path
from typing import Any

from tasklog_cli import reports, results
from tasklog_cli.checks import Limits, ProblemTally, find_problems
from tasklog_cli.index.answers import checked_runs, runtime_row, runtime_stats, task_health
from tasklog_cli.index.cache import Cache
from tasklog_cli.index.history import HORIZON_SECONDS, TaskState
from tasklog_cli.index.location import cache_folder, index_file, private_folder
from tasklog_cli.index.logs import StoreLog, log_of
from tasklog_cli.models import Record
from tasklog_cli.query import Query, task_matcher
from tasklog_cli.reports import Bucket
from tasklog_cli.results import Problem
from tasklog_cli.runs import DEFAULT_RETRY_WINDOW, RECENT, Run, pair_task, run_selector
from tasklog_cli.selection import last_n
from tasklog_cli.sources.base import Source, Summary
from tasklog_cli.sources.csvfile.source import CsvSource
from tasklog_cli.sources.marks import Change, Mark
from tasklog_cli.times import Zone

BATCH_RECORDS = 200_000  # records read between two pairings of the tasks they belong to
MAX_NAMED_TASKS = 10_000  # more task names than this in one query: read the runs task by task instead
INDEX_ERRORS = (sqlite3.Error, OSError, ValueError, KeyError, TypeError, IndexError)


def _batches(records: Iterable[Record]) -> Iterator[list[Record]]:
    iterator = iter(records)
    while batch := list(islice(iterator, BATCH_RECORDS)):
        yield batch


class RunIndex:
    """The index of one opened store: one file per retry window, brought up to date when first used."""

    def __init__(self, source: Source, log: StoreLog, folder: Path) -> None:
        self.source, self.log, self.folder = source, log, folder
        self.caches: dict[float, tuple[Cache, dict[str, Any]] | None] = {}

    def close(self) -> None:
        """Close the index files."""
        for opened in self.caches.values():
            if opened is not None:
                opened[0].close()
        self.caches.clear()

    # Bringing the index up to date.

    def _ready(self, retry_window: timedelta) -> tuple[Cache, dict[str, Any]] | None:
        """The index for a retry window, up to date and held in a read snapshot, with what it read."""
        seconds = retry_window.total_seconds()
        held = self.caches.get(seconds)
        if held is not None and not self._still_current(held[1]):  # a repo may live long (`tasklog ui`)
            held[0].close()
            del self.caches[seconds]
        if seconds not in self.caches:
            try:
                self.caches[seconds] = self._refreshed(retry_window)
            except INDEX_ERRORS:
                self.caches[seconds] = None
        return self.caches[seconds]

    def _still_current(self, meta: dict[str, Any]) -> bool:
        """Whether the store is still what the held snapshot was read from (a gone store is not)."""
        try:
            return "mark" in meta and self.log.change(meta["mark"]) is Change.SAME
        except INDEX_ERRORS:
            return False

    def _open(self, retry_window: timedelta) -> Cache:
        identity = {
            **self.log.identity,
            "columns": list(self.source.columns),
            "zone": str(self.source.options.zone),
            "retry_window": retry_window.total_seconds(),
        }
        private_folder(self.folder)
        path = index_file(self.folder, identity)
        try:
            cache = Cache(path)
            cache.meta()
            return cache
        except sqlite3.DatabaseError:  # not an index (any more): start it again
            path.unlink(missing_ok=True)
            return Cache(path)

    def _refreshed(self, retry_window: timedelta) -> tuple[Cache, dict[str, Any]] | None:
        cache = self._open(retry_window)
        try:
            cache.begin(write=False)
            meta = cache.meta()
            if "mark" in meta and self.log.change(meta["mark"]) is Change.SAME:
                return cache, meta
            cache.rollback()
            cache.begin(write=True)  # one writer at a time; the others wait, then find it up to date
            meta = cache.meta()
            end = self.log.end()
            if end is None:
                cache.close()
                return None
            change = self.log.change(meta["mark"]) if "mark" in meta else Change.REWRITTEN
            if change is not Change.SAME:
                if change is Change.REWRITTEN:
                    cache.clear()
                    meta = {}
                self._apply(cache, meta, end, retry_window)
            cache.commit()
            cache.begin(write=False)
            return cache, cache.meta()
        except BaseException:
            cache.rollback()
            cache.close()
            raise

    def _apply(self, cache: Cache, meta: dict[str, Any], end: Mark, retry_window: timedelta) -> None:
        """Read the records appended since the mark into the tasks' states; a task that got a record
        from before its cut is rebuilt from its whole history."""
        source = self.source
        skipped, first_malformed = source.skipped, source.first_malformed
        source.skipped, source.first_malformed = 0, None
        latest = meta.get("latest", -math.inf)
        disorder = meta.get("disorder", 0.0)
        total, first, last = meta.get("records", 0), meta.get("first"), meta.get("last")
        states: dict[str, TaskState] = {}
        late: set[str] = set()
        try:
            for batch in _batches(self.log.read(meta.get("mark"), end)):
                for record in batch:
                    created, name = record.created, record.task_name
                    if created > latest:
                        latest = created
                    elif latest - created > disorder:
                        disorder = latest - created
                    total += 1
                    first = created if first is None or created < first else first
                    last = created if last is None or created > last else last
                    state = states.get(name)
                    if state is None:
                        state = states[name] = cache.load(name, durations=False)
                    if created < state.cut:
                        late.add(name)
                    state.tail.append(record)
                    state.records += 1
                self._advance(cache, states, late, retry_window, latest)
            found_skipped, found_first = source.skipped, source.first_malformed
            before = meta.get("latest", -math.inf)
            cache.add_samples((offset, max(before, newest)) for offset, newest in self.log.samples)
            if late:
                self._rebuild(cache, states, late, end, retry_window, latest)
        finally:
            source.skipped, source.first_malformed = skipped, first_malformed
        for state in states.values():
            cache.save(state)
        cache.set_meta(
            {
                "mark": dict(end),
                "latest": latest,
                "disorder": disorder,
                "records": total,
                "first": first,
                "last": last,
                "skipped": meta.get("skipped", 0) + found_skipped,
                "first_malformed": meta.get("first_malformed") or found_first,
            }
        )

    @staticmethod
    def _advance(
        cache: Cache, states: Mapping[str, TaskState], late: set[str], window: timedelta, latest: float
    ) -> None:
        for name, state in states.items():
            if name not in late:
                state.advance(window, latest - HORIZON_SECONDS)
                cache.flush_runs(state)

    def _rebuild(
        self,
        cache: Cache,
        states: dict[str, TaskState],
        names: set[str],
        end: Mark,
        window: timedelta,
        latest: float,
    ) -> None:
        for name in names:
            cache.forget(name)
            states[name] = TaskState(name)
        rebuilt = {name: states[name] for name in names}
        for batch in _batches(self.log.read(None, end)):
            for record in batch:
                state = rebuilt.get(record.task_name)
                if state is not None:
                    state.tail.append(record)
                    state.records += 1
            self._advance(cache, rebuilt, set(), window, latest)

    # Answers.

    def _usable(self, query: Query, retry_window: timedelta) -> tuple[Cache, dict[str, Any]] | None:
        """The index, when it can answer the query: by task, run id and time only (with malformed rows
        in the store, by time only: which of them a task filter meets depends on their text)."""
        if query.by_record:
            return None
        ready = self._ready(retry_window)
        if ready is None or (ready[1]["skipped"] and query.tasks):
            return None
        source = self.source
        source.skipped += ready[1]["skipped"]
        source.first_malformed = source.first_malformed or ready[1]["first_malformed"]
        return ready

    @staticmethod
    def _names(cache: Cache, query: Query) -> list[str]:
        names = cache.task_names()
        if not query.tasks:
            return names
        is_task = task_matcher(query.tasks)
        return [name for name in names if is_task(name)]

    @staticmethod
    def _windowed(query: Query) -> bool:
        return query.since is not None or query.until is not None or bool(query.run_ids)

    def runs(self, query: Query, retry_window: timedelta) -> Iterator[Run] | None:
        """Every run of the query's tasks, as `Source.runs` gives them (None: the index cannot say)."""
        ready = self._usable(query, retry_window)
        if ready is None:
            return None
        return self._runs(ready[0], query, retry_window)

    def _runs(self, cache: Cache, query: Query, retry_window: timedelta) -> Iterator[Run]:
        for name in self._names(cache, query):
            yield from list(cache.runs(name, query.since, query.until, query.run_ids))
            yield from pair_task(cache.load(name, durations=False).tail, retry_window)

    def latest_runs(
        self, query: Query, retry_window: timedelta, outcomes: frozenset[str], count: int
    ) -> list[Run] | None:
        """The last `count` selected runs by start, as `Repo.runs` orders them."""
        ready = self._usable(query, retry_window)
        if ready is None:
            return None
        cache = ready[0]
        names = self._names(cache, query)
        if len(names) > MAX_NAMED_TASKS:
            return last_n(
                sorted(filter(run_selector(query, outcomes), self._runs(cache, query, retry_window)),
                       key=lambda run: run.moment),
                count,
            )  # fmt: skip
        keep = run_selector(query, outcomes)
        found = cache.latest_runs(
            names if query.tasks else None, query.since, query.until, query.run_ids, outcomes, count
        )
        candidates = [item for item in found if keep(item[3])]
        for name in names:
            state = cache.load(name, durations=False)
            for position, run in enumerate(pair_task(state.tail, retry_window)):
                if keep(run):
                    candidates.append((run.moment, name, state.settled.runs + position, run))
        candidates.sort(key=lambda item: item[:3])
        return [item[3] for item in last_n(candidates, count)]

    def tasks(self, query: Query, retry_window: timedelta) -> list[results.TaskHealth] | None:
        """The rows of `tasks`."""
        ready = self._usable(query, retry_window)
        if ready is None:
            return None
        cache = ready[0]
        if self._windowed(query):
            return reports.task_results(filter(run_selector(query), self._runs(cache, query, retry_window)))
        rows = []
        for name in self._names(cache, query):
            state = cache.load(name, durations=False)
            row = task_health(name, state.settled, pair_task(state.tail, retry_window))
            if row is not None:
                rows.append(row)
        return rows

    def runtimes(
        self, query: Query, retry_window: timedelta, *, by: Bucket | None, zone: Zone, recent: bool
    ) -> list[results.Runtime] | None:
        """The rows of `runtimes`."""
        ready = self._usable(query, retry_window)
        if ready is None:
            return None
        cache = ready[0]
        if by is not None or self._windowed(query):
            selected = filter(run_selector(query), self._runs(cache, query, retry_window))
            return reports.runtime_results(selected, by=by, zone=zone, recent=recent)
        rows = []
        for name in self._names(cache, query):
            state = cache.load(name)
            tail = pair_task(state.tail, retry_window)
            stats = runtime_stats(state.settled, tail)
            if stats is None:
                continue
            extra: dict[str, Any] = {"bucket": None}
            if recent:
                latest = (cache.recent_runs(name, RECENT) + tail)[-RECENT:]
                extra["recent"] = tuple(d for run in latest if (d := run.duration) is not None)
                extra["outcomes"] = tuple(run.outcome for run in latest)
            rows.append(runtime_row(name, stats, **extra))
        return rows

    def check(
        self, query: Query, retry_window: timedelta, limits: Limits, now: float
    ) -> list[Problem] | None:
        """The problems `check` reports over the whole history (None: the index cannot say)."""
        if self._windowed(query):
            return None
        ready = self._usable(query, retry_window)
        if ready is None:
            return None
        cache = ready[0]
        tallies: dict[str, ProblemTally] = {}
        for name in self._names(cache, query):
            state = cache.load(name, durations=False)
            tail = pair_task(state.tail, retry_window)
            if state.settled.runs or tail:
                tally = tallies[name] = ProblemTally(limits, now)
                for run in checked_runs(name, state.settled, tail):
                    tally.add(run)
        return find_problems(tallies, query.exact_tasks())

    def summary(self) -> Summary | None:
        """What `info` counts, for stores whose count is a full read (None: ask the store)."""
        if type(self.source).summary is not Source.summary:
            return None
        ready = self._ready(DEFAULT_RETRY_WINDOW)
        if ready is None:
            return None
        cache, meta = ready
        self.source.skipped += meta["skipped"]
        self.source.first_malformed = self.source.first_malformed or meta["first_malformed"]
        return Summary(meta["records"], meta["first"], meta["last"], cache.record_counts())

    def window_start(self, since: float) -> int | None:
        """Where in a CSV file the records created at `since` or later start: the last offset the index
        knows before which every record is older (None: read from the start)."""
        ready = self._ready(DEFAULT_RETRY_WINDOW)
        if ready is None or ready[1]["skipped"]:
            return None
        return ready[0].window_start(since)


def open_index(source: Source, variables: Mapping[str, str]) -> RunIndex | None:
    """The index of a store the index serves, unless `TASKLOG_NO_INDEX` is set or `--strict` (which
    reads every row) is on."""
    if variables.get("TASKLOG_NO_INDEX", "") not in ("", "0") or source.options.strict:
        return None
    try:
        log = log_of(source)
        folder = cache_folder(variables)
    except INDEX_ERRORS:
        return None
    if log is None:
        return None
    index = RunIndex(source, log, folder)
    if isinstance(source, CsvSource):
        source.window_start = index.window_start
    return index
