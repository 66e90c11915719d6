"""Tables of task-log records in SQLite, PostgreSQL or MySQL/MariaDB: work pushed into the database."""

import sqlite3
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from datetime import timedelta
from itertools import chain, islice
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import URL, Connection, Engine

from tasklog_cli.errors import SourceError
from tasklog_cli.models import CORE_COLUMNS, Record
from tasklog_cli.query import Query, task_matcher
from tasklog_cli.runs import Run, stream_runs
from tasklog_cli.selection import Selection
from tasklog_cli.sources.base import MalformedRowError, Notify, OpenOptions, Source, Summary, Watch
from tasklog_cli.sources.sql.connect import (
    first_line,
    make_engine,
    pick_table,
    read_only_connection,
    reflect_table,
    sql_label,
)
from tasklog_cli.sources.sql.paired import RunSelect, can_pair, paired_runs, run_of_row
from tasklog_cli.sources.sql.rows import EPOCH_RANGE, SqlRowReader, core_record, key_columns
from tasklog_cli.sources.sql.shape import TableShape, describe_table
from tasklog_cli.sources.sql.stats import runtime_statistics
from tasklog_cli.sources.sql.watch import SqlWatch
from tasklog_cli.sources.sql.where import text_in, where_clauses
from tasklog_cli.values import to_epoch

READ_ERRORS = (sa.exc.SQLAlchemyError, sqlite3.Error)
MAX_NAMED_TASKS = 1000  # task names one statement may list (PostgreSQL takes at most 65,535 parameters)


