"""The Python API: open a task-log store and ask it for records, runs, runtimes, health and timelines.

    from tasklog_cli.api import open_repo

    with open_repo("logs.csv") as repo:
        for run in repo.runs(task="nightly_*", failed=True, last=5):
            print(run.task_name, run.start, run.duration)

Filters are keyword arguments named like the CLI's options; every result is an immutable value from
`tasklog_cli.results` whose attribute names are the machine field names.
"""

import os
import time
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta, tzinfo
from types import TracebackType
from typing import TYPE_CHECKING, Self, TypedDict, Unpack

from tasklog_cli import reports
from tasklog_cli.checks import Limits
from tasklog_cli.config import RepoChoice, choose_repo, load_config
from tasklog_cli.errors import UsageError, check_names
from tasklog_cli.follow import poll_records
from tasklog_cli.models import FAILURES, Outcome
from tasklog_cli.query import Moment, Query, build_query
from tasklog_cli.reports import Bucket
from tasklog_cli.results import RUN_FIELDS, Info, Problem, Record, Run, Runtime, TaskHealth, Timeline
from tasklog_cli.runs import run_selector
from tasklog_cli.selection import Selection
from tasklog_cli.sources import OpenOptions, Source, open_source
from tasklog_cli.sources.base import Notify, Watch
from tasklog_cli.times import Zone, parse_span, resolve_zone, utc_from_epoch

if TYPE_CHECKING:
    from tasklog_cli.index import RunIndex

__all__ = ["Bucket", "Filters", "Following", "Outcome", "Repo", "open_repo"]

Span = str | timedelta
Names = str | Sequence[str]


class Filters(TypedDict, total=False):
    """What selects runs and records; options of one kind OR together, different kinds AND."""

    task: Names
    run_id: Names
    since: Moment | None
    until: Moment | None
    grep: str | None
    ignore_case: bool
    where: Names
    level: str | int | None


def _names(value: Names | None) -> tuple[str, ...]:
    if value is None:
        return ()
    return (value,) if isinstance(value, str) else tuple(value)


def _span(value: Span) -> timedelta:
    return value if isinstance(value, timedelta) else parse_span(value)


def _outcomes(outcome: Names, *, running: bool, failed: bool) -> frozenset[str]:
    wanted = set(_names(outcome))
    unknown = wanted - set(Outcome)
    if unknown:
        raise UsageError(f"unknown outcome {sorted(unknown)[0]!r}: use {', '.join(Outcome)}")
    return frozenset(wanted | ({Outcome.RUNNING} if running else set()) | (FAILURES if failed else set()))


class Closing:
    """Something `with` closes at the end of its block."""

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        """Release what it holds."""
        raise NotImplementedError


