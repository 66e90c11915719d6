"""One contract suite for every source kind, run on one real Rocketry log stored seven ways.

The master is tests/data/rocketry/task_run.csv (written by Rocketry through Red Bird's CSVFileRepo). From it the
module builds, in a temporary folder: a SQLite table (stdlib sqlite3), a MemoryRepo dump as a JSON array, as
JSON lines and in pydantic's `.json()` style, a JSONDirectoryRepo folder written by Red Bird itself, and a
Red Bird MemoryRepo read through RedbirdSource. Every source must return
`[r for r in all_records if matches(r, query)]` for every query, and the three compilations of a Query
(Python predicate, SQL WHERE, Red Bird filter_by) must agree.

Nothing here hard-codes what the log holds: names, run ids, times and counts are read from it at test time.

The last section is the contract every source kind keeps, fastapi-taskflow stores and PostgreSQL/MariaDB
tables included: select with head/last/0, runs, the run history's order, and follow (backlog and a poll after
the store's own writer appends).
"""

import csv
import gc
import importlib
import json
import os
import shutil
import sqlite3
import sys
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import pydantic.v1 as pydantic_v1
import pytest
import sqlalchemy as sa
from conftest import ROCKETRY
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tasklog_cli.models import CORE_COLUMNS, Action, Record
from tasklog_cli.query import Query, build_query, matches
from tasklog_cli.sources import OpenOptions, Selection, Source, open_source
from tasklog_cli.sources.redbird import RedbirdSource, filter_by_arguments, load_redbird
from tasklog_cli.sources.sql import SqlSource
from tasklog_cli.times import iso_utc

MASTER = ROCKETRY / "task_run.csv"
NOW = datetime(2030, 1, 1, tzinfo=UTC)
ABSENT_TASK = "no such task"
ABSENT_RUN_ID = "no-such-run-id"

Key = tuple[str, str, float, str | None]

KINDS = ("csv", "sqlite", "json", "jsonl", "json-pydantic", "jsondir", "redbird-memory")
# File order, or a primary key in file order.
STORE_ORDERED_KINDS = frozenset({"csv", "sqlite", "json", "jsonl", "json-pydantic"})
SOURCE_KIND_NAMES = {
    "csv": "CSV file",
    "sqlite": "sqlite table",
    "json": "JSON dump",
    "jsonl": "JSON dump",
    "json-pydantic": "JSON dump",
    "jsondir": "JSON directory",
    "redbird-memory": "Red Bird repo",
}

# Fixtures here are read-only, so Hypothesis may reuse them across examples (the conftest's autouse
# environment fixture is function-scoped, which would otherwise fail this health check).
contract_settings = settings(suppress_health_check=[HealthCheck.function_scoped_fixture])


class TaskRunRecord(pydantic_v1.BaseModel):
    """Rocketry's TaskRunRecord (rocketry/log/log_record.py) as Red Bird validates it."""

    task_name: str
    action: Literal["run", "success", "fail", "terminate", "inaction", "crash"]
    created: float
    start: datetime | None = None
    end: datetime | None = None
    runtime: timedelta | None = None
    message: str | None = None
    exc_text: str | None = None
    run_id: str | None = None


class IdentifiedTaskRunRecord(TaskRunRecord):
    """A TaskRunRecord with the `id` a JSONDirectoryRepo names its files by."""

    id: str


def jsondir_repo(path: Path, items: list[dict[str, Any]]) -> Any:
    """A JSONDirectoryRepo folder made by Red Bird holding the items (ids in their order), and its repo."""
    path.mkdir()
    repo = load_redbird().repos.JSONDirectoryRepo(
        path=path,
        id_field="id",
        model=IdentifiedTaskRunRecord,
        kwds_json_dump={"default": str},  # the model holds datetimes: the same `default=str` as a dump
    )
    for index, item in enumerate(items, start=1):
        repo.add(IdentifiedTaskRunRecord(id=f"{index:06d}", **item))
    return repo


@dataclass
class Stores:
    """The master log in every store kind, and what the master holds, read with the csv module."""

    paths: dict[str, Path]
    memory_repo: Any
    master_rows: list[dict[str, str]]

    def open(self, kind: str) -> Source:
        if kind == "redbird-memory":
            return RedbirdSource(self.memory_repo, "MemoryRepo", OpenOptions())
        return open_source(str(self.paths[kind]), OpenOptions())


