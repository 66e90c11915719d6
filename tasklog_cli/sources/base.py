"""The Source base class every store kind implements, and what it shares with them."""

from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import timedelta
from operator import attrgetter, itemgetter
from typing import Any, Protocol, TypeVar

from tasklog_cli.errors import SourceError
from tasklog_cli.models import CORE_COLUMNS, REQUIRED_COLUMNS, ColumnKind, Record, detect_model
from tasklog_cli.query import Query, compile_query
from tasklog_cli.runs import Run, consume_runs, stream_runs
from tasklog_cli.selection import Selection, first_n, last_n
from tasklog_cli.times import Zone
from tasklog_cli.values import convert, to_epoch

T = TypeVar("T")


@dataclass(frozen=True)
class OpenOptions:
    """How to open a store: the zone of its naive times, whether a malformed row is fatal, its table,
    and whether `package.module:attr` code may be imported for it."""

    zone: Zone = None
    strict: bool = False
    table: str | None = None
    allow_code: bool = True


@dataclass
class Summary:
    """What `info` tells about a store's contents."""

    records: int = 0
    first: float | None = None
    last: float | None = None
    tasks: dict[str, int] = field(default_factory=dict)


class MalformedRowError(ValueError):
    """A stored row that cannot be read as a task log record."""


class Watch(Protocol):
    """A store followed from a starting point: what came before it, and what is written after it."""

    def backlog(self, count: int) -> list[Record]:
        """The last `count` matching records up to the starting point."""
        ...

    def poll(self) -> list[Record]:
        """The matching records written since the last poll (or the starting point), in store order."""
        ...

    def close(self) -> None:
        """Release what the watch holds open."""
        ...


Notify = Callable[[str], None]


