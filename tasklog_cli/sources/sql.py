"""SQL tables through SQLAlchemy: filters, order and limits pushed into the database."""

import sqlite3
import time
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

import sqlalchemy as sa
from sqlalchemy.engine import URL, Connection, Engine

from tasklog_cli.errors import SourceError, TasklogError, UsageError
from tasklog_cli.models import CORE_COLUMNS, ROCKETRY_COLUMN_KINDS, ColumnKind, Record
from tasklog_cli.query import Query, compile_query
from tasklog_cli.sources.base import (
    MalformedRowError,
    Notify,
    OpenOptions,
    RowReader,
    Selection,
    Source,
    Summary,
    Watch,
    record_key,
)
from tasklog_cli.sources.taskflow import SNAPSHOT_FIELDS, TaskflowSource
from tasklog_cli.times import in_zone, utc_from_epoch
from tasklog_cli.values import to_epoch

PREFERRED_TABLES = ("tasks", "logs")
TASKFLOW_TABLE = "task_snapshots"
_TASKFLOW_COLUMNS = frozenset({"task_id", "func_name", "status", "created_at", "start_time", "end_time"})
CONNECT_TIMEOUT_SECONDS = 5
_DRIVERS = {"postgresql": ("psycopg", "postgres"), "mysql": ("pymysql", "mysql")}
_SQL_KINDS: tuple[tuple[type[sa.types.TypeEngine[Any]], ColumnKind], ...] = (
    (sa.Interval, ColumnKind.DURATION),
    (sa.DateTime, ColumnKind.TIME),
    (sa.Date, ColumnKind.TIME),
    (sa.Integer, ColumnKind.INT),
    (sa.Float, ColumnKind.FLOAT),
    (sa.Numeric, ColumnKind.FLOAT),
)


def safe_url(url: URL) -> str:
    """The URL as it may be printed: password hidden."""
    return url.render_as_string(hide_password=True)


def _column_kind(column: sa.Column[Any]) -> ColumnKind:
    if column.name in ROCKETRY_COLUMN_KINDS:
        known = ROCKETRY_COLUMN_KINDS[column.name]
        if known is not ColumnKind.EPOCH or not isinstance(column.type, sa.DateTime):
            return known
    for sql_type, kind in _SQL_KINDS:
        if isinstance(column.type, sql_type):
            return kind
    return ColumnKind.TEXT


def make_engine(url: URL) -> Engine:
    """An engine that only reads: SQLite opened with mode=ro, servers with a short connect timeout."""
    backend = url.get_backend_name()
    if backend == "sqlite":
        path = Path(url.database or "")
        if not url.database or not path.is_file():
            raise SourceError(f"no SQLite database at {url.database or '(none)'}")
        uri = f"file:{quote(str(path.resolve()))}?mode=ro"
        return sa.create_engine("sqlite://", creator=lambda: sqlite3.connect(uri, uri=True))
    if backend in _DRIVERS and "+" not in url.drivername:  # bare postgresql://, mysql://: our driver
        url = url.set(drivername=f"{backend}+{_DRIVERS[backend][0]}")
    try:
        return sa.create_engine(
            url, connect_args={"connect_timeout": CONNECT_TIMEOUT_SECONDS}, pool_pre_ping=True
        )
    except ModuleNotFoundError as exc:
        extra = _DRIVERS.get(backend, ("", backend))[1]
        raise SourceError(
            f"no driver for {backend} ({exc.name} is not installed): pip install 'tasklog[{extra}]'"
        ) from exc
    except sa.exc.ArgumentError as exc:
        raise SourceError(f"cannot use URL {safe_url(url)}: {exc}") from exc