class SqlSource(Source):
    """A table of task-log records in SQLite, PostgreSQL or MySQL/MariaDB."""

    def __init__(self, url: URL, options: OpenOptions, engine: Engine | None = None) -> None:
        self.url = url
        self.engine = make_engine(url) if engine is None else engine
        label = sql_label(url)
        try:
            inspector = sa.inspect(self.engine)
            self.table_name = options.table or pick_table(inspector, label)
            self.table = reflect_table(inspector, self.table_name, label)
            self.kind = f"{self.engine.dialect.name} table"
            super().__init__(label, [column.name for column in self.table.columns], options)
            self.shape: TableShape = describe_table(self.engine, self.table)
        except READ_ERRORS as exc:
            self.engine.dispose()
            raise SourceError(f"cannot read {label}: {first_line(exc)}") from exc
        except SourceError:
            self.engine.dispose()
            raise

    @contextmanager
    def reading(self) -> Iterator[Connection]:
        """A read-only connection whose database errors (a broken file, a dropped server) end as one
        `cannot read` SourceError."""
        try:
            with read_only_connection(self.engine) as connection:
                yield connection
        except READ_ERRORS as exc:
            raise SourceError(f"cannot read {self.label}: {first_line(exc)}") from exc

    def where_clauses(self, query: Query) -> tuple[list[sa.ColumnElement[bool]], bool]:
        """SQL conditions every match satisfies, and whether they are exactly the query."""
        return where_clauses(self.shape, query, self.options.zone)

    def bound_time(self, epoch: float) -> Any:
        """An epoch bound in the type of the `created` column."""
        return self.shape.bound_time(epoch, self.options.zone)

    def scan(self, query: Query, fields: Collection[str] | None = None) -> Iterator[Record]:
        return self.select_some(query, Selection(), fields)

    def select_some(
        self,
        query: Query,
        selection: Selection,
        fields: Collection[str] | None = None,
        *,
        bounds: Sequence[sa.ColumnElement[bool]] = (),
    ) -> Iterator[Record]:
        clauses, exact = self.where_clauses(query)
        wanted = self.wanted_fields(fields, query)
        names = [name for name in self.columns if wanted is None or name in wanted or name in CORE_COLUMNS]
        order = ([self.shape.created] if selection.sort_created else []) + list(self.shape.store_order)
        descending = selection.last is not None
        statement = self._select(names).where(*clauses, *bounds)
        statement = statement.order_by(*(column.desc() if descending else column for column in order))
        limit = selection.head if selection.head is not None else selection.last
        if exact and limit is not None:
            skipped_before = self.skipped
            kept = list(self._stream(statement.limit(limit), query, wanted, limit))
            if len(kept) == limit or self.skipped == skipped_before:
                return reversed(kept) if descending else iter(kept)
            self.skipped = skipped_before  # malformed rows took places in the LIMIT: read on without it
        records = self._stream(statement, query, wanted, limit)
        return reversed(list(records)) if descending else records

    def _select(self, names: Sequence[str]) -> sa.Select[Any]:
        """SELECT of the named columns and of the key that names a row in messages."""
        keys = [column for column in key_columns(self.shape) if column.name not in names]
        return sa.select(*(self.table.c[name] for name in names), *keys)

    def watch(
        self, query: Query, fields: Collection[str] | None, notify: Notify, *, overlap: float = 5.0
    ) -> Watch:
        return SqlWatch(self, query, fields, notify, overlap=overlap)

    def scalar(self, statement: sa.Select[Any]) -> Any:
        """One value from the database."""
        with self.reading() as connection:
            return connection.execute(statement).scalar()

    def values(self, statement: sa.Select[Any]) -> list[Any]:
        """The first column of every row a statement returns."""
        with self.reading() as connection:
            return list(connection.execute(statement).scalars())

    def _stream(
        self, statement: sa.Select[Any], query: Query, wanted: set[str] | None, limit: int | None
    ) -> Iterator[Record]:
        reader = SqlRowReader(self.shape, self.options.zone, wanted)
        records = self.matching(self._rows(statement, 1000), lambda row: reader(dict(row._mapping)), query)
        yield from records if limit is None else islice(records, limit)

    def history(self, query: Query, fields: Collection[str] | None = None) -> Iterator[Record]:
        tasks_only = Query(tasks=query.tasks)
        clauses, exact = self.where_clauses(tasks_only)
        wanted = set(self.columns) if fields is None else set(fields) & set(self.columns)
        order = [self.table.c.task_name, self.shape.created, *self.shape.store_order]
        if wanted or not exact or self.shape.created_is_time:
            names = [name for name in self.columns if name in wanted or name in CORE_COLUMNS]
            statement = self._select(names).where(*clauses).order_by(*order)
            return self._stream(statement, tasks_only, wanted, None)
        columns = self.table.c
        run_id = columns.run_id if "run_id" in columns else sa.null()
        statement = sa.select(
            columns.created, columns.task_name, columns.action, run_id, *key_columns(self.shape)
        )
        return self._core_records(statement.where(*clauses).order_by(*order))

    def run_stream(
        self,
        query: Query,
        retry_window: timedelta,
        fields: Collection[str] | None = None,
        exact: Collection[str] = (),
    ) -> Iterator[Run]:
        """Runs paired as the database orders the history: task by task, in created order."""
        return stream_runs(self.history(query, fields), retry_window, horizon=None, exact=exact)

    def _core_records(self, statement: sa.Select[Any]) -> Iterator[Record]:
        """Records of the four core columns straight from the rows: pairing's hot path on a large table
        (rows of the expected types are built inline, the others checked one by one)."""
        first, last = EPOCH_RANGE
        for row in self._rows(statement):
            created, task_name, action, run_id = row[:4]
            if (
                type(created) is float
                and first <= created <= last
                and type(task_name) is str
                and type(action) is str
                and task_name
                and action
                and (run_id is None or type(run_id) is str)
            ):
                yield Record(created, task_name, action, run_id or None)
                continue
            try:
                yield core_record(self.shape, row)
            except MalformedRowError as exc:
                self.malformed(str(exc))

    def pushed_runs(
        self, query: Query, window: timedelta, outcomes: Collection[str], last: int | None, reverse: bool
    ) -> tuple[list[str], Iterator[Run]] | None:
        """Runs paired by window functions; the tasks they cannot pair come first, named."""
        if not can_pair(self.shape):
            return None
        tasks = self.task_clauses(query)
        if tasks is None:
            return None
        select = RunSelect(query, tasks, frozenset(outcomes), last, reverse)
        statement = paired_runs(self.shape, select, window.total_seconds())
        rows = self._rows(statement)
        irregular: list[str] = []
        for row in rows:
            if not row.bad:
                return irregular, map(run_of_row, chain([row], rows))
            if not row.task or not isinstance(row.task, str):  # a row Python skips, or reads as text
                rows.close()  # type: ignore[attr-defined]
                return None
            irregular.append(row.task)
        return irregular, iter(())

    def _rows(self, statement: sa.Select[Any], batch: int = 5000) -> Iterator[Any]:
        """The rows a statement returns, streamed from the database `batch` at a time."""
        with self.reading() as connection:
            yield from connection.execution_options(stream_results=True, yield_per=batch).execute(statement)

    def task_statistics(self, query: Query) -> tuple[dict[str, dict[str, Any]], list[str]] | None:
        """On PostgreSQL, pairing and statistics by window functions (numeric `created`, run ids)."""
        if (
            self.shape.dialect != "postgresql"
            or "created" not in self.shape.numeric
            or "run_id" not in self.columns
        ):
            return None
        tasks = self.task_clauses(query)
        if tasks is None:
            return None
        try:
            return runtime_statistics(self.engine, self.shape, query, tasks)
        except READ_ERRORS as exc:
            raise SourceError(f"cannot read {self.label}: {first_line(exc)}") from exc

    def task_clauses(self, query: Query) -> list[sa.ColumnElement[bool]] | None:
        """SQL conditions that select exactly the query's tasks (none: every task): its globs matched by
        `task_matcher` against the names the table holds; None when more than one statement should name."""
        if not query.tasks:
            return []
        names = list(query.tasks)
        if query.task_globs():
            column = self.table.c.task_name
            exact = self.shape.exact(column) if self.shape.is_text("task_name") else column
            held = [name.decode() if isinstance(name, bytes) else name for name in self.values(
                sa.select(exact).distinct())]  # fmt: skip
            is_task = task_matcher(query.tasks)
            names = sorted(name for name in held if isinstance(name, str) and is_task(name))
        return [text_in(self.shape, "task_name", names)] if len(names) <= MAX_NAMED_TASKS else None

    def summary(self) -> Summary:
        """Counts, time span and tasks from the database; task names grouped byte for byte (a collation
        that ignores case, accents or trailing spaces would merge distinct tasks)."""
        columns, created = self.table.c, self.shape.created
        task = self.shape.exact(columns.task_name) if self.shape.is_text("task_name") else columns.task_name
        timed: sa.ColumnElement[Any] = created
        if self.shape.dialect == "sqlite" and "created" in self.shape.numeric:  # numbers, not stray text
            timed = sa.case((sa.func.typeof(created).in_(("integer", "real")), created))
        with self.reading() as connection:
            total, first, last = connection.execute(
                sa.select(sa.func.count(), sa.func.min(timed), sa.func.max(timed))
            ).one()
            tasks = connection.execute(
                sa.select(sa.func.min(columns.task_name), sa.func.count()).group_by(task)
            ).all()
        zone, (low, high) = self.options.zone, EPOCH_RANGE
        try:
            span = [None if value is None else to_epoch(value, zone) for value in (first, last)]
        except (TypeError, ValueError, OverflowError):
            span = [low - 1]
        if not all(moment is None or low <= moment <= high for moment in span):
            return super().summary()  # a bad value at either end: the span of the rows that read
        counts = {name: int(count) for name, count in tasks if isinstance(name, str)}
        return Summary(records=int(total), first=span[0], last=span[1], tasks=dict(sorted(counts.items())))

    def details(self) -> dict[str, Any]:
        try:
            found = sa.inspect(self.engine).get_indexes(self.table.name, schema=self.table.schema)
        except READ_ERRORS as exc:
            raise SourceError(f"cannot read {self.label}: {first_line(exc)}") from exc
        indexes: list[dict[str, Any]] = [
            {"name": index["name"], "columns": [str(name) for name in index["column_names"]]}
            for index in found
        ]
        primary = [column.name for column in self.table.primary_key.columns]
        if primary:
            indexes.insert(0, {"name": "PRIMARY KEY", "columns": primary})
        leading = [tuple(index["columns"]) for index in indexes]
        suggested = [
            f"CREATE INDEX ix_{self.table.name}_{'_'.join(wanted)} ON {self.table_name} ({', '.join(wanted)})"
            for wanted in (("task_name", "created"), ("created",))
            if not any(columns[: len(wanted)] == wanted for columns in leading)
        ]
        return {"table": self.table_name, "indexes": indexes, "suggested_indexes": suggested}

    def close(self) -> None:
        self.engine.dispose()
