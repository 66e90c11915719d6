"""Following a SQL table for `tail -f`."""

import time
from collections.abc import Callable, Collection, Iterable
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from tasklog_cli.errors import SourceError
from tasklog_cli.models import Record
from tasklog_cli.query import Query
from tasklog_cli.sources.base import (
    Notify,
    Selection,
    record_key,
)
from tasklog_cli.sources.sql.connect import first_line
from tasklog_cli.values import to_epoch

if TYPE_CHECKING:
    from tasklog_cli.sources.sql.table import SqlSource


class SqlWatch:
    """Follows a table by a high-water mark: a monotonic key where there is one, else `created` re-read
    with an overlap and de-duplicated. A lost connection is retried with backoff and loses nothing."""

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
        column = self.key if self.key is not None else source._created
        self.mark: Any = source.scalar(sa.select(sa.func.max(column)).select_from(source.table))
        if self.key is None and self.mark is not None:
            self.mark = to_epoch(self.mark, source.options.zone)
            self._remember(self._since(self.mark - overlap))
        self.down = False
        self.delay = 0.5
        self.retry_at = 0.0

    def _upto(self) -> list[sa.ColumnElement[bool]]:
        if self.mark is None:
            return [sa.false()]
        column = self.key if self.key is not None else self.source._created
        bound = self.mark if self.key is not None else self.source._bound_time(self.mark)
        return [column <= bound]

    def backlog(self, count: int) -> list[Record]:
        return list(self.source.select(self.query, Selection(last=count), self.fields, bounds=self._upto()))

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

    def _poll_keyed(self) -> list[Record]:
        assert self.key is not None
        upper = self.source.scalar(sa.select(sa.func.max(self.key)).select_from(self.source.table))
        if upper is None or (self.mark is not None and upper <= self.mark):
            return []
        bounds = [self.key <= upper] + ([self.key > self.mark] if self.mark is not None else [])
        records = list(self.source.select(self.query, Selection(), self.fields, bounds=bounds))
        self.mark = upper
        return records

    def _poll_by_created(self) -> list[Record]:
        low = None if self.mark is None else self.mark - self.overlap
        fresh = [record for record in self._since(low) if record_key(record) not in self.seen]
        self._remember(fresh)
        if fresh:
            self.mark = max(
                [record.created for record in fresh] + ([self.mark] if self.mark is not None else [])
            )
            cutoff = self.mark - self.overlap
            self.seen = {key: created for key, created in self.seen.items() if created >= cutoff}
        return fresh

    def _since(self, low: float | None) -> list[Record]:
        bounds = [] if low is None else [self.source._created >= self.source._bound_time(low)]
        selection = Selection(sort_created=True)
        return list(self.source.select(self.query, selection, self.fields, bounds=bounds))

    def _remember(self, records: Iterable[Record]) -> None:
        for record in records:
            self.seen[record_key(record)] = record.created