def write_sqlite(
    path: Path, header: list[str], rows: list[dict[str, str]], *, all_text: bool = False
) -> None:
    """A `tasks` table: id key, `created` REAL (TEXT too when `all_text`), the rest text as written; '' is NULL."""
    created_type = "TEXT" if all_text else "REAL"
    columns = ", ".join(f'"{name}" {created_type if name == "created" else "TEXT"}' for name in header)
    names = ", ".join(f'"{name}"' for name in header)
    marks = ", ".join("?" for _ in header)

    def stored(name: str, text: str) -> str | float | None:
        return float(text) if name == "created" and not all_text else text or None

    with sqlite3.connect(path) as connection:
        connection.execute(f"CREATE TABLE tasks (id INTEGER PRIMARY KEY, {columns})")
        connection.executemany(
            f"INSERT INTO tasks (id, {names}) VALUES (?, {marks})",
            [
                (index, *(stored(name, row[name]) for name in header))
                for index, row in enumerate(rows, start=1)
            ],
        )
    connection.close()


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory) -> Stores:
    """The master log copied, then written as SQLite, JSON dumps, a JSON folder and a MemoryRepo."""
    redbird = load_redbird()
    folder = tmp_path_factory.mktemp("contract")
    paths = {"csv": folder / "task_run.csv", "sqlite": folder / "task_run.db"}
    shutil.copyfile(MASTER, paths["csv"])
    with paths["csv"].open(newline="", encoding="utf-8") as file:
        reader = csv.DictReader(file)
        header, master_rows = list(reader.fieldnames or ()), list(reader)
    write_sqlite(paths["sqlite"], header, master_rows)

    # Red Bird reads the CSV into Rocketry's model, exactly as Rocketry's own repos would.
    csv_repo = redbird.repos.CSVFileRepo(filename=paths["csv"], fieldnames=header, model=TaskRunRecord)
    memory_repo = redbird.repos.MemoryRepo(collection=csv_repo.filter_by().all(), model=TaskRunRecord)

    # DESIGN §1: a MemoryRepo dump is json.dumps([r.dict() ...], default=str); JSON lines too.
    dumped = [item.dict() for item in memory_repo.filter_by().all()]
    paths["json"] = folder / "memory.json"
    paths["json"].write_text(json.dumps(dumped, default=str), encoding="utf-8")
    paths["jsonl"] = folder / "memory.jsonl"
    paths["jsonl"].write_text("".join(json.dumps(item, default=str) + "\n" for item in dumped), "utf-8")
    # DESIGN §1: pydantic's `.json()` style (ISO times with a T, timedelta as float seconds) reads as well.
    paths["json-pydantic"] = folder / "pydantic.json"
    items_json = ", ".join(item.json() for item in memory_repo.filter_by().all())
    paths["json-pydantic"].write_text(f"[{items_json}]", encoding="utf-8")

    paths["jsondir"] = folder / "jsondir"
    jsondir_repo(paths["jsondir"], dumped)
    return Stores(paths, memory_repo, master_rows)


@pytest.fixture(params=KINDS)
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def source(stores: Stores, kind: str) -> Iterator[Source]:
    opened = stores.open(kind)
    try:
        yield opened
    finally:
        opened.close()


def key(record: Record) -> Key:
    """What records are compared by: created rounded to the microsecond."""
    return (record.task_name, record.action, round(record.created, 6), record.run_id)


def keys(records: Iterable[Record]) -> list[Key]:
    return [key(record) for record in records]


def master_keys(stores: Stores) -> list[Key]:
    """The master's records in file order, read with the csv module alone."""
    return [
        (row["task_name"], row["action"], round(float(row["created"]), 6), row["run_id"] or None)
        for row in stores.master_rows
    ]


@dataclass(frozen=True)
class Facts:
    """What the master log holds, for building queries that select something."""

    tasks: list[str]
    busiest_task: str
    run_ids: list[str]
    created: list[float]
    starts: list[str]
    messages: list[str]

    @classmethod
    def of(cls, stores: Stores) -> "Facts":
        rows = stores.master_rows
        per_task = Counter(row["task_name"] for row in rows)
        return cls(
            tasks=sorted(per_task),
            busiest_task=per_task.most_common(1)[0][0],
            run_ids=sorted({row["run_id"] for row in rows if row["run_id"]}),
            created=sorted(float(row["created"]) for row in rows),
            starts=sorted(row["start"] for row in rows if row["start"]),
            messages=sorted({row["message"] for row in rows if row["message"]}),
        )

    def at(self, fraction: float) -> float:
        """The created time of the record at this rank fraction of the log."""
        return self.created[int(fraction * (len(self.created) - 1))]

    @property
    def quoted_task(self) -> str:
        """A task whose name needs CSV quoting, when the log has one."""
        return next((name for name in self.tasks if '"' in name or "," in name), self.tasks[0])

    @property
    def failure_message(self) -> str:
        return next((message for message in self.messages if "'fail'" in message), self.messages[0])

    @property
    def increment_run_id(self) -> str:
        """A run id of a multilaunch task with incrementing ids (`1`, `2`, ...), when the log has one."""
        return next((run_id for run_id in self.run_ids if run_id.isdigit()), self.run_ids[0])

    @property
    def uuid_run_id(self) -> str:
        return next((run_id for run_id in self.run_ids if len(run_id) == 32), self.run_ids[-1])


@dataclass(frozen=True)
class QueryCase:
    """A named query, built as the CLI builds one (build_query) from what the log holds."""

    name: str
    options: Callable[[Facts], dict[str, Any]]

    def query(self, facts: Facts) -> Query:
        return build_query(now=NOW, zone=UTC, **self.options(facts))