class Source(ABC):
    """A task-log store opened for reading: it lists its columns and yields matching Records."""

    kind: str = "store"
    run_status = False  # whether its runs carry a stored status (fastapi-taskflow)

    def __init__(self, label: str, columns: Iterable[str], options: OpenOptions) -> None:
        self.label = label
        self.columns = tuple(columns)
        self.options = options
        self.skipped = 0
        self.first_malformed: str | None = None  # why (and where) the first row skipped was skipped
        missing = [name for name in REQUIRED_COLUMNS if name not in self.columns]
        if missing:
            raise SourceError(
                f"{label} is not a task log: no {'/'.join(missing)} column "
                f"(found: {', '.join(self.columns) or 'none'})"
            )

    @property
    def model(self) -> str:
        """The Rocketry record model the columns match."""
        return detect_model(self.columns)

    @property
    def record_columns(self) -> tuple[str, ...]:
        """Columns of a Record from this store: the core four, then the store's own."""
        return CORE_COLUMNS + tuple(name for name in self.columns if name not in CORE_COLUMNS)

    @staticmethod
    def wanted_fields(fields: Collection[str] | None, query: Query) -> set[str] | None:
        """The extra columns to convert: those asked for and those the query reads (None: all)."""
        return None if fields is None else set(fields) | query.fields()

    def matching(
        self,
        rows: Iterable[T],
        to_record: Callable[[T], Record],
        query: Query,
        describe: Callable[[T], str] = lambda row: "",
    ) -> Iterator[Record]:
        """The rows that are records matching the query; the others are counted (or fatal, --strict)."""
        predicate = compile_query(query)
        for row in rows:
            try:
                record = to_record(row)
            except MalformedRowError as exc:
                detail = describe(row)
                self.malformed(f"{exc}: {detail}" if detail else str(exc))
                continue
            if predicate(record):
                yield record

    def malformed(self, reason: str) -> None:
        """Count a skipped row, or fail on it under --strict."""
        if self.options.strict:
            raise SourceError(f"malformed row in {self.label}: {reason}")
        if self.first_malformed is None:
            self.first_malformed = reason
        self.skipped += 1

    @abstractmethod
    def scan(self, query: Query, fields: Collection[str] | None = None) -> Iterator[Record]:
        """Matching records in store order; `fields` limits which extra columns are converted."""

    def select(
        self, query: Query, selection: Selection, fields: Collection[str] | None = None
    ) -> Iterator[Record]:
        """Matching records with the selection applied (`-n 0`: none, and nothing is read)."""
        if selection.nothing:
            return iter(())
        found = self.select_some(query, replace(selection, reverse=False), fields)
        return reversed(list(found)) if selection.reverse else found

    def select_some(
        self, query: Query, selection: Selection, fields: Collection[str] | None = None
    ) -> Iterator[Record]:
        """`select` for a selection that keeps something; sources override it to push work down."""
        return apply_selection(self.scan(query, fields), selection)

    def history(self, query: Query, fields: Collection[str] | None = None) -> Iterator[Record]:
        """Every record of the query's tasks, by task name, then created (ties in store order)."""
        records = self.scan(Query(tasks=query.tasks), fields)
        return iter(sorted(records, key=itemgetter(1, 0)))  # (task_name, created); a stable sort

    def runs(
        self, query: Query, retry_window: timedelta, fields: Collection[str] | None = None
    ) -> Iterator[Run]:
        """Every run of the query's tasks: their whole history paired, by task name, then start."""
        return iter(self.paired(query, retry_window, fields, by_task_name))

    def run_stream(
        self,
        query: Query,
        retry_window: timedelta,
        fields: Collection[str] | None = None,
        exact: Collection[str] = (),
    ) -> Iterator[Run]:
        """Every run of the query's tasks, each task's by start, tasks interleaved as the store holds them
        (stores that keep runs override); raises LateRecord when the store order is too far from
        `created` order for a task not in `exact`."""
        return stream_runs(self.scan(Query(tasks=query.tasks), fields), retry_window, exact=exact)

    def paired(
        self,
        query: Query,
        retry_window: timedelta,
        fields: Collection[str] | None,
        consume: Callable[[Iterable[Run]], T],
    ) -> T:
        """`consume` the run stream, read again (late tasks paired exactly) when the store order needs it;
        malformed rows are counted once."""
        skipped, first_malformed = self.skipped, self.first_malformed

        def attempt(exact: Collection[str]) -> Iterator[Run]:
            self.skipped, self.first_malformed = skipped, first_malformed
            return self.run_stream(query, retry_window, fields, exact)

        return consume_runs(attempt, consume)

    def pushed_runs(
        self, query: Query, window: timedelta, outcomes: Collection[str], last: int | None, reverse: bool
    ) -> tuple[list[str], Iterator[Run]] | None:
        """Runs paired by the store itself and selected by outcome, run id and time, by start (ties by
        task name; the last `last`, newest first with `reverse`), and the tasks it left for Python to pair;
        None when the store cannot pair."""
        return None

    def task_statistics(self, query: Query) -> tuple[dict[str, dict[str, Any]], list[str]] | None:
        """Runtime statistics computed by the store itself, per task, and the tasks it left for Python to
        pair; None when the store cannot (runs are then paired in Python)."""
        return None

    def summary(self) -> Summary:
        """Count records, time span and tasks (by a full scan unless the store can do better)."""
        summary = Summary()
        for record in self.scan(Query(), fields=()):
            summary.records += 1
            summary.tasks[record.task_name] = summary.tasks.get(record.task_name, 0) + 1
            if summary.first is None or record.created < summary.first:
                summary.first = record.created
            if summary.last is None or record.created > summary.last:
                summary.last = record.created
        summary.tasks = dict(sorted(summary.tasks.items()))
        return summary

    def details(self) -> dict[str, Any]:
        """Store-specific facts for `info` (table, indexes, ...)."""
        return {}

    def watch(
        self, query: Query, fields: Collection[str] | None, notify: Notify, *, overlap: float = 5.0
    ) -> Watch:
        """Follow the store from now on (by reading it again on change, unless the source does better)."""
        return ReloadWatch(self, query, fields, self.signature)

    def signature(self) -> object:
        """Something that changes when the store does (None: unknown, read again at every poll)."""
        return None

    def reload(self) -> None:  # noqa: B027 - most sources read the store at every scan anyway
        """Read the store again before the next scan."""

    def close(self) -> None:  # noqa: B027 - most sources hold nothing open between scans
        """Release connections or files."""