class Repo(Closing):
    """An opened store; use it as a context manager, or call `close()`."""

    def __init__(
        self,
        source: Source,
        *,
        zone: Zone,
        chosen_by: str,
        clock: Callable[[], datetime] | None = None,
        index: "RunIndex | None" = None,
    ) -> None:
        self.source = source
        self.zone = zone
        self.chosen_by = chosen_by
        self.clock = clock or (lambda: datetime.now(UTC))
        self.index = index  # answers run commands from what earlier commands read, when it can

    def close(self) -> None:
        """Release the store's connections and files."""
        if self.index is not None:
            self.index.close()
        self.source.close()

    @property
    def label(self) -> str:
        """What the store is, as messages name it (passwords hidden)."""
        return self.source.label

    @property
    def run_fields(self) -> tuple[str, ...]:
        """The fields of this store's runs: `status` only where the store keeps one (fastapi-taskflow)."""
        return RUN_FIELDS + (("status",) if self.source.run_status else ())

    @property
    def columns(self) -> tuple[str, ...]:
        """Every field a record of this store has: the core four, then the store's own columns."""
        return self.source.record_columns

    @property
    def skipped(self) -> int:
        """How many malformed rows the reads so far have skipped."""
        return self.source.skipped

    @property
    def first_malformed(self) -> str | None:
        """Why the first skipped row was skipped (its line or key, and what was wrong)."""
        return self.source.first_malformed

    def query(self, filters: Filters, action: Names = ()) -> Query:
        """The Query that keyword filters (and actions, for records) mean, checked against this store."""
        where = _names(filters.get("where"))
        level = filters.get("level")
        query = build_query(
            tasks=_names(filters.get("task")),
            actions=_names(action),
            run_ids=_names(filters.get("run_id")),
            since=filters.get("since"),
            until=filters.get("until"),
            grep=filters.get("grep"),
            ignore_case=filters.get("ignore_case", False),
            where=where,
            level=None if level is None else str(level),
            now=self.clock(),
            zone=self.zone,
        )
        check_names([condition.field for condition in query.where], self.columns, "--where")
        if query.level is not None:
            check_names(["levelname"], self.columns, "--level")
        if query.grep is not None and not {"message", "exc_text"} & set(self.source.columns):
            raise UsageError(f"--grep needs a message or exc_text column; {self.label} has neither")
        return query

    def records(
        self,
        *,
        last: int | None = None,
        head: int | None = None,
        sort_created: bool = False,
        reverse: bool = False,
        fields: Collection[str] | None = None,
        action: Names = (),
        **filters: Unpack[Filters],
    ) -> Iterator[Record]:
        """The matching records in store order (`sort_created`: by created; `reverse`: newest first);
        `fields`: the columns to read."""
        selection = Selection(head=head, last=last, sort_created=sort_created, reverse=reverse)
        found = self.source.select(self.query(filters, action), selection, fields=fields)
        return map(reports.record_result, found)

    def runs(
        self,
        *,
        outcome: Names = (),
        running: bool = False,
        failed: bool = False,
        last: int | None = None,
        reverse: bool = False,
        retry_window: Span = "10m",
        **filters: Unpack[Filters],
    ) -> list[Run]:
        """Runs by start (`reverse`: newest first): each `run` record paired with its finish (`failed`:
        fail, terminate, crash)."""
        return list(
            self.iter_runs(outcome=outcome, running=running, failed=failed, last=last, reverse=reverse,
                           retry_window=retry_window, **filters)
        )  # fmt: skip

    def iter_runs(
        self,
        *,
        outcome: Names = (),
        running: bool = False,
        failed: bool = False,
        last: int | None = None,
        reverse: bool = False,
        retry_window: Span = "10m",
        **filters: Unpack[Filters],
    ) -> Iterator[Run]:
        """`runs` one at a time: the store is read before the first one comes, and holding every run is
        left to temporary files, so memory stays small however many there are."""
        query = self.query(filters)
        outcomes = _outcomes(outcome, running=running, failed=failed)
        if last == 0:  # -n 0: nothing, and nothing read
            return iter(())
        window = _span(retry_window)
        if last is not None and self.index is not None:
            latest = self.index.latest_runs(query, window, outcomes, last)
            if latest is not None:
                return map(reports.run_result, latest[::-1] if reverse else latest)
        if self.index is not None and (indexed := self.index.runs(query, window)) is not None:
            return reports.by_start_order(filter(run_selector(query, outcomes), indexed), last, reverse)
        return reports.run_report(self.source, query, window, outcomes, last, reverse)

    def runtimes(
        self,
        *,
        by: Bucket | str | None = None,
        recent: bool = False,
        retry_window: Span = "10m",
        **filters: Unpack[Filters],
    ) -> list[Runtime]:
        """Per task (and time bucket): runs by outcome, success rate, duration statistics; `recent` adds
        the last durations and outcomes."""
        bucket = None if by is None else _bucket(by)
        query, window = self.query(filters), _span(retry_window)
        if self.index is not None:
            rows = self.index.runtimes(query, window, by=bucket, zone=self.zone, recent=recent)
            if rows is not None:
                return rows
        return reports.runtime_report(self.source, query, window, by=bucket, zone=self.zone, recent=recent)

    def tasks(self, *, retry_window: Span = "10m", **filters: Unpack[Filters]) -> list[TaskHealth]:
        """One row per task, by name: runs, the latest run, success rate and streak."""
        query, window = self.query(filters), _span(retry_window)
        if self.index is not None and (rows := self.index.tasks(query, window)) is not None:
            return rows
        return reports.task_report(self.source, query, window)

    def timeline(
        self, tasks: Names, *, last: int | None = None, retry_window: Span = "10m", **filters: Unpack[Filters]
    ) -> list[Timeline]:
        """The named tasks' runs with their records, in the order the tasks are named."""
        names = _names(tasks)
        named: Filters = {**filters, "task": names}
        return reports.timeline_report(self.source, self.query(named), _span(retry_window), names, last)

    def check(
        self,
        *,
        max_age: Span | None = None,
        max_failures: int | None = None,
        max_duration: Span | None = None,
        retry_window: Span = "10m",
        **filters: Unpack[Filters],
    ) -> list[Problem]:
        """The problems of the tasks in scope (chosen over the whole history; the time window narrows
        the runs looked at); an empty list means healthy."""
        if max_age is None and max_failures is None and max_duration is None:
            raise UsageError("check needs --max-age, --max-failures or --max-duration")
        if max_failures is not None and max_failures < 1:
            raise UsageError(f"--max-failures must be 1 or more, not {max_failures}")
        limits = Limits(
            max_age=None if max_age is None else _span(max_age),
            max_failures=max_failures,
            max_duration=None if max_duration is None else _span(max_duration),
        )
        query, window, now = self.query(filters), _span(retry_window), self.clock().timestamp()
        found = None if self.index is None else self.index.check(query, window, limits, now)
        if found is not None:
            return found
        return reports.check_report(self.source, query, window, limits, now)

    def follow(
        self,
        *,
        last: int = 10,
        interval: float = 0.5,
        overlap: float = 5.0,
        fields: Collection[str] | None = None,
        on_note: Notify | None = None,
        sleep: Callable[[float], None] = time.sleep,
        action: Names = (),
        **filters: Unpack[Filters],
    ) -> "Following":
        """The last `last` matching records, then each new one as it is written (polling every
        `interval` seconds) for as long as it is iterated; close it (or use `with`) when done."""
        if not interval > 0 or not overlap >= 0:
            raise UsageError(
                f"--interval must be above 0 and --overlap 0 or more, not {interval} and {overlap}"
            )
        watch = self.source.watch(
            self.query(filters, action), fields, on_note or (lambda _: None), overlap=overlap
        )
        return Following(watch, last, interval, sleep)

    def info(self) -> Info:
        """What the store is: its kind, model, columns, size, time span, tasks and malformed rows."""
        skipped_before = self.source.skipped  # earlier reads of this repo counted theirs
        summary = (self.index.summary() if self.index is not None else None) or self.source.summary()
        return Info(
            source=self.label,
            chosen_by=self.chosen_by,
            kind=self.source.kind,
            model=self.source.model,
            details=self.source.details(),
            columns=self.source.columns,
            records=summary.records,
            first=None if summary.first is None else utc_from_epoch(summary.first),
            last=None if summary.last is None else utc_from_epoch(summary.last),
            tasks=summary.tasks,
            malformed_rows=self.source.skipped - skipped_before,
        )


