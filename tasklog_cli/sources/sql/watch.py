"""Following a SQL table for `tail -f`: by a key that grows, else by `created` re-read with an overlap."""

import time
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from itertools import pairwise
from typing import Any, Protocol

import sqlalchemy as sa

from tasklog_cli.errors import SourceError
from tasklog_cli.models import Record
from tasklog_cli.query import Query
from tasklog_cli.selection import Selection, last_n
from tasklog_cli.sources.base import Notify, OpenOptions, record_key
from tasklog_cli.sources.sql.connect import first_line
from tasklog_cli.sources.sql.shape import TableShape
from tasklog_cli.values import to_epoch

# A key below the high-water mark that no committed row holds yet (a "hole") is looked for again at each
# poll for this long, then taken for a rolled-back insert; at most MAX_HOLES, the highest, are kept.
LATE_COMMIT_SECONDS = 300.0
MAX_HOLES = 1000
# New keys read per poll (a burst is caught up over a few polls, in bounded memory).
KEY_BATCH = 5000


class TableReader(Protocol):
    """What a watch reads a table through (SqlSource is one)."""

    label: str
    options: OpenOptions
    shape: TableShape

    def select_some(
        self,
        query: Query,
        selection: Selection,
        fields: Collection[str] | None = None,
        *,
        bounds: Sequence[sa.ColumnElement[bool]] = (),
    ) -> Iterator[Record]: ...

    def scalar(self, statement: sa.Select[Any]) -> Any: ...

    def values(self, statement: sa.Select[Any]) -> list[Any]: ...

    def bound_time(self, epoch: float) -> Any: ...