QUERY_CASES = (
    QueryCase("plain", lambda f: {}),
    QueryCase("task exact", lambda f: {"tasks": [f.busiest_task]}),
    QueryCase("task needing CSV quotes", lambda f: {"tasks": [f.quoted_task]}),
    QueryCase("task glob *retry*", lambda f: {"tasks": ["*retry*"]}),
    QueryCase("task glob with class", lambda f: {"tasks": ["[ft]*_*"]}),
    QueryCase("several tasks", lambda f: {"tasks": [f.tasks[0], f.tasks[-1], ABSENT_TASK]}),
    QueryCase("tasks exact and glob", lambda f: {"tasks": [f.quoted_task, "timeout_*"]}),
    QueryCase("absent task", lambda f: {"tasks": [ABSENT_TASK]}),
    QueryCase("action", lambda f: {"actions": [Action.FAIL]}),
    QueryCase("several actions", lambda f: {"actions": [Action.TERMINATE, Action.CRASH, Action.INACTION]}),
    QueryCase("run id uuid", lambda f: {"run_ids": [f.uuid_run_id]}),
    QueryCase("run ids increment and absent", lambda f: {"run_ids": [f.increment_run_id, ABSENT_RUN_ID]}),
    QueryCase("since epoch", lambda f: {"since": f"@{f.at(0.5)!r}"}),
    QueryCase("until epoch", lambda f: {"until": f"@{f.at(0.5)!r}"}),
    QueryCase(
        "window on records' own times", lambda f: {"since": f"@{f.at(0.2)!r}", "until": f"@{f.at(0.6)!r}"}
    ),
    QueryCase("window in ISO", lambda f: {"since": iso_utc(f.at(0.3)), "until": iso_utc(f.at(0.9))}),
    QueryCase("where created numeric", lambda f: {"where": [f"created >= {f.at(0.7)!r}"]}),
    QueryCase("where created equal", lambda f: {"where": [f"created = {f.at(0.4)!r}"]}),
    QueryCase("where created before ISO", lambda f: {"where": [f"created < {iso_utc(f.at(0.4))}"]}),
    QueryCase("where message equal", lambda f: {"where": [f"message = {f.failure_message}"]}),
    QueryCase("where message not equal", lambda f: {"where": [f"message != {f.failure_message}"]}),
    QueryCase("where message glob", lambda f: {"where": ["message ~ *terminate*"]}),
    QueryCase("where exc_text empty", lambda f: {"where": ["exc_text = "]}),
    QueryCase("where exc_text present", lambda f: {"where": ["exc_text != "]}),
    QueryCase("where run_id number", lambda f: {"where": [f"run_id = {f.increment_run_id}"]}),
    QueryCase("where runtime seconds", lambda f: {"where": ["runtime > 0"]}),
    QueryCase(
        "where start before a naive time", lambda f: {"where": [f"start < {f.starts[len(f.starts) // 2]}"]}
    ),
    QueryCase("grep message", lambda f: {"grep": "status: 'fail'"}),
    QueryCase("grep traceback", lambda f: {"grep": "Traceback"}),
    QueryCase("grep case-sensitive", lambda f: {"grep": "TRACEBACK|timeouted"}),
    QueryCase("grep ignore case", lambda f: {"grep": "TRACEBACK|timeouted", "ignore_case": True}),
    QueryCase(
        "glob, action and since",
        lambda f: {"tasks": ["*_*"], "actions": [Action.RUN, Action.FAIL], "since": f"@{f.at(0.25)!r}"},
    ),
    QueryCase(
        "grep, where and action",
        lambda f: {
            "grep": "error",
            "ignore_case": True,
            "where": ["created < 1e12"],
            "actions": [Action.FAIL],
        },
    ),
    QueryCase(
        "task, run id and window",
        lambda f: {"tasks": [f.busiest_task], "run_ids": f.run_ids, "until": f"@{f.at(0.8)!r}"},
    ),
)


def test_every_kind_opens_as_its_own_source(stores: Stores, source: Source, kind: str) -> None:
    """Each store is read by the source meant for it, with the master's columns after the core four."""
    assert source.kind == SOURCE_KIND_NAMES[kind]
    assert source.record_columns[: len(CORE_COLUMNS)] == CORE_COLUMNS
    assert set(stores.master_rows[0]) <= set(source.record_columns)


def test_full_scan_is_the_master_log(stores: Stores, source: Source, kind: str) -> None:
    """Every store holds the master's records; store-ordered kinds return them in file order."""
    scanned = keys(source.scan(Query()))
    assert Counter(scanned) == Counter(master_keys(stores))
    if kind in STORE_ORDERED_KINDS:
        assert scanned == master_keys(stores)
    elif kind == "jsondir":
        created = [record_key[2] for record_key in scanned]
        assert created == sorted(created), "a JSONDirectoryRepo folder reads in created order"
    assert source.skipped == 0


def _comparable(record: Record, columns: Iterable[str]) -> tuple[Any, ...]:
    return (*key(record), *(record.get(name) for name in columns))


def test_records_are_the_same_values_in_every_kind(stores: Stores, source: Source) -> None:
    """Converted values (aware start/end, runtime timedelta, texts) do not depend on the store kind."""
    columns = [name for name in stores.master_rows[0] if name not in CORE_COLUMNS]
    reference = stores.open("csv")
    try:
        expected = Counter(_comparable(record, columns) for record in reference.scan(Query()))
    finally:
        reference.close()
    assert Counter(_comparable(record, columns) for record in source.scan(Query())) == expected