class Following(Closing):
    """A followed store: `backlog` (the records before the start), then iterating gives every new record."""

    def __init__(self, watch: Watch, last: int, interval: float, sleep: Callable[[float], None]) -> None:
        self.watch = watch
        self.interval = interval
        self.sleep = sleep
        self.backlog = [reports.record_result(record) for record in watch.backlog(last)]

    def __iter__(self) -> Iterator[Record]:
        yield from self.backlog
        yield from map(
            reports.record_result, poll_records(self.watch, interval=self.interval, sleep=self.sleep)
        )

    def close(self) -> None:
        """Stop following: release what the watch holds open."""
        self.watch.close()


def _bucket(by: Bucket | str) -> Bucket:
    try:
        return Bucket(by)
    except ValueError:
        raise UsageError(f"unknown bucket {by!r}: use hour or day") from None


def open_choice(
    choice: RepoChoice,
    *,
    table: str | None = None,
    zone: Zone | None = None,
    strict: bool = False,
    clock: Callable[[], datetime] | None = None,
    index: bool = True,
    variables: Mapping[str, str] | None = None,
) -> Repo:
    """Open a store as a RepoChoice names it (the CLI's way in: it knows what chose the repo); `index`:
    answer from the run index (unless TASKLOG_NO_INDEX is set in `variables`, default the process's)."""
    chosen_zone = zone if zone is not None else resolve_zone(utc=False, name=choice.time_zone)
    options = OpenOptions(
        zone=chosen_zone, strict=strict, table=table or choice.table, allow_code=choice.allow_code
    )
    source = open_source(choice.spec, options)
    run_index = None
    if index:
        from tasklog_cli.index import open_index

        run_index = open_index(source, os.environ if variables is None else variables)
    return Repo(source, zone=chosen_zone, chosen_by=choice.chosen_by, clock=clock, index=run_index)


def open_repo(
    spec: str,
    *,
    table: str | None = None,
    time_zone: str | tzinfo | None = None,
    strict: bool = False,
    index: bool = True,
) -> Repo:
    """Open a store as `-r` names it: a path, a URL, a config repo name, `demo` or `package.module:attr`;
    `time_zone` is the zone its naive times are in (default: the config's, else the local zone);
    `index=False` reads the store whole instead of answering from the run index."""
    zone = resolve_zone(utc=False, name=time_zone) if isinstance(time_zone, str) else time_zone
    choice = choose_repo(spec, None, load_config())
    return open_choice(choice, table=table, zone=zone, strict=strict, index=index)
