"""One contract suite for every source kind, run on one real Rocketry log stored seven ways.

The master is tests/data/rocketry/task_run.csv (written by Rocketry through Red Bird's CSVFileRepo). From it the
module builds, in a temporary folder: a SQLite table (stdlib sqlite3), a MemoryRepo dump as a JSON array, as
JSON lines and in pydantic's `.json()` style, a JSONDirectoryRepo folder written by Red Bird itself, and a
Red Bird MemoryRepo read through RedbirdSource. Every source must return
`[r for r in all_records if matches(r, query)]` for every query, and the three compilations of a Query
(Python predicate, SQL WHERE, Red Bird filter_by) must agree.

Nothing here hard-codes what the log holds: names, run ids, times and counts are read from it at test time.
"""

import csv
import json
import shutil
import sqlite3
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
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
    paths["jsondir"].mkdir()
    directory_repo = redbird.repos.JSONDirectoryRepo(
        path=paths["jsondir"],
        id_field="id",
        model=IdentifiedTaskRunRecord,
        kwds_json_dump={"default": str},  # the model holds datetimes: the same `default=str` as a dump
    )
    for index, item in enumerate(dumped, start=1):
        directory_repo.add(IdentifiedTaskRunRecord(id=f"{index:06d}", **item))
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