@pytest.mark.parametrize("case", QUERY_CASES, ids=lambda case: case.name)
def test_scan_is_the_reference_filter(stores: Stores, source: Source, kind: str, case: QueryCase) -> None:
    """scan(query) returns exactly the records `matches` keeps, in store order where the store has one."""
    query = case.query(Facts.of(stores))
    all_records = list(source.scan(Query()))
    expected = keys(record for record in all_records if matches(record, query))
    scanned = keys(source.scan(query))
    assert Counter(scanned) == Counter(expected)
    if kind in STORE_ORDERED_KINDS:
        assert scanned == expected
    # `fields` only limits which extra columns are converted: the query still reads what it needs.
    assert Counter(keys(source.scan(query, fields=()))) == Counter(expected)


def test_query_cases_are_not_vacuous(stores: Stores) -> None:
    """Most cases select some but not all of the log, so the contract above compares something."""
    facts = Facts.of(stores)
    source = stores.open("csv")
    try:
        records = list(source.scan(Query()))
        selective = [
            case.name
            for case in QUERY_CASES
            if 0 < sum(matches(record, case.query(facts)) for record in records) < len(records)
        ]
    finally:
        source.close()
    assert len(selective) >= len(QUERY_CASES) * 2 // 3, selective


SELECTIONS = {
    "last 5": Selection(last=5),
    "head 3": Selection(head=3),
    "sort created": Selection(sort_created=True),
    "sort created, last 5": Selection(last=5, sort_created=True),
    "sort created, head 3": Selection(head=3, sort_created=True),
    "head 0": Selection(head=0),
    "last 0": Selection(last=0),
    "last more than all": Selection(last=1_000_000),
}
SELECTION_QUERIES = [
    case for case in QUERY_CASES if case.name in ("plain", "action", "task glob *retry*", "grep message")
]


def expected_selection(records: list[Record], selection: Selection) -> list[Record]:
    """The selection's meaning: a stable sort by created, then the first or the last N."""
    if selection.sort_created:
        records = sorted(records, key=lambda record: record.created)
    if selection.head is not None:
        return records[: selection.head]
    if selection.last is not None:
        return records[len(records) - selection.last :]
    return records


@pytest.mark.parametrize("selection_name", SELECTIONS)
@pytest.mark.parametrize("case", SELECTION_QUERIES, ids=lambda case: case.name)
def test_select_is_the_scan_cut(stores: Stores, source: Source, case: QueryCase, selection_name: str) -> None:
    """select(query, Selection) equals the scan sorted and cut in Python."""
    query = case.query(Facts.of(stores))
    selection = SELECTIONS[selection_name]
    expected = expected_selection(list(source.scan(query)), selection)
    assert keys(source.select(query, selection)) == keys(expected)


# --- the three compilations of a Query agree -------------------------------------------------------------


@dataclass
class CompilePaths:
    """The master log as the Python reference, as a SQL table, and as a Red Bird MemoryRepo."""

    facts: Facts
    records: list[Record]
    sql: SqlSource
    redbird: RedbirdSource


@pytest.fixture(scope="module")
def compile_paths(stores: Stores) -> Iterator[CompilePaths]:
    reference, sql, redbird = stores.open("csv"), stores.open("sqlite"), stores.open("redbird-memory")
    assert isinstance(sql, SqlSource)
    assert isinstance(redbird, RedbirdSource)
    try:
        yield CompilePaths(Facts.of(stores), list(reference.scan(Query())), sql, redbird)
    finally:
        for source in (reference, sql, redbird):
            source.close()


def generated_queries(facts: Facts) -> st.SearchStrategy[Query]:
    """Queries over everything a Query holds, with values taken from the log (plus some that match nothing)."""
    task_values = [*facts.tasks, ABSENT_TASK, "*retry*", "timeout_*", '*["]*', "multilaunch_?????"]
    run_id_values = [*facts.run_ids[:5], *facts.run_ids[-5:], ABSENT_RUN_ID]
    moments = st.one_of(
        st.sampled_from(facts.created),
        st.floats(min_value=facts.created[0] - 1, max_value=facts.created[-1] + 1, allow_nan=False),
    )
    conditions = st.one_of(
        moments.map(lambda moment: f"created >= {moment!r}"),
        moments.map(lambda moment: f"created < {moment!r}"),
        st.sampled_from(facts.created).map(lambda moment: f"created = {moment!r}"),
        st.sampled_from(facts.messages).map(lambda message: f"message = {message}"),
        st.sampled_from(facts.messages).map(lambda message: f"message != {message}"),
        st.sampled_from(["exc_text = ", "exc_text != ", "message ~ *'fail'*", "runtime > 0"]),
        st.sampled_from(facts.run_ids[:3]).map(lambda run_id: f"run_id = {run_id}"),
    )
    optional_moment = st.none() | moments.map(lambda moment: f"@{moment!r}")
    return st.builds(
        lambda **options: build_query(now=NOW, zone=UTC, **options),
        tasks=st.lists(st.sampled_from(task_values), max_size=3, unique=True),
        actions=st.lists(st.sampled_from(list(Action)), max_size=3, unique=True),
        run_ids=st.lists(st.sampled_from(run_id_values), max_size=2, unique=True),
        since=optional_moment,
        until=optional_moment,
        where=st.lists(conditions, max_size=2),
        grep=st.none() | st.sampled_from(["Traceback", "status: 'fail'", "error|TIMEOUTED", "✓|✗"]),
        ignore_case=st.booleans(),
    )


