"""Following a SQL table for `tail -f`."""

import time
from collections.abc import Callable, Collection, Iterable
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from tasklog_cli.errors import SourceError
from tasklog_cli.models import ColumnKind, Record
from tasklog_cli.query import Query
from tasklog_cli.selection import Selection, last_n
from tasklog_cli.sources.base import (
    Notify,
    record_key,
)
from tasklog_cli.sources.sql.connect import first_line
from tasklog_cli.values import to_epoch

if TYPE_CHECKING:
    from tasklog_cli.sources.sql.table import SqlSource


class SqlWatch:
    """Follows a table by a high-water mark: a monotonic key where there is one, else `created` re-read
    with an overlap and de-duplicated on every column. A lost connection is retried with backoff and
    loses nothing."""

    def __init__(
        self,
        source: "SqlSource",
        query: Query,
        fields: Collection[str] | None,
        notify: Notify,
        *,
        overlap: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.source, self.query, self.fields, self.notify = source, query, fields, notify
        self.overlap, self.clock = overlap, clock
        self.key = source.monotonic_key()
        self.seen: dict[tuple[Any, ...], float] = {}
        # Without a key, `created` is compared in SQL only where the database compares it as a number or
        # a time (created stored as TEXT is compared here, reading the table at each poll).
        self.created_in_sql = "created" in source._numeric or source._kinds["created"] is ColumnKind.TIME
        self.down = False
        self.delay = 0.5
        self.retry_at = 0.0
        if self.key is not None:
            self.mark: Any = source.scalar(sa.select(sa.func.max(self.key)).select_from(source.table))
            return
        everything = None if self.created_in_sql else self._read()
        if self.created_in_sql:
            latest = source.scalar(sa.select(sa.func.max(source._created)).select_from(source.table))
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
        assert self.key is not None
        upper = self.source.scalar(sa.select(sa.func.max(self.key)).select_from(self.source.table))
        if upper is None or (self.mark is not None and upper <= self.mark):
            return []
        bounds = [self.key <= upper] + ([self.key > self.mark] if self.mark is not None else [])
        records = list(self.source.select_some(self.query, Selection(), self.fields, bounds=bounds))
        self.mark = upper
        return records

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
        source, bounds = self.source, []
        if self.created_in_sql:
            if low is not None:
                bounds.append(source._created >= source._bound_time(low))
            if high is not None:
                bounds.append(source._created <= source._bound_time(high))
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