class SqlWatch:
    """Follows a table from now on, by the way its keys grow: SQLite's one writer by a high-water mark,
    PostgreSQL/MySQL's many writers by the mark and the keys still missing below it, a keyless table by
    `created` re-read with an overlap; a lost connection is retried with backoff and loses nothing."""

    def __init__(
        self,
        source: TableReader,
        query: Query,
        fields: Collection[str] | None,
        notify: Notify,
        *,
        overlap: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.source, self.query, self.fields, self.notify = source, query, fields, notify
        self.overlap, self.clock = overlap, clock
        shape = source.shape
        self.key = shape.serial_key
        self.seen: dict[tuple[Any, ...], float] = {}
        self.holes: dict[int, float] = {}  # key -> when to stop looking for it
        self.down = False
        self.delay = 0.5
        self.retry_at = 0.0
        if self.key is not None:
            self.mark: Any = source.scalar(sa.select(sa.func.max(self.key)).select_from(shape.table))
            if self.mark is not None and not shape.one_writer:
                recent = source.values(sa.select(self.key).order_by(self.key.desc()).limit(MAX_HOLES))
                self._add_holes(_gaps(recent[::-1]))
            return
        # Without a key, `created` is compared in SQL only where the database compares it as a number or
        # a time (created stored as TEXT is compared here, reading the table at each poll).
        everything = None if shape.created_in_sql else self._read()
        if shape.created_in_sql:
            latest = source.scalar(sa.select(sa.func.max(shape.created)).select_from(shape.table))
            self.mark = None if latest is None else to_epoch(latest, source.options.zone)
        else:
            self.mark = max((record.created for record in everything or ()), default=None)
        if self.mark is not None:  # what is already there, up to the mark, is not new
            recent = everything if everything is not None else self._read(low=self.mark - overlap)
            self._remember(record for record in recent if record.created <= self.mark)

    def backlog(self, count: int) -> list[Record]:
        if self.mark is None or count == 0:
            return []
        if self.key is not None:
            bounds = [self.key <= self.mark]
            selection = Selection(last=count)
            return list(self.source.select_some(self.query, selection, self.fields, bounds=bounds))
        return self._read(high=self.mark, last=count)

    def poll(self) -> list[Record]:
        if self.clock() < self.retry_at:
            return []
        try:
            records = self._poll_keyed() if self.key is not None else self._poll_by_created()
        except (sa.exc.SQLAlchemyError, SourceError) as exc:
            if not self.down:
                self.notify(f"lost the connection to {self.source.label} ({first_line(exc)}); reconnecting")
            self.down = True
            self.retry_at = self.clock() + self.delay
            self.delay = min(self.delay * 2, 30.0)
            return []
        if self.down:
            self.notify(f"reconnected to {self.source.label}")
            self.down, self.delay = False, 0.5
        return records

    def close(self) -> None:
        """Nothing to release: connections come from the source's pool."""

    def _poll_keyed(self) -> list[Record]:
        return self._poll_one_writer() if self.source.shape.one_writer else self._poll_many_writers()

    def _poll_one_writer(self) -> list[Record]:
        """New rows above the mark; a highest key lower than the mark means the top rows were deleted,
        and the keys above what is left will be handed out again."""
        assert self.key is not None
        upper = self.source.scalar(sa.select(sa.func.max(self.key)).select_from(self.source.shape.table))
        if self.mark is not None and (upper is None or upper < self.mark):
            self.notify(
                f"the highest key of {self.source.label} went down to {upper} (rows deleted): "
                "following from there"
            )
            self.mark = upper
            return []
        if upper is None or upper == self.mark:
            return []
        bounds = [self.key <= upper] + ([self.key > self.mark] if self.mark is not None else [])
        records = list(self.source.select_some(self.query, Selection(), self.fields, bounds=bounds))
        self.mark = upper
        return records

    def _poll_many_writers(self) -> list[Record]:
        """Rows above the mark and rows that filled a hole below it, each read exactly once: the keys that
        were missing when the new keys were listed stay out of this read and are looked for next time."""
        key, source, now = self.key, self.source, self.clock()
        assert key is not None
        self.holes = {hole: until for hole, until in self.holes.items() if until > now}
        above = key > self.mark if self.mark is not None else sa.true()
        listed = sa.or_(above, key.in_(sorted(self.holes))) if self.holes else above
        present = source.values(sa.select(key).where(listed).order_by(key).limit(KEY_BATCH))
        filled = [found for found in present if found in self.holes]
        new = [found for found in present if self.mark is None or found > self.mark]
        if not new and not filled:
            return []
        upper = new[-1] if new else self.mark
        floor = self.mark if self.mark is not None else max(0, new[0] - 1 - MAX_HOLES)
        missing = _gaps([floor, *new]) if new else []
        wanted: list[sa.ColumnElement[bool]] = []
        if new:
            wanted.append(sa.and_(key > floor, key <= upper, key.not_in(missing) if missing else sa.true()))
        if filled:
            wanted.append(key.in_(filled))
        records = list(source.select_some(self.query, Selection(), self.fields, bounds=[sa.or_(*wanted)]))
        for found in filled:
            del self.holes[found]
        self._add_holes(missing)
        self.mark = upper
        return records

    def _add_holes(self, keys: Iterable[int]) -> None:
        until = self.clock() + LATE_COMMIT_SECONDS
        self.holes.update((hole, until) for hole in keys)
        if len(self.holes) > MAX_HOLES:
            self.holes = dict(sorted(self.holes.items())[-MAX_HOLES:])

    def _poll_by_created(self) -> list[Record]:
        low = None if self.mark is None else self.mark - self.overlap
        fresh = [record for record in self._read(low=low) if record_key(record) not in self.seen]
        self._remember(fresh)
        if fresh:
            self.mark = max(
                [record.created for record in fresh] + ([self.mark] if self.mark is not None else [])
            )
            cutoff = self.mark - self.overlap
            self.seen = {key: created for key, created in self.seen.items() if created >= cutoff}
        return fresh

    def _read(
        self, low: float | None = None, high: float | None = None, last: int | None = None
    ) -> list[Record]:
        """Matching records with every column (two rows differ in some column), low <= created <= high,
        in created order."""
        source, created = self.source, self.source.shape.created
        if source.shape.created_in_sql:
            bounds = []
            if low is not None:
                bounds.append(created >= source.bound_time(low))
            if high is not None:
                bounds.append(created <= source.bound_time(high))
            return list(
                source.select_some(self.query, Selection(last=last, sort_created=True), None, bounds=bounds)
            )
        records = [
            record
            for record in source.select_some(self.query, Selection(sort_created=True), None)
            if (low is None or record.created >= low) and (high is None or record.created <= high)
        ]
        return last_n(records, last)

    def _remember(self, records: Iterable[Record]) -> None:
        for record in records:
            self.seen[record_key(record)] = record.created


def _gaps(keys: Sequence[int]) -> list[int]:
    """The integers missing between consecutive sorted keys: the highest MAX_HOLES of them, sorted."""
    found: list[int] = []
    for low, high in reversed(list(pairwise(keys))):
        found.extend(range(high - 1, low, -1)[: MAX_HOLES - len(found)])
        if len(found) >= MAX_HOLES:
            break
    return found[::-1]