def _pick_table(inspector: sa.Inspector, wanted: str | None, label: str) -> str:
    """The table to read: --table, else `tasks`, `logs`, fastapi-taskflow's snapshots, the only log table."""
    tables = inspector.get_table_names()
    if wanted is not None:
        if wanted not in tables:
            raise SourceError(f"no table {wanted!r} in {label} (tables: {', '.join(tables) or 'none'})")
        return wanted
    candidates = [
        name
        for name in tables
        if {"task_name", "action", "created"} <= {c["name"] for c in inspector.get_columns(name)}
    ]
    for name in PREFERRED_TABLES:
        if name in candidates:
            return name
    if TASKFLOW_TABLE in tables and is_taskflow_table(inspector, TASKFLOW_TABLE):
        return TASKFLOW_TABLE
    if len(candidates) == 1:
        return candidates[0]
    if candidates:
        raise UsageError(
            f"{label} has several task-log tables ({', '.join(candidates)}): pick one with --table"
        )
    raise SourceError(
        f"{label} is not a task log: no table with task_name, action and created, "
        f"nor fastapi-taskflow's {TASKFLOW_TABLE} (tables: {', '.join(tables) or 'none'})"
    )


def is_taskflow_table(inspector: sa.Inspector, name: str) -> bool:
    """Whether a table holds fastapi-taskflow's task snapshots (by its columns)."""
    return {column["name"] for column in inspector.get_columns(name)} >= _TASKFLOW_COLUMNS


def read_only_connection(engine: Engine) -> Connection:
    """A connection that only reads (PostgreSQL is told so; SQLite is opened read-only by make_engine)."""
    connection = engine.connect()
    if engine.dialect.name == "postgresql":
        connection = connection.execution_options(postgresql_readonly=True)
    return connection


def sql_label(url: URL) -> str:
    """How a database is named in messages: a SQLite file by its path, servers by URL (no password)."""
    return safe_url(url) if url.get_backend_name() != "sqlite" else str(url.database)