def sql_pushdown_keys(sql: SqlSource, query: Query) -> tuple[Counter[Key], bool]:
    """The rows SQL's WHERE alone selects (no Python post-filter), and whether that is the whole query."""
    clauses, exact = sql.where_clauses(query)
    columns = sql.table.c
    statement = sa.select(columns.task_name, columns.action, columns.created, columns.run_id).where(*clauses)
    with sql.engine.connect() as connection:
        rows = connection.execute(statement).all()
    return Counter((task, action, round(created, 6), run_id) for task, action, created, run_id in rows), exact


def redbird_pushdown_keys(redbird: RedbirdSource, query: Query) -> tuple[Counter[Key], bool]:
    """The items Red Bird's filter_by alone selects, and whether that is the whole query."""
    arguments, exact = filter_by_arguments(query)
    items = redbird.repo.filter_by(**arguments).all()
    return Counter((i.task_name, i.action, round(i.created, 6), i.run_id) for i in items), exact


@contract_settings
@given(data=st.data())
def test_python_sql_and_redbird_compilations_agree(compile_paths: CompilePaths, data: st.DataObject) -> None:
    """The Python predicate, SQL WHERE and Red Bird filter_by select the same records (compared as sets).

    A push-down that says it is exact must select exactly the query; one that is not must select a superset,
    and the source's post-filter must then bring it back to the query.
    """
    query = data.draw(generated_queries(compile_paths.facts), label="query")
    expected = Counter(key(record) for record in compile_paths.records if matches(record, query))

    assert Counter(keys(compile_paths.sql.scan(query))) == expected
    assert Counter(keys(compile_paths.redbird.scan(query))) == expected

    for pushed, exact in (
        sql_pushdown_keys(compile_paths.sql, query),
        redbird_pushdown_keys(compile_paths.redbird, query),
    ):
        if exact:
            assert pushed == expected
        else:
            assert not expected - pushed, "the push-down dropped records the query keeps"


# --- SQL push-down on Rocketry's typed columns stored as TEXT ----------------------------------------------

RUN_LOG = ROCKETRY / "run.csv"
TYPED_CONDITIONS = [
    ("levelno", ">="),
    ("lineno", ">="),
    ("msecs", ">="),
    ("relativeCreated", ">="),
    ("process", "="),
    ("created", ">="),
]


@pytest.mark.parametrize(("column", "op"), TYPED_CONDITIONS, ids=str)
def test_sql_where_on_typed_columns_stored_as_text(tmp_path: Path, column: str, op: str) -> None:
    """A table with every column TEXT (as `sqlite-utils insert --csv` makes one) still compares numerically.

    tasklog types Rocketry's columns (levelno, msecs, created...) whatever the store says, so a numeric
    `--where` must select what `matches` selects, even where SQLite would compare the stored text as text.
    The threshold is the column's longest written value, so its own record always matches.
    """
    with RUN_LOG.open(newline="", encoding="utf-8") as file:
        reader = csv.DictReader(file)
        header, rows = list(reader.fieldnames or ()), list(reader)
    if column not in header:
        pytest.skip(f"{RUN_LOG.name} has no {column} column")
    write_sqlite(tmp_path / "run.db", header, rows, all_text=True)
    threshold = max((row[column] for row in rows), key=len)
    query = build_query(where=[f"{column} {op} {threshold}"], now=NOW, zone=UTC)

    source = open_source(str(tmp_path / "run.db"), OpenOptions())
    try:
        expected = Counter(keys(record for record in source.scan(Query()) if matches(record, query)))
        assert expected
        assert Counter(keys(source.scan(query))) == expected
    finally:
        source.close()


@pytest.mark.parametrize("edge", ["since", "until"])
def test_sql_window_on_created_stored_as_text(tmp_path: Path, edge: str) -> None:
    """The [since, until) window selects what `matches` selects when `created` is stored as TEXT."""
    with RUN_LOG.open(newline="", encoding="utf-8") as file:
        reader = csv.DictReader(file)
        header, rows = list(reader.fieldnames or ()), list(reader)
    write_sqlite(tmp_path / "run.db", header, rows, all_text=True)
    moment = float(max((row["created"] for row in rows), key=len))  # SQLite renders a REAL with 15 digits
    query = Query(since=moment) if edge == "since" else Query(until=moment)

    source = open_source(str(tmp_path / "run.db"), OpenOptions())
    try:
        expected = Counter(keys(record for record in source.scan(Query()) if matches(record, query)))
        assert Counter(keys(source.scan(query))) == expected
    finally:
        source.close()


