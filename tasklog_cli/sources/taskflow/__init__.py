"""fastapi-taskflow stores (a SQL `task_snapshots` table or Redis hashes): each stored task is one run."""

from collections.abc import Collection, Iterable, Iterator, Mapping
from datetime import timedelta
from operator import attrgetter
from typing import TYPE_CHECKING, Any, Protocol

from tasklog_cli.errors import SourceError
from tasklog_cli.models import CORE_COLUMNS, Record
from tasklog_cli.query import Query, compile_query, task_matcher
from tasklog_cli.runs import Run
from tasklog_cli.selection import last_n
from tasklog_cli.sources.base import Notify, OpenOptions, Source, Watch
from tasklog_cli.sources.taskflow.snapshot import RECORD_FIELDS, TASK_FIELDS, Snapshot, read_snapshot

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

__all__ = ["SnapshotReader", "TaskflowSource", "open_redis", "open_table"]


class SnapshotReader(Protocol):
    """Where the snapshots are: it lists its fields and task ids and hands over raw snapshot mappings."""

    kind: str
    label: str
    fields: tuple[str, ...]

    def task_ids(self) -> set[str]:
        """The id of every stored task."""
        ...

    def rows(self, task_ids: Collection[str] | None = None) -> Iterator[Mapping[str, Any]]:
        """The stored snapshots (those of `task_ids` only, when given), with the SNAPSHOT_FIELDS they have."""
        ...

    def details(self) -> dict[str, Any]:
        """Where in the store the snapshots are, for `info`."""
        ...

    def close(self) -> None:
        """Release the connection."""
        ...


class TaskflowSource(Source):
    """A fastapi-taskflow store: each task is one run of records (run, its log lines, its finish)."""

    run_status = True

    def __init__(self, reader: SnapshotReader, options: OpenOptions) -> None:
        self.reader = reader
        self.kind = reader.kind
        extras = RECORD_FIELDS + tuple(name for name in TASK_FIELDS if name in reader.fields)
        super().__init__(reader.label, CORE_COLUMNS + extras, options)

    @property
    def model(self) -> str:
        return "fastapi-taskflow TaskRecord"

    def snapshots(self, query: Query, rows: Iterable[Mapping[str, Any]] | None = None) -> list[Snapshot]:
        """The query's tasks (of `rows`, else of the whole store) in store order: enqueued time, then
        task id; malformed ones counted."""
        wanted = task_matcher(query.tasks) if query.tasks else None
        snapshots = []
        for row in self.reader.rows() if rows is None else rows:
            if wanted is not None and not wanted(str(row.get("func_name"))):
                continue
            try:
                snapshots.append(read_snapshot(row))
            except (TypeError, ValueError) as exc:
                self.malformed(f"task {row.get('task_id')}: {exc}")
        snapshots.sort(key=lambda snapshot: (snapshot.created, snapshot.task_id))
        return snapshots

    def scan(self, query: Query, fields: Collection[str] | None = None) -> Iterator[Record]:
        return matching_records(self.snapshots(query), query)

    def run_stream(
        self,
        query: Query,
        retry_window: timedelta,
        fields: Collection[str] | None = None,
        exact: Collection[str] = (),
    ) -> Iterator[Run]:
        """One run per stored task, by task name then start (DESIGN §4 rules 5-7: no pairing)."""
        runs = [snapshot.run for snapshot in self.snapshots(Query(tasks=query.tasks))]
        return iter(sorted(runs, key=attrgetter("task_name", "moment")))

    def watch(
        self, query: Query, fields: Collection[str] | None, notify: Notify, *, overlap: float = 5.0
    ) -> Watch:
        return SnapshotWatch(self, query, notify)

    def details(self) -> dict[str, Any]:
        return self.reader.details()

    def close(self) -> None:
        self.reader.close()


def matching_records(snapshots: Iterable[Snapshot], query: Query) -> Iterator[Record]:
    """The records of these tasks that match the query, task by task."""
    matches = compile_query(query)
    for snapshot in snapshots:
        yield from filter(matches, snapshot.run.records)


class SnapshotWatch:
    """Follows a store by its task ids: a task whose id was not there before is new, whatever else was
    deleted meanwhile (a retry through the library's API replaces the original task in one step)."""

    def __init__(self, source: TaskflowSource, query: Query, notify: Notify) -> None:
        self.source, self.query, self.notify = source, query, notify
        rows = list(source.reader.rows())
        self.seen = {str(row.get("task_id")) for row in rows}
        self.records = list(matching_records(source.snapshots(query, rows), query))
        self.down = False

    def backlog(self, count: int) -> list[Record]:
        return last_n(self.records, count)

    def poll(self) -> list[Record]:
        try:
            current = self.source.reader.task_ids()
            fresh = current - self.seen
            rows = list(self.source.reader.rows(fresh)) if fresh else []
        except SourceError as exc:
            if not self.down:
                self.notify(f"{exc}; trying again")
            self.down = True
            return []
        if self.down:
            self.notify(f"reading {self.source.label} again")
            self.down = False
        self.seen = current
        return list(matching_records(self.source.snapshots(self.query, rows), self.query))

    def close(self) -> None:
        """Nothing to release: the source holds the connection."""


def open_redis(url: str, options: OpenOptions) -> TaskflowSource:
    """Open a fastapi-taskflow Redis store from `redis://host:port/db` (optional `?prefix=`)."""
    from tasklog_cli.sources.taskflow.redis import RedisSnapshots

    return TaskflowSource(RedisSnapshots(url), options)


def open_table(engine: "Engine", label: str, options: OpenOptions) -> TaskflowSource:
    """Open the `task_snapshots` table of a database fastapi-taskflow writes to."""
    from tasklog_cli.sources.taskflow.sql import SqlSnapshots

    return TaskflowSource(SqlSnapshots(engine, label), options)