class SqlSource(Source):
    """A table of task-log records in SQLite, PostgreSQL or MySQL/MariaDB."""

    def __init__(self, url: URL, options: OpenOptions, engine: Engine | None = None) -> None:
        self.url = url
        self.engine = make_engine(url) if engine is None else engine
        label = sql_label(url)
        try:
            inspector = sa.inspect(self.engine)
            self.table_name = _pick_table(inspector, options.table, label)
            self.table = sa.Table(self.table_name, sa.MetaData(), autoload_with=self.engine)
            self._indexes = inspector.get_indexes(self.table_name)
        except sa.exc.SQLAlchemyError as exc:
            self.engine.dispose()
            raise SourceError(f"cannot read {label}: {_first_line(exc)}") from exc
        self.kind = f"{self.engine.dialect.name} table"
        super().__init__(label, [column.name for column in self.table.columns], options)
        self._kinds = {column.name: _column_kind(column) for column in self.table.columns}
        # Only columns the database itself compares as numbers take numeric conditions in SQL.
        self._numeric = {
            column.name
            for column in self.table.columns
            if isinstance(column.type, sa.Integer | sa.Float | sa.Numeric)
        }
        self._created = self.table.c.created

    def _connect(self) -> Connection:
        return read_only_connection(self.engine)

    def _store_order(self) -> list[sa.ColumnElement[Any]]:
        """Primary key order, else SQLite's rowid, else created."""
        primary: list[sa.ColumnElement[Any]] = list(self.table.primary_key.columns)
        if primary:
            return primary
        if self.engine.dialect.name == "sqlite":
            return [sa.literal_column("rowid")]
        return [self._created]

    def _bound_time(self, epoch: float) -> Any:
        """An epoch bound in the type of the `created` column."""
        if self._kinds["created"] is not ColumnKind.TIME:
            return epoch
        moment = in_zone(utc_from_epoch(epoch), self.options.zone)
        timezone_aware = getattr(self._created.type, "timezone", False)
        return moment if timezone_aware else moment.replace(tzinfo=None)

    def where_clauses(self, query: Query) -> tuple[list[sa.ColumnElement[bool]], bool]:
        """SQL conditions every match satisfies, and whether they are exactly the query."""
        columns = self.table.c
        clauses: list[sa.ColumnElement[bool]] = []
        exact_text = self.engine.dialect.name != "mysql"  # MySQL's collations ignore case
        exact = exact_text
        if query.tasks:
            globs = query.task_globs()
            names = [task for task in query.tasks if task not in globs]
            if not globs:
                clauses.append(columns.task_name.in_(names))
            else:
                exact = False
        if query.actions:
            clauses.append(columns.action.in_([str(action) for action in query.actions]))
        if query.run_ids:
            clauses.append(columns.run_id.in_(query.run_ids) if "run_id" in columns else sa.false())
        window_in_sql = "created" in self._numeric or self._kinds["created"] is ColumnKind.TIME
        if query.since is not None and window_in_sql:
            clauses.append(self._created >= self._bound_time(query.since))
        if query.until is not None and window_in_sql:
            clauses.append(self._created < self._bound_time(query.until))
        if (query.since is not None or query.until is not None) and not window_in_sql:
            exact = False
        for condition in query.where:
            kind = self._kinds.get(condition.field)
            column = columns.get(condition.field)
            if column is None or condition.op == "~" or kind is None:
                exact = False
            elif condition.field in self._numeric and condition.number is not None:
                clauses.append(_compare(column, condition.op, condition.number))
            elif (
                kind is ColumnKind.TEXT
                and condition.number is None
                and condition.op in ("=", "!=")
                and condition.value
            ):
                clauses.append(_compare(column, condition.op, condition.value))
            else:
                exact = False
        if query.grep is not None or query.level is not None:
            exact = False
        return clauses, exact

    def scan(self, query: Query, fields: Collection[str] | None = None) -> Iterator[Record]:
        return self.select(query, Selection(), fields)

    def select(
        self,
        query: Query,
        selection: Selection,
        fields: Collection[str] | None = None,
        *,
        bounds: Sequence[sa.ColumnElement[bool]] = (),
    ) -> Iterator[Record]:
        clauses, exact = self.where_clauses(query)
        wanted = None if fields is None else set(fields) | query.fields()
        names = [name for name in self.columns if wanted is None or name in wanted or name in CORE_COLUMNS]
        order = ([self._created] if selection.sort_created else []) + self._store_order()
        descending = selection.last is not None
        statement = sa.select(*(self.table.c[name] for name in names)).where(*clauses, *bounds)
        statement = statement.order_by(*(column.desc() if descending else column for column in order))
        limit = selection.head if selection.head is not None else selection.last
        if exact and limit is not None:
            statement = statement.limit(limit)
        records = self._stream(statement, query, wanted, limit)
        return reversed(list(records)) if descending else records

    def watch(
        self, query: Query, fields: Collection[str] | None, notify: Notify, *, overlap: float = 5.0
    ) -> Watch:
        return SqlWatch(self, query, fields, notify, overlap=overlap)

    def monotonic_key(self) -> sa.ColumnElement[Any] | None:
        """A key that grows with every insert: SQLite's rowid, or an autoincrement integer primary key."""
        if self.engine.dialect.name == "sqlite":
            with self._connect() as connection:
                ddl = connection.execute(
                    sa.text("SELECT sql FROM sqlite_master WHERE name = :name"), {"name": self.table_name}
                ).scalar()
            if "WITHOUT ROWID" not in str(ddl).upper():
                return sa.literal_column("rowid")
        primary = list(self.table.primary_key.columns)
        if len(primary) == 1 and isinstance(primary[0].type, sa.Integer) and primary[0].autoincrement is True:
            return primary[0]
        return None

    def scalar(self, statement: sa.Select[Any]) -> Any:
        """One value from the database."""
        with self._connect() as connection:
            return connection.execute(statement).scalar()

    def _stream(
        self, statement: sa.Select[Any], query: Query, wanted: set[str] | None, limit: int | None
    ) -> Iterator[Record]:
        predicate = compile_query(query)
        to_record = RowReader(self._kinds, self.options.zone, wanted)
        if limit == 0:
            return
        count = 0
        with self._connect() as connection:
            try:
                result = connection.execution_options(stream_results=True, yield_per=1000).execute(statement)
                for row in result:
                    try:
                        record = to_record(dict(row._mapping))
                    except MalformedRowError as exc:
                        self.malformed(str(exc))
                        continue
                    if predicate(record):
                        yield record
                        count += 1
                        if limit is not None and count >= limit:
                            return
            except sa.exc.SQLAlchemyError as exc:
                raise SourceError(f"cannot read {self.label}: {_first_line(exc)}") from exc

    def history(self, query: Query, fields: Collection[str] | None = None) -> Iterator[Record]:
        tasks_only = Query(tasks=query.tasks)
        clauses, exact = self.where_clauses(tasks_only)
        wanted = set(fields or ()) & set(self.columns)
        order = [self.table.c.task_name, self._created, *self._store_order()]
        if wanted or not exact or self._kinds["created"] is ColumnKind.TIME:
            names = [name for name in self.columns if name in wanted or name in CORE_COLUMNS]
            statement = sa.select(*(self.table.c[name] for name in names)).where(*clauses).order_by(*order)
            return self._stream(statement, tasks_only, wanted, None)
        columns = self.table.c
        run_id = columns.run_id if "run_id" in columns else sa.null()
        statement = sa.select(columns.created, columns.task_name, columns.action, run_id)
        return self._core_records(statement.where(*clauses).order_by(*order))

    def _core_records(self, statement: sa.Select[Any]) -> Iterator[Record]:
        """Records of the four core columns straight from the rows: pairing's hot path on a large table."""
        with self._connect() as connection:
            try:
                result = connection.execution_options(stream_results=True, yield_per=5000).execute(statement)
                for created, task_name, action, run_id in result:
                    if created is None or not task_name or not action:
                        self.malformed("empty task_name, action or created")
                        continue
                    yield Record(float(created), task_name, action, None if run_id is None else str(run_id))
            except sa.exc.SQLAlchemyError as exc:
                raise SourceError(f"cannot read {self.label}: {_first_line(exc)}") from exc

    def summary(self) -> Summary:
        columns = self.table.c
        with self._connect() as connection:
            total, first, last = connection.execute(
                sa.select(sa.func.count(), sa.func.min(self._created), sa.func.max(self._created))
            ).one()
            tasks = connection.execute(
                sa.select(columns.task_name, sa.func.count())
                .group_by(columns.task_name)
                .order_by(columns.task_name)
            ).all()
        zone = self.options.zone
        return Summary(
            records=int(total),
            first=None if first is None else to_epoch(first, zone),
            last=None if last is None else to_epoch(last, zone),
            tasks={str(name): int(count) for name, count in tasks},
        )

    def details(self) -> dict[str, Any]:
        indexes: list[dict[str, Any]] = [
            {"name": index["name"], "columns": [str(name) for name in index["column_names"]]}
            for index in self._indexes
        ]
        primary = [column.name for column in self.table.primary_key.columns]
        if primary:
            indexes.insert(0, {"name": "PRIMARY KEY", "columns": primary})
        leading = [tuple(index["columns"]) for index in indexes]
        suggested = [
            f"CREATE INDEX ix_{self.table_name}_{'_'.join(wanted)} ON {self.table_name} ({', '.join(wanted)})"
            for wanted in (("task_name", "created"), ("created",))
            if not any(columns[: len(wanted)] == wanted for columns in leading)
        ]
        return {"table": self.table_name, "indexes": indexes, "suggested_indexes": suggested}

    def close(self) -> None:
        self.engine.dispose()