# --- the source contract: every kind, taskflow included, selects, pairs, orders and follows alike ---------
#
# Each kind below is a real store written by its real writer (Red Bird, sqlite3, SQLAlchemy, fastapi-taskflow)
# that can also be appended to by that writer. Expectations come from the source's own full scan, so the
# same contract holds for Rocketry logs and fastapi-taskflow stores; every list compared is checked non-empty.

APPENDED_TASK = "contract_appended"
SERVER_URLS = {
    "postgresql": "postgresql+psycopg://postgres@127.0.0.1:5432/test",
    "mariadb": "mysql+pymysql://root@127.0.0.1:3306/test",
}
REDIS_URL = "redis://127.0.0.1:6379/0"


@dataclass(frozen=True)
class ContractStore:
    """A store as `-r` names it, and how to append to it with its own writer (returns how many records)."""

    spec: str
    append: Callable[[], int]


def skip_or_fail(reason: str) -> None:
    """A server that is not there skips the test, unless TASKLOG_REQUIRE_SERVICES=1: then it fails."""
    if os.environ.get("TASKLOG_REQUIRE_SERVICES") == "1":
        pytest.fail(reason)
    pytest.skip(reason)


def master_items() -> list[dict[str, Any]]:
    """The master log as Red Bird's TaskRunRecord items, as dicts."""
    redbird = load_redbird()
    with MASTER.open(newline="", encoding="utf-8") as file:
        header = next(csv.reader(file))
    repo = redbird.repos.CSVFileRepo(filename=MASTER, fieldnames=header, model=TaskRunRecord)
    return [item.dict() for item in repo.filter_by().all()]


def appended_items() -> list[TaskRunRecord]:
    """One more run of a task of its own, after everything in the master log: its `run` and `success`."""
    last = max(float(item["created"]) for item in master_items())
    start = datetime.fromtimestamp(last + 60)
    common = {"task_name": APPENDED_TASK, "run_id": "contract-1", "start": start}
    return [
        TaskRunRecord(action="run", created=last + 60, message="appended: run", **common),
        TaskRunRecord(action="success", created=last + 61, message="appended: success", **common),
    ]


@contextmanager
def csv_store(folder: Path) -> Iterator[ContractStore]:
    path = folder / "task_run.csv"
    shutil.copyfile(MASTER, path)
    with path.open(newline="", encoding="utf-8") as file:
        header = next(csv.reader(file))
    repo = load_redbird().repos.CSVFileRepo(filename=path, fieldnames=header, model=TaskRunRecord)

    def append() -> int:
        for item in appended_items():
            repo.add(item)
        return 2

    yield ContractStore(str(path), append)


@contextmanager
def json_store(folder: Path) -> Iterator[ContractStore]:
    path = folder / "memory.json"
    path.write_text(json.dumps(master_items(), default=str), encoding="utf-8")

    def append() -> int:
        items = [*master_items(), *(item.dict() for item in appended_items())]
        path.write_text(json.dumps(items, default=str), encoding="utf-8")
        return 2

    yield ContractStore(str(path), append)


@contextmanager
def jsonl_store(folder: Path) -> Iterator[ContractStore]:
    path = folder / "memory.jsonl"
    path.write_text("".join(json.dumps(item, default=str) + "\n" for item in master_items()), "utf-8")

    def append() -> int:
        with path.open("a", encoding="utf-8") as file:
            file.writelines(json.dumps(item.dict(), default=str) + "\n" for item in appended_items())
        return 2

    yield ContractStore(str(path), append)


@contextmanager
def jsondir_store(folder: Path) -> Iterator[ContractStore]:
    path = folder / "jsondir"
    items = master_items()
    repo = jsondir_repo(path, items)

    def append() -> int:
        for index, item in enumerate(appended_items(), start=len(items) + 1):
            repo.add(IdentifiedTaskRunRecord(id=f"{index:06d}", **item.dict()))
        return 2

    yield ContractStore(str(path), append)


@contextmanager
def sqlite_store(folder: Path) -> Iterator[ContractStore]:
    path = folder / "task_run.db"
    with MASTER.open(newline="", encoding="utf-8") as file:
        reader = csv.DictReader(file)
        header, rows = list(reader.fieldnames or ()), list(reader)
    write_sqlite(path, header, rows)

    def append() -> int:
        appended = [item.dict() for item in appended_items()]
        names = ", ".join(f'"{name}"' for name in header)
        with sqlite3.connect(path) as connection:
            connection.executemany(
                f"INSERT INTO tasks ({names}) VALUES ({', '.join('?' for _ in header)})",
                [
                    tuple(None if item[name] is None else str(item[name]) for name in header)
                    for item in appended
                ],
            )
        connection.close()
        return 2

    yield ContractStore(str(path), append)