class ReloadWatch:
    """Follows any store by reading it again when it changes and keeping what was not there before
    (O(store) per change: JSON dumps and folders, Red Bird repos)."""

    def __init__(
        self, source: "Source", query: Query, fields: Collection[str] | None, signature: Callable[[], object]
    ) -> None:
        self.source, self.query, self.fields, self.signature = source, query, fields, signature
        self.last_signature = signature()
        self.records = list(source.scan(query, fields))
        self.seen = Counter(map(record_key, self.records))

    def backlog(self, count: int) -> list[Record]:
        return last_n(self.records, count)

    def poll(self) -> list[Record]:
        try:
            signature = self.signature()
            if signature == self.last_signature and signature is not None:
                return []
            self.source.reload()
            current = list(self.source.scan(self.query, self.fields))
        except (OSError, SourceError):
            return []  # being rewritten or replaced right now: the next poll sees it whole
        self.last_signature = signature
        keys = [record_key(record) for record in current]
        unseen = Counter(keys) - self.seen
        fresh = []
        for key, record in zip(reversed(keys), reversed(current), strict=True):
            if unseen[key] > 0:  # a store grows at its end: the last copies of a record are the new ones
                unseen[key] -= 1
                fresh.append(record)
        self.seen = Counter(keys)
        return fresh[::-1]

    def close(self) -> None:
        """Nothing to release: the store is read whole at each change."""


def by_task_name(runs: Iterable[Run]) -> list[Run]:
    """Runs by task name, each task's in the order they came."""
    return sorted(runs, key=attrgetter("task_name"))


def record_key(record: Record) -> tuple[Any, ...]:
    """What tells two records apart when the store gives them no key: every value."""
    return (*record[:4], repr(sorted(record.extra.items())))


def apply_selection(records: Iterable[Record], selection: Selection) -> Iterator[Record]:
    """Apply a Selection in Python: sort, then keep the first or the last N."""
    if selection.sort_created:
        records = sorted(records, key=lambda record: record.created)
    if selection.last is not None:
        return iter(last_n(records, selection.last))
    return first_n(records, selection.head)


class RowReader:
    """Turns a mapping row (JSON object, SQL row, Red Bird item) into a Record."""

    def __init__(
        self,
        kinds: Mapping[str, ColumnKind],
        zone: Zone,
        fields: Collection[str] | None,
        *,
        blank_is_null: bool = False,
    ) -> None:
        self.zone = zone
        self.blank_is_null = blank_is_null
        self.extras = [
            (name, kind)
            for name, kind in kinds.items()
            if name not in CORE_COLUMNS and (fields is None or name in fields)
        ]

    def __call__(self, row: Mapping[str, Any]) -> Record:
        task_name, action, created = row.get("task_name"), row.get("action"), row.get("created")
        if task_name in (None, "") or action in (None, "") or created in (None, ""):
            raise MalformedRowError("empty task_name, action or created")
        run_id = row.get("run_id")
        try:
            return Record(
                created=to_epoch(created, self.zone),
                task_name=str(task_name),
                action=str(action),
                run_id=None if run_id in (None, "") else str(run_id),
                extra={name: self._convert(row.get(name), kind) for name, kind in self.extras},
            )
        except (TypeError, ValueError, OverflowError) as exc:
            raise MalformedRowError(str(exc)) from exc

    def _convert(self, value: Any, kind: ColumnKind) -> Any:
        return None if self.blank_is_null and value == "" else convert(value, kind, self.zone)