def _compare(column: sa.ColumnElement[Any], op: str, value: Any) -> sa.ColumnElement[bool]:
    if op == "!=":
        return sa.or_(column != value, column.is_(None))
    operations: dict[str, sa.ColumnElement[bool]] = {
        "=": column == value,
        "<": column < value,
        "<=": column <= value,
        ">": column > value,
        ">=": column >= value,
    }
    return operations[op]


def _first_line(exc: BaseException) -> str:
    """A driver error's first line (never the URL, so never a password)."""
    original = getattr(exc, "orig", None) or exc
    return str(original).strip().splitlines()[0] if str(original).strip() else type(original).__name__


def open_sql(url_text: str, options: OpenOptions) -> Source:
    """Open a SQL source from a SQLAlchemy URL (a table may follow as `?table=` or `#table`):
    a table of records, or fastapi-taskflow's task snapshots."""
    url_text, _, fragment = url_text.partition("#")
    try:
        url = sa.engine.make_url(url_text)
    except sa.exc.ArgumentError as exc:
        raise UsageError(f"bad database URL: {exc}") from exc
    table = url.query.get("table")
    if table is not None:
        url = url.difference_update_query(["table"])
    wanted = options.table or (table if isinstance(table, str) else None) or fragment or None
    engine = make_engine(url)
    try:
        inspector = sa.inspect(engine)
        chosen = _pick_table(inspector, wanted, sql_label(url))
        opened = OpenOptions(zone=options.zone, strict=options.strict, table=chosen)
        if chosen == TASKFLOW_TABLE and is_taskflow_table(inspector, chosen):
            return TaskflowSource(SqlSnapshots(engine, sql_label(url)), opened)
        return SqlSource(url, opened, engine)
    except sa.exc.SQLAlchemyError as exc:
        engine.dispose()
        raise SourceError(f"cannot read {sql_label(url)}: {_first_line(exc)}") from exc
    except TasklogError:
        engine.dispose()
        raise