@contextmanager
def user_repo_store(folder: Path) -> Iterator[ContractStore]:
    """A `package.module:attr` Red Bird MemoryRepo made by user code, appended to through the same object."""
    module_name = f"contract_repo_{uuid.uuid4().hex[:8]}"
    (folder / "items.json").write_text(json.dumps(master_items(), default=str), encoding="utf-8")
    (folder / f"{module_name}.py").write_text(
        "import json, pathlib\n"
        "from tasklog_cli.sources.redbird import load_redbird\n"
        "ITEMS = json.loads((pathlib.Path(__file__).parent / 'items.json').read_text(encoding='utf-8'))\n"
        "repo = load_redbird().repos.MemoryRepo(collection=ITEMS, model=dict)\n",
        encoding="utf-8",
    )
    sys.path.insert(0, str(folder))

    def append() -> int:
        repo = importlib.import_module(module_name).repo
        for item in appended_items():
            repo.add(json.loads(json.dumps(item.dict(), default=str)))
        return 2

    try:
        yield ContractStore(f"{module_name}:repo", append)
    finally:
        sys.path.remove(str(folder))
        sys.modules.pop(module_name, None)


@contextmanager
def server_store(dialect: str) -> Iterator[ContractStore]:
    """A Rocketry table of its own on a real PostgreSQL or MariaDB server, dropped afterwards."""
    url = SERVER_URLS[dialect]
    engine = sa.create_engine(url, connect_args={"connect_timeout": 3})
    try:
        engine.connect().close()
    except sa.exc.OperationalError as exc:
        engine.dispose()
        skip_or_fail(f"server at {url} unreachable: {str(exc.orig).splitlines()[0]}")
    name = f"tasklog_contract_{uuid.uuid4().hex[:8]}"
    text = sa.String(255) if dialect == "mariadb" else sa.Text()
    table = sa.Table(
        name,
        sa.MetaData(),
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("task_name", text),
        sa.Column("action", text),
        sa.Column("created", sa.Double()),
        sa.Column("message", sa.Text()),
        sa.Column("run_id", text),
    )
    columns = ("task_name", "action", "created", "message", "run_id")
    with engine.begin() as connection:
        table.create(connection)
        connection.execute(
            table.insert(), [{name: item[name] for name in columns} for item in master_items()]
        )

    def append() -> int:
        with engine.begin() as connection:
            rows = [{name: getattr(item, name) for name in columns} for item in appended_items()]
            connection.execute(table.insert(), rows)
        return 2

    try:
        yield ContractStore(f"{url}#{name}", append)
    finally:
        with engine.begin() as connection:
            table.drop(connection)
        engine.dispose()


@contextmanager
def taskflow_sqlite_store(folder: Path) -> Iterator[ContractStore]:
    """A fastapi-taskflow SQLite store the library writes now; an append is one more task (4 records)."""
    from fastapi_taskflow import SqliteBackend
    from taskflow_app import write_history, write_one_task

    path = folder / "taskflow.db"
    write_history(SqliteBackend(str(path)))
    gc.collect()  # the backend's set-up connection, left to the collector, closes now

    def append() -> int:
        write_one_task(SqliteBackend(str(path)))
        gc.collect()
        return 4

    yield ContractStore(str(path), append)


@contextmanager
def redis_prefix(name: str) -> Iterator[str]:
    """A snapshot key prefix of its own on the Redis server, its keys deleted afterwards."""
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as exc:
        client.close()
        skip_or_fail(f"no Redis server at {REDIS_URL}: {exc}")
    prefix = f"tasklog-{name}-{uuid.uuid4().hex[:8]}:snapshots"
    try:
        yield prefix
    finally:
        keys = list(client.scan_iter(match=f"{prefix}*"))
        if keys:
            client.delete(*keys)
        client.close()


@contextmanager
def taskflow_redis_store(folder: Path) -> Iterator[ContractStore]:
    """A fastapi-taskflow Redis store under a key prefix of its own, deleted afterwards."""
    from fastapi_taskflow import RedisBackend
    from taskflow_app import write_history, write_one_task

    with redis_prefix("contract") as prefix:
        write_history(RedisBackend(url=REDIS_URL, prefix=prefix))

        def append() -> int:
            write_one_task(RedisBackend(url=REDIS_URL, prefix=prefix))
            return 4

        yield ContractStore(f"{REDIS_URL}?prefix={prefix}", append)


CONTRACT_STORES: dict[str, Callable[[Path], AbstractContextManager[ContractStore]]] = {
    "csv": csv_store,
    "json": json_store,
    "jsonl": jsonl_store,
    "jsondir": jsondir_store,
    "sqlite": sqlite_store,
    "module:attr": user_repo_store,
    "postgresql": lambda folder: server_store("postgresql"),
    "mariadb": lambda folder: server_store("mariadb"),
    "taskflow-sqlite": taskflow_sqlite_store,
    "taskflow-redis": taskflow_redis_store,
}
SERVICE_KINDS = frozenset({"postgresql", "mariadb", "taskflow-redis"})
CONTRACT_KINDS = [
    pytest.param(name, marks=pytest.mark.services) if name in SERVICE_KINDS else name
    for name in CONTRACT_STORES
]


CONTRACT_SOURCE_KINDS = {
    "csv": "CSV file",
    "json": "JSON dump",
    "jsonl": "JSON dump",
    "jsondir": "JSON directory",
    "sqlite": "sqlite table",
    "module:attr": "Red Bird repo",
    "postgresql": "postgresql table",
    "mariadb": "mysql table",
    "taskflow-sqlite": "fastapi-taskflow (sqlite)",
    "taskflow-redis": "fastapi-taskflow (redis)",
}


