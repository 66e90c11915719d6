"""Tables of task-log records in SQLite, PostgreSQL or MySQL/MariaDB: work pushed into the database."""

from collections.abc import Collection, Iterator, Sequence
from itertools import islice
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import URL, Connection, Engine

from tasklog_cli.errors import SourceError
from tasklog_cli.models import CORE_COLUMNS, ROCKETRY_COLUMN_KINDS, ColumnKind, Record
from tasklog_cli.query import Query, task_matcher
from tasklog_cli.selection import Selection
from tasklog_cli.sources.base import (
    Notify,
    OpenOptions,
    RowReader,
    Source,
    Summary,
    Watch,
)
from tasklog_cli.sources.sql.connect import (
    first_line,
    make_engine,
    pick_table,
    read_only_connection,
    reflect_table,
    sql_label,
)
from tasklog_cli.times import in_zone, utc_from_epoch
from tasklog_cli.values import to_epoch

_SQL_KINDS: tuple[tuple[type[sa.types.TypeEngine[Any]], ColumnKind], ...] = (
    (sa.Interval, ColumnKind.DURATION),
    (sa.DateTime, ColumnKind.TIME),
    (sa.Date, ColumnKind.TIME),
    (sa.Integer, ColumnKind.INT),
    (sa.Float, ColumnKind.FLOAT),
    (sa.Numeric, ColumnKind.FLOAT),
)


def _column_kind(column: sa.Column[Any]) -> ColumnKind:
    if column.name in ROCKETRY_COLUMN_KINDS:
        known = ROCKETRY_COLUMN_KINDS[column.name]
        if known is not ColumnKind.EPOCH or not isinstance(column.type, sa.DateTime):
            return known
    for sql_type, kind in _SQL_KINDS:
        if isinstance(column.type, sql_type):
            return kind
    return ColumnKind.TEXT


class SqlSource(Source):
    """A table of task-log records in SQLite, PostgreSQL or MySQL/MariaDB."""

    def __init__(self, url: URL, options: OpenOptions, engine: Engine | None = None) -> None:
        self.url = url
        self.engine = make_engine(url) if engine is None else engine
        label = sql_label(url)
        try:
            inspector = sa.inspect(self.engine)
            self.table_name = options.table or pick_table(inspector, None, label)
            self.table = reflect_table(inspector, self.table_name, label)
        except sa.exc.SQLAlchemyError as exc:
            self.engine.dispose()
            raise SourceError(f"cannot read {label}: {first_line(exc)}") from exc
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

    def store_order(self) -> list[sa.ColumnElement[Any]]:
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
        order = ([self._created] if selection.sort_created else []) + self.store_order()
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
        from tasklog_cli.sources.sql.watch import SqlWatch

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
        primary: list[sa.Column[Any]] = list(self.table.primary_key.columns)
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
        reader = RowReader(self._kinds, self.options.zone, wanted)
        with self._connect() as connection:
            try:
                result = connection.execution_options(stream_results=True, yield_per=1000).execute(statement)
                records = self.matching(result, lambda row: reader(dict(row._mapping)), query)
                yield from records if limit is None else islice(records, limit)
            except sa.exc.SQLAlchemyError as exc:
                raise SourceError(f"cannot read {self.label}: {first_line(exc)}") from exc

    def history(self, query: Query, fields: Collection[str] | None = None) -> Iterator[Record]:
        tasks_only = Query(tasks=query.tasks)
        clauses, exact = self.where_clauses(tasks_only)
        wanted = set(fields or ()) & set(self.columns)
        order = [self.table.c.task_name, self._created, *self.store_order()]
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
                raise SourceError(f"cannot read {self.label}: {first_line(exc)}") from exc

    def task_statistics(self, query: Query) -> tuple[dict[str, dict[str, Any]], list[str]] | None:
        """On PostgreSQL, pairing and statistics by window functions (numeric `created`, run ids)."""
        if (
            self.engine.dialect.name != "postgresql"
            or "created" not in self._numeric
            or "run_id" not in self.columns
        ):
            return None
        from tasklog_cli.sources.sql.stats import runtime_statistics

        statistics, irregular = runtime_statistics(self, query)
        is_task = task_matcher(query.tasks) if query.tasks else None
        if is_task is None:
            return statistics, irregular
        return {task: stats for task, stats in statistics.items() if is_task(task)}, [
            t for t in irregular if is_task(t)
        ]

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
            for index in sa.inspect(self.engine).get_indexes(self.table_name)
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