class SqlSnapshots:
    """fastapi-taskflow's `task_snapshots` table (SQLite, PostgreSQL, MySQL), read through SQLAlchemy Core."""

    def __init__(self, engine: Engine, label: str) -> None:
        self.engine, self.label = engine, label
        self.kind = f"fastapi-taskflow ({engine.dialect.name})"
        self.table = sa.Table(TASKFLOW_TABLE, sa.MetaData(), autoload_with=engine)
        self.fields = tuple(name for name in SNAPSHOT_FIELDS if name in self.table.c)

    def rows(self) -> Iterator[Mapping[str, Any]]:
        statement = sa.select(*(self.table.c[name] for name in self.fields))
        try:
            with read_only_connection(self.engine) as connection:
                result = connection.execution_options(stream_results=True, yield_per=1000).execute(statement)
                yield from (dict(row._mapping) for row in result)
        except sa.exc.SQLAlchemyError as exc:
            raise SourceError(f"cannot read {self.label}: {_first_line(exc)}") from exc

    def signature(self) -> object:
        columns = self.table.c
        statement = sa.select(sa.func.count(), sa.func.max(columns.created_at), sa.func.max(columns.end_time))
        try:
            with read_only_connection(self.engine) as connection:
                return tuple(connection.execute(statement).one())
        except sa.exc.SQLAlchemyError as exc:
            raise SourceError(f"cannot read {self.label}: {_first_line(exc)}") from exc

    def details(self) -> dict[str, Any]:
        return {"table": TASKFLOW_TABLE}

    def close(self) -> None:
        self.engine.dispose()


def sqlite_url(path: Path) -> str:
    """The SQLAlchemy URL of a SQLite file path."""
    return str(URL.create("sqlite", database=str(path)))


class SqlWatch:
    """Follows a table by a high-water mark: a monotonic key where there is one, else `created` re-read
    with an overlap and de-duplicated. A lost connection is retried with backoff and loses nothing."""

    def __init__(
        self,
        source: SqlSource,
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
                self.notify(f"lost the connection to {self.source.label} ({_first_line(exc)}); reconnecting")
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