@dataclass(frozen=True)
class KindStore:
    """A store of one kind, and the name of that kind."""

    kind: str
    store: ContractStore


@pytest.fixture(scope="module", params=CONTRACT_KINDS)
def contract_store(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[KindStore]:
    """Every kind of store, read-only for the tests that take it."""
    with CONTRACT_STORES[request.param](tmp_path_factory.mktemp("kind")) as made:
        yield KindStore(request.param, made)


@pytest.fixture
def opened(contract_store: KindStore) -> Iterator[Source]:
    source = open_source(contract_store.store.spec, OpenOptions())
    try:
        yield source
    finally:
        source.close()


def test_contract_store_opens_as_its_kind(contract_store: KindStore, opened: Source) -> None:
    assert opened.kind == CONTRACT_SOURCE_KINDS[contract_store.kind]


def full_scan(source: Source) -> list[Record]:
    """The store's every record in store order; a store of a handful of tasks at least."""
    records = list(source.scan(Query()))
    assert len({record.task_name for record in records}) >= 3, "the contract needs a store with content"
    return records


def busiest_task(records: list[Record]) -> str:
    return Counter(record.task_name for record in records).most_common(1)[0][0]


def test_contract_select_head_last_and_zero(opened: Source) -> None:
    """`--head N`, `-n N`, `--sort created` and `-n 0` cut the store-order scan as Selection says."""
    records = full_scan(opened)
    by_created = sorted(records, key=lambda record: record.created)
    for selection, expected in [
        (Selection(head=3), records[:3]),
        (Selection(last=3), records[-3:]),
        (Selection(head=3, sort_created=True), by_created[:3]),
        (Selection(last=3, sort_created=True), by_created[-3:]),
        (Selection(last=len(records) + 10), records),
    ]:
        assert expected
        assert keys(opened.select(Query(), selection)) == keys(expected), selection
    for nothing in (Selection(head=0), Selection(last=0), Selection(last=0, sort_created=True)):
        assert list(opened.select(Query(), nothing)) == []
    task = busiest_task(records)
    of_task = [record for record in records if record.task_name == task]
    assert len(of_task) >= 2
    assert keys(opened.select(Query(tasks=(task,)), Selection(last=2))) == keys(of_task[-2:])


def test_contract_runs_hold_every_record_grouped_by_task_in_time_order(opened: Source) -> None:
    """`runs` pairs the whole history: every record is in a run of its own task; runs are by task, then time."""
    records = full_scan(opened)
    runs = list(opened.runs(Query(), timedelta(minutes=10)))
    assert runs
    for run in runs:
        assert run.records, run
        assert {record.task_name for record in run.records} == {run.task_name}
    assert set(keys(record for run in runs for record in run.records)) == set(keys(records))
    order = [(run.task_name, run.moment) for run in runs]
    assert order == sorted(order)
    task = busiest_task(records)
    of_task = list(opened.runs(Query(tasks=(task,)), timedelta(minutes=10)))
    assert of_task
    assert [run for run in runs if run.task_name == task] == of_task


def test_contract_history_is_by_task_then_created_ties_in_store_order(opened: Source) -> None:
    """The run history holds every record of the query's tasks, by task name, then created (a stable sort)."""
    records = full_scan(opened)
    expected = sorted(records, key=lambda record: (record.task_name, record.created))
    assert keys(opened.history(Query())) == keys(expected)
    task = busiest_task(records)
    history = keys(opened.history(Query(tasks=(task,))))
    assert history
    assert history == [record_key for record_key in keys(expected) if record_key[0] == task]


def test_contract_watch_backlog(opened: Source) -> None:
    """A watch's backlog is the last N matching records; `backlog(0)` is empty."""
    records = full_scan(opened)
    notes: list[str] = []
    watch = opened.watch(Query(), None, notes.append)
    try:
        assert watch.backlog(0) == []
        assert keys(watch.backlog(3)) == keys(records[-3:])
        assert keys(watch.backlog(len(records) + 10)) == keys(records)
    finally:
        watch.close()
    task = busiest_task(records)
    of_task = [record for record in records if record.task_name == task]
    watch = opened.watch(Query(tasks=(task,)), None, notes.append)
    try:
        assert watch.backlog(0) == []
        assert keys(watch.backlog(2)) == keys(of_task[-2:])
    finally:
        watch.close()
    assert notes == []


@pytest.mark.parametrize("kind", CONTRACT_KINDS)
def test_contract_poll_after_an_append(kind: str, tmp_path: Path) -> None:
    """After the store's own writer appends, one poll returns exactly the new records, the next none."""
    with CONTRACT_STORES[kind](tmp_path) as made:
        source = open_source(made.spec, OpenOptions())
        notes: list[str] = []
        try:
            before = Counter(keys(full_scan(source)))
            watch = source.watch(Query(), None, notes.append)
            assert watch.poll() == []
            added = made.append()
            fresh = keys(watch.poll())
            assert len(fresh) == added > 0
            source.reload()
            after = Counter(keys(source.scan(Query())))
            assert Counter(fresh) == after - before
            assert watch.poll() == []
            watch.close()
        finally:
            source.close()
    assert notes == []
