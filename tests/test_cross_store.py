"""One answer on every store: each command, under each family of filters, prints in `-o jsonl` exactly what
the pure-Python reference prints over the same records.

The records are real. Rocketry's: tests/data/rocketry/task_run.csv and the SQLite table Rocketry wrote beside it
(the same 306 records), loaded with Red Bird's own repos into every other store kind tasklog reads.
fastapi-taskflow's: the store the library wrote (tests/data/taskflow/taskflow.db), moved into its PostgreSQL,
MySQL and Redis backends by the library's own `load()` and `save()`.

The reference is a Source holding those records in a list. Everything it answers comes from `Source`'s
pure-Python defaults (`query.matches`, `apply_selection`, a sorted history, `runs.stream_runs`): no push-down,
no index. It is registered as the `reference://` URL scheme, the way any store kind joins tasklog, so the store
and the reference go through the same command, options and renderer, and the outputs must be equal line for
line. File stores are asked twice: reading the store (`TASKLOG_NO_INDEX=1`) and answering from a warm run index.
"""

import asyncio
import csv
import gc
import io
import json
import os
import shutil
import sqlite3
import sys
import uuid
from collections.abc import Callable, Collection, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from conftest import DATA, ROCKETRY, assert_one_error_line, run_cli
from test_services import DECLARED_FOR_REDBIRD, load_with_redbird, reachable
from test_sources_contract import (
    REDIS_URL,
    SERVER_URLS,
    TaskRunRecord,
    jsondir_repo,
    master_items,
    redis_prefix,
)
from test_taskflow import sqlite_snapshots

from tasklog_cli.cli import run
from tasklog_cli.environment import Environment
from tasklog_cli.index import run_index
from tasklog_cli.index.history import HORIZON_SECONDS
from tasklog_cli.models import ROCKETRY_COLUMN_KINDS, ColumnKind, Record
from tasklog_cli.query import Query
from tasklog_cli.sources import URL_OPENERS, OpenOptions, Source, open_source
from tasklog_cli.sources.base import RowReader
from tasklog_cli.sources.sql import SqlSource
from tasklog_cli.sources.sql.paired import can_pair
from tasklog_cli.sources.taskflow import TaskflowSource

MASTER = ROCKETRY / "task_run.csv"
ROCKETRY_DB = ROCKETRY / "task_run.db"
TASKFLOW_DB = DATA / "taskflow" / "taskflow.db"
NOW = datetime(2026, 12, 1, tzinfo=UTC)  # what `now` is to every command here (check's ages)
RETRY_WINDOW = timedelta(minutes=10)  # the default --retry-window
STORE_COLUMNS = frozenset({"id"})  # a key some stores add to the records: not in the reference's columns

# The references, as `-r` names them: which records, in which store order.
FILE_ORDER = "reference://rocketry"
CREATED_ORDER = "reference://rocketry-created"  # a table keyed by `created` (Red Bird's id_field="created")
TASKFLOW = "reference://taskflow"


# The reference.


def rocketry_columns() -> list[str]:
    with MASTER.open(newline="", encoding="utf-8") as file:
        return next(csv.reader(file))


@cache
def rocketry_records() -> tuple[Record, ...]:
    """The master's records, read by Red Bird's CSVFileRepo into Rocketry's model, in file order."""
    kinds = {name: ROCKETRY_COLUMN_KINDS.get(name, ColumnKind.TEXT) for name in rocketry_columns()}
    to_record = RowReader(kinds, None, None)
    return tuple(to_record(item) for item in master_items())


class ReferenceSource(Source):
    """Records in a list: every answer from Source's pure-Python defaults."""

    kind = "reference"

    def __init__(self, records: list[Record], columns: Collection[str]) -> None:
        super().__init__("reference", columns, OpenOptions())
        self.records = records

    def scan(self, query: Query, fields: Collection[str] | None = None) -> Iterator[Record]:
        return self.matching(self.records, lambda record: record, query)


class MemorySnapshots:
    """fastapi-taskflow snapshots held in a list, handed over as a SnapshotReader does."""

    kind = label = "reference"

    def __init__(self, snapshots: list[dict[str, Any]]) -> None:
        self.snapshots = snapshots
        self.fields = tuple(snapshots[0])

    def task_ids(self) -> set[str]:
        return {str(snapshot["task_id"]) for snapshot in self.snapshots}

    def rows(self, task_ids: Collection[str] | None = None) -> Iterator[Mapping[str, Any]]:
        return (row for row in self.snapshots if task_ids is None or row["task_id"] in task_ids)

    def details(self) -> dict[str, Any]:
        return {}

    def close(self) -> None:
        """Nothing is held open."""


def open_reference(spec: str, options: OpenOptions) -> Source:
    if spec == TASKFLOW:
        return TaskflowSource(MemorySnapshots(sqlite_snapshots(TASKFLOW_DB)()), options)
    records = list(rocketry_records())
    if spec == CREATED_ORDER:
        records.sort(key=lambda record: record.created)
    return ReferenceSource(records, rocketry_columns())


@pytest.fixture(autouse=True)
def reference_scheme(monkeypatch: pytest.MonkeyPatch) -> None:
    """`reference://` opens the reference, as a URL scheme of its own."""
    monkeypatch.setitem(URL_OPENERS, "reference", open_reference)


# The stores.


@dataclass(frozen=True)
class Store:
    """A store as `-r` names it, the reference it must equal, and what standard input it reads."""

    spec: str
    reference: str
    stdin: bytes | None = None


def copied(committed: Path, reference: str) -> Callable[[Path], AbstractContextManager[Store]]:
    """A store that is a copy of a committed file (a reader may leave SQLite side files beside it)."""

    @contextmanager
    def store(folder: Path) -> Iterator[Store]:
        path = folder / committed.name
        shutil.copyfile(committed, path)
        yield Store(str(path), reference)

    return store


@contextmanager
def stdin_store(folder: Path) -> Iterator[Store]:
    yield Store("-", FILE_ORDER, stdin=MASTER.read_bytes())


@contextmanager
def stdin_jsonl_store(folder: Path) -> Iterator[Store]:
    """A MemoryRepo dump as JSON lines, piped."""
    lines = "".join(json.dumps(item, default=str) + "\n" for item in master_items())
    yield Store("-", FILE_ORDER, stdin=lines.encode())


@contextmanager
def json_store(folder: Path) -> Iterator[Store]:
    """A MemoryRepo dump: json.dumps([item.dict() ...], default=str)."""
    path = folder / "memory.json"
    path.write_text(json.dumps(master_items(), default=str), encoding="utf-8")
    yield Store(str(path), FILE_ORDER)


@contextmanager
def jsondir_store(folder: Path) -> Iterator[Store]:
    """A JSONDirectoryRepo folder written by Red Bird (a folder's store order is `created`)."""
    path = folder / "jsondir"
    jsondir_repo(path, master_items())
    yield Store(str(path), CREATED_ORDER)


@contextmanager
def redbird_memory_store(folder: Path) -> Iterator[Store]:
    """A Red Bird MemoryRepo of Rocketry's model, made by user code (`package.module:attr`)."""
    module = f"cross_store_repo_{uuid.uuid4().hex[:8]}"
    (folder / f"{module}.py").write_text(
        "from test_cross_store import TaskRunRecord, master_items\n"
        "from tasklog_cli.sources.redbird import load_redbird\n"
        "repo = load_redbird().repos.MemoryRepo(\n"
        "    collection=[TaskRunRecord(**item) for item in master_items()], model=TaskRunRecord\n"
        ")\n",
        encoding="utf-8",
    )
    with pytest.MonkeyPatch.context() as patch:
        patch.syspath_prepend(str(folder))
        yield Store(f"{module}:repo", FILE_ORDER)


@contextmanager
def dropped_after(url: str, statement: str) -> Iterator[sa.Engine]:
    """An engine on the server (a skip, or a failure under TASKLOG_REQUIRE_SERVICES=1, when there is
    none), and `statement` (a DROP) run when the block ends."""
    engine = reachable(url).execution_options(isolation_level="AUTOCOMMIT")
    try:
        yield engine
    finally:
        with engine.connect() as connection:
            connection.exec_driver_sql(statement)
        engine.dispose()


@contextmanager
def postgresql_store(folder: Path) -> Iterator[Store]:
    """Rocketry's recipe on PostgreSQL: the table Red Bird's SQLRepo creates, `created FLOAT PRIMARY KEY`."""
    name = f"tasklog_cross_{uuid.uuid4().hex[:8]}"
    with dropped_after(SERVER_URLS["postgresql"], f"DROP TABLE IF EXISTS {name}") as engine:
        load_with_redbird(engine, name)
        yield Store(f"{SERVER_URLS['postgresql']}#{name}", CREATED_ORDER)


@contextmanager
def postgresql_schema_store(folder: Path) -> Iterator[Store]:
    """The table README recommends (its own SERIAL key) in a schema of its own, named `schema.table`."""
    schema, name = f"tasklog_cross_{uuid.uuid4().hex[:8]}", "task_log"
    with dropped_after(SERVER_URLS["postgresql"], f"DROP SCHEMA IF EXISTS {schema} CASCADE") as engine:
        with engine.begin() as connection:
            connection.exec_driver_sql(f"CREATE SCHEMA {schema}")
            connection.exec_driver_sql(DECLARED_FOR_REDBIRD["postgresql"].format(name=f"{schema}.{name}"))
            table = sa.Table(name, sa.MetaData(), schema=schema, autoload_with=connection)
            connection.execute(table.insert(), [TaskRunRecord(**item).dict() for item in master_items()])
        yield Store(f"{SERVER_URLS['postgresql']}?table={schema}.{name}", FILE_ORDER)


@contextmanager
def mariadb_store(folder: Path) -> Iterator[Store]:
    """MariaDB: the table README recommends (DOUBLE `created`, its own key), written by Red Bird's SQLRepo."""
    name = f"tasklog_cross_{uuid.uuid4().hex[:8]}"
    with dropped_after(SERVER_URLS["mariadb"], f"DROP TABLE IF EXISTS {name}") as engine:
        with engine.begin() as connection:
            connection.exec_driver_sql(DECLARED_FOR_REDBIRD["mysql"].format(name=name))
        load_with_redbird(engine, name)
        yield Store(f"{SERVER_URLS['mariadb']}#{name}", FILE_ORDER)


def copy_taskflow(backend: Any) -> None:
    """The committed store's tasks saved into another backend by the library itself."""
    from fastapi_taskflow import SqliteBackend

    async def move() -> None:
        source = SqliteBackend(str(TASKFLOW_DB.resolve()))
        records = await source.load()
        await source.close()
        await backend.save(records)
        await backend.close()

    asyncio.run(move())
    gc.collect()


@contextmanager
def taskflow_server_store(dialect: str) -> Iterator[Store]:
    """A database of its own on the server, the tasks saved by the library's backend, dropped afterwards."""
    from fastapi_taskflow.backends import MySQLBackend, PostgresBackend

    server = SERVER_URLS[dialect].rsplit("/", 1)[0]
    database = f"tasklog_cross_{uuid.uuid4().hex[:8]}"
    force = " WITH (FORCE)" if dialect == "postgresql" else ""
    with dropped_after(f"{server}/test", f"DROP DATABASE IF EXISTS {database}{force}") as engine:
        with engine.connect() as connection:
            connection.exec_driver_sql(f"CREATE DATABASE {database}")
        url = f"{server.split('+', 1)[0]}://{server.split('://', 1)[1]}/{database}"  # as the library takes it
        copy_taskflow(PostgresBackend(url) if dialect == "postgresql" else MySQLBackend(url))
        yield Store(url, TASKFLOW)


@contextmanager
def taskflow_redis_store(folder: Path) -> Iterator[Store]:
    from fastapi_taskflow import RedisBackend

    with redis_prefix("cross") as prefix:
        copy_taskflow(RedisBackend(url=REDIS_URL, prefix=prefix))
        yield Store(f"{REDIS_URL}?prefix={prefix}", TASKFLOW)


STORES: dict[str, Callable[[Path], AbstractContextManager[Store]]] = {
    "csv": copied(MASTER, FILE_ORDER),
    "stdin": stdin_store,
    "stdin-jsonl": stdin_jsonl_store,
    "sqlite": copied(ROCKETRY_DB, FILE_ORDER),  # the table Rocketry wrote: id key, runtime a DATETIME
    "json": json_store,
    "jsondir": jsondir_store,
    "redbird-memory": redbird_memory_store,
    "postgresql": postgresql_store,
    "postgresql-schema": postgresql_schema_store,
    "mariadb": mariadb_store,
    "taskflow-sqlite": copied(TASKFLOW_DB, TASKFLOW),
    "taskflow-postgresql": lambda folder: taskflow_server_store("postgresql"),
    "taskflow-mysql": lambda folder: taskflow_server_store("mariadb"),
    "taskflow-redis": taskflow_redis_store,
}
SERVICES = frozenset({"postgresql", "postgresql-schema", "mariadb", "taskflow-postgresql", "taskflow-mysql"})
SERVICES |= {"taskflow-redis"}
INDEXED = ("csv", "sqlite", "json", "jsondir")
# How a store is asked: reading it, or from its warm run index with every run still in the index's tail (the
# store spans a minute, less than the hour records may arrive late) or with every run settled in its table.
READ, INDEX_TAIL, INDEX_SETTLED = "", "+index", "+index-settled"
VARIANTS = [
    pytest.param((kind, way), id=f"{kind}{way}", marks=[pytest.mark.services] * (kind in SERVICES))
    for kind in STORES
    for way in ((READ, INDEX_TAIL, INDEX_SETTLED) if kind in INDEXED else (READ,))
]


# The cases: filter families and commands.


def _at(fraction: float) -> str:
    """`@EPOCH` of the Rocketry record at this rank of `created`."""
    created = sorted(record.created for record in rocketry_records())
    return f"@{created[int(fraction * (len(created) - 1))]!r}"


def _task_id(task_name: str) -> str:
    return next(
        str(row["task_id"]) for row in sqlite_snapshots(TASKFLOW_DB)() if row["func_name"] == task_name
    )


@dataclass(frozen=True)
class Filter:
    """A family of filters, as options; `records_only` ones (`-a`) only go with `ls` and `tail`."""

    name: str
    args: tuple[str, ...]
    records_only: bool = False


ROCKETRY_FILTERS = (
    Filter("all", ()),
    Filter("exact name", ("-t", "flaky_retry")),
    Filter("exact name needing quotes", ("-t", 'fails, "loudly" ✗')),
    Filter("glob", ("-t", "fl*")),
    Filter("glob suffix", ("-t", "*_thread")),
    Filter("glob with class", ("-t", "[mp]*")),
    Filter("several names", ("-t", "succeeds", "-t", 'say "hi", wörld ✓')),
    Filter("name and glob", ("-t", "long_running", "-t", "timeout_*")),
    Filter("absent name", ("-t", "no_such_task")),
    Filter("action", ("-a", "fail"), records_only=True),
    Filter("several actions", ("-a", "crash", "-a", "inaction", "-a", "terminate"), records_only=True),
    Filter("run id", ("--run-id", "af3b9c044dd1421a8d8432a76bfb8ea8")),
    Filter("several run ids", ("--run-id", "2", "--run-id", "911e98b7b42d476e87426627527ed0f8")),
    Filter("since", ("-S", _at(0.5))),
    Filter("until", ("-U", _at(0.5))),
    Filter("window", ("-S", _at(0.2), "-U", _at(0.7))),
    Filter("where text", ("-w", "action!=run")),
    Filter("where number", ("-w", f"created>={_at(0.6)[1:]}")),
    Filter("where glob", ("-w", "message~*loudly*")),
    Filter("where naive time", ("-w", "start<2026-11-21 21:52:30")),
    Filter("where duration", ("-w", "runtime>0")),
    Filter("where empty", ("-w", "exc_text!=")),
    Filter("grep", ("-g", "Traceback")),
    Filter("grep ignoring case", ("-g", "TIMEOUT|inaction", "-i")),
    Filter("glob and window", ("-t", "multilaunch_*", "-S", _at(0.3), "-U", _at(0.9))),
    Filter("glob, run id and action", ("-t", "multi*", "--run-id", "1", "-a", "run"), records_only=True),
)
TASKFLOW_FILTERS = (
    Filter("all", ()),
    Filter("exact name", ("-t", "sync_invoices")),
    Filter("glob", ("-t", "send_*")),
    Filter("glob with class", ("-t", "[pr]*")),
    Filter("several names", ("-t", "export_csv", "-t", "make_thumbnail")),
    Filter("absent name", ("-t", "no_such_task")),
    Filter("action", ("-a", "log"), records_only=True),
    Filter("several actions", ("-a", "fail", "-a", "terminate"), records_only=True),
    Filter("run id", ("--run-id", _task_id("sync_invoices"))),
    Filter("since", ("-S", "2026-11-21T20:28:33Z")),
    Filter("until", ("-U", "2026-11-21T20:28:33Z")),
    Filter("window", ("-S", "2026-11-21T20:28:32.45Z", "-U", "2026-11-21T20:28:35Z")),
    Filter("where text", ("-w", "status=failed")),
    Filter("where number", ("-w", "retries_used>=1")),
    Filter("grep", ("-g", "Ledger|aborting")),
    Filter("grep ignoring case", ("-g", "zoë", "-i")),
)


@dataclass(frozen=True)
class Command:
    """A command with its selection options; `timeline` takes the filter's task names as its arguments."""

    args: tuple[str, ...]

    @property
    def name(self) -> str:
        return " ".join(self.args)

    @property
    def takes_actions(self) -> bool:
        return self.args[0] in ("ls", "tail")

    def line(self, chosen: Filter) -> list[str]:
        if self.args[0] != "timeline":
            return [*self.args, *chosen.args]
        names, rest, options = [], [], iter(chosen.args)
        for option in options:
            if option == "-t":
                names.append(next(options))
            else:
                rest.append(option)
        return ["timeline", *(names or ["*"]), *self.args[1:], *rest]


COMMANDS = tuple(
    Command(tuple(args.split()))
    for args in (
        "ls",
        "ls -n 5",
        "ls --head 5",
        "ls --reverse -n 3",
        "ls --sort created -n 4",
        "tail -n 7",
        "runs",
        "runs -n 5",
        "runs --reverse -n 4",
        "runs --failed",
        "runs --outcome inaction -n 3",
        "runs --outcome success --outcome running",
        "runtimes",
        "runtimes --by hour",
        "tasks",
        "timeline",
        "timeline -n 2",
        "check --max-failures 1",
        "check --max-duration 1s",
    )
)


def filters_of(reference: str, command: Command) -> list[Filter]:
    families = TASKFLOW_FILTERS if reference == TASKFLOW else ROCKETRY_FILTERS
    return [chosen for chosen in families if command.takes_actions or not chosen.records_only]


# Asking, and comparing.


@dataclass(frozen=True)
class Answer:
    """What a command printed (JSON values, the store's own key left out) and how it ended."""

    exit_code: int
    rows: list[Any]
    stderr: str


def ask(spec: str, args: list[str], variables: Mapping[str, str], stdin: bytes | None = None) -> Answer:
    """Run tasklog in this process at a fixed moment, with `stdin` as standard input."""
    stdout, stderr = io.StringIO(), io.StringIO()
    stream = io.TextIOWrapper(io.BytesIO(stdin or b""), encoding="utf-8")
    env = Environment(
        stdout, stderr, stream, is_terminal=False, columns=None, variables={**os.environ, **variables},
        clock=lambda: NOW,
    )  # fmt: skip
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(sys, "stdin", stream)
        code = run([*args, "-r", spec, "-o", "jsonl"], env)
    assert code in (0, 1), f"tasklog {' '.join(args)} -r {spec}: exit {code}\n{stderr.getvalue()}"
    rows = [json.loads(line) for line in stdout.getvalue().splitlines()]
    for row in rows:
        for name in STORE_COLUMNS & set(row):
            del row[name]
    return Answer(code, rows, stderr.getvalue())


_reference_answers: dict[tuple[str, ...], Answer] = {}


def reference_answer(reference: str, args: list[str]) -> Answer:
    key = (reference, *args)
    if key not in _reference_answers:
        _reference_answers[key] = ask(reference, args, {"TASKLOG_NO_INDEX": "1"})
    return _reference_answers[key]


@dataclass(frozen=True)
class Asked:
    """A store asked one way: reading it whole, or from its run index (warm, in a cache folder of its own,
    its runs settled after `horizon` seconds)."""

    store: Store
    env: dict[str, str]
    horizon: float = HORIZON_SECONDS

    def answer(self, args: list[str]) -> Answer:
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(run_index, "HORIZON_SECONDS", self.horizon)
            return ask(self.store.spec, args, self.env, self.store.stdin)


@pytest.fixture(scope="module", params=VARIANTS)
def asked(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Asked]:
    kind, way = request.param
    with STORES[kind](tmp_path_factory.mktemp(kind)) as store:
        if way == READ:
            yield Asked(store, {"TASKLOG_NO_INDEX": "1"})
            return
        cache = tmp_path_factory.mktemp("cache")
        made = Asked(
            store,
            {"XDG_CACHE_HOME": str(cache), "TASKLOG_NO_INDEX": ""},
            0.0 if way == INDEX_SETTLED else HORIZON_SECONDS,
        )
        made.answer(["tasks"])  # builds the index
        (index_file,) = cache.rglob("*.sqlite")
        connection = sqlite3.connect(index_file)
        settled = connection.execute("SELECT count(*) FROM runs").fetchone()[0]
        connection.close()
        assert (settled > 0) == (way == INDEX_SETTLED), f"{settled} runs settled in the index"
        yield made


def difference(args: list[str], expected: Answer, got: Answer) -> str:
    """Where an answer first differs from the reference's, in a few lines."""
    if got.exit_code != expected.exit_code:
        return f"{' '.join(args)}: exit {got.exit_code}, the reference {expected.exit_code}"
    for position, (mine, theirs) in enumerate(zip(got.rows, expected.rows, strict=False)):
        if mine != theirs:
            return f"{' '.join(args)}: row {position + 1}\n  store:     {mine}\n  reference: {theirs}"
    return f"{' '.join(args)}: {len(got.rows)} rows, the reference {len(expected.rows)}"


@pytest.mark.parametrize("command", COMMANDS, ids=lambda command: command.name)
def test_every_filter_answers_as_the_reference(asked: Asked, command: Command) -> None:
    """The store prints what the reference prints, under every family of filters."""
    differences = []
    chosen = filters_of(asked.store.reference, command)
    for family in chosen:
        args = command.line(family)
        expected, got = reference_answer(asked.store.reference, args), asked.answer(args)
        if (got.exit_code, got.rows) != (expected.exit_code, expected.rows):
            differences.append(f"[{family.name}] {difference(args, expected, got)}")
    assert not differences, f"{len(differences)} of {len(chosen)} filters differ:\n" + "\n".join(differences)


INFO_COUNTS = ("records", "first", "last", "tasks")


def test_info_counts_as_the_reference(asked: Asked) -> None:
    expected = reference_answer(asked.store.reference, ["info"]).rows[0]
    got = asked.answer(["info"]).rows[0]
    assert {name: got[name] for name in INFO_COUNTS} == {name: expected[name] for name in INFO_COUNTS}


# The push-downs the suite is there for, and that its cases select something.


def test_postgresql_pairs_and_aggregates_in_the_database(tmp_path: Path) -> None:
    """The PostgreSQL stores above take both push-downs, so the suite compares them with the reference."""
    for kind in ("postgresql", "postgresql-schema"):
        with STORES[kind](tmp_path) as store:
            source = open_source(store.spec, OpenOptions())
            try:
                assert isinstance(source, SqlSource) and can_pair(source.shape), kind
                assert source.pushed_runs(Query(), RETRY_WINDOW, (), None, False) is not None, kind
                assert source.task_statistics(Query()) is not None, kind
            finally:
                source.close()


@pytest.mark.parametrize("reference", [FILE_ORDER, TASKFLOW])
def test_every_case_selects_something_and_each_filter_narrows_it(reference: str) -> None:
    """No command answers nothing with every record, and every filter family (but `absent name`) keeps some
    records or runs and leaves others out; so an answer that ignored a filter would differ from it."""
    for command in COMMANDS:
        if (reference, command.name) != (TASKFLOW, "runs --outcome inaction -n 3"):  # taskflow has none
            assert reference_answer(reference, command.line(Filter("all", ()))).rows, command.name
    for family in filters_of(reference, COMMANDS[0])[1:]:
        command = COMMANDS[0] if family.records_only else Command(("runs",))
        everything = reference_answer(reference, command.line(Filter("all", ()))).rows
        chosen = reference_answer(reference, command.line(family)).rows
        if family.name == "absent name":
            assert chosen == [], family.name
        else:
            assert chosen and len(chosen) < len(everything), family.name


# The defects this suite was written for, by name.

SQL_KINDS = ("sqlite", "postgresql", "mariadb")


@pytest.mark.parametrize("kind", SQL_KINDS)
def test_sql_runs_keep_a_task_glob(kind: str, tmp_path: Path) -> None:
    """`runs -t 'fl*'` on PostgreSQL printed the runs of every task (its pairing query left the glob out)."""
    with STORES[kind](tmp_path) as store:
        got = ask(store.spec, ["runs", "-t", "fl*"], {"TASKLOG_NO_INDEX": "1"})
    names = {row["task_name"] for row in got.rows}
    assert names == {"flaky_retry"}
    assert got.rows == reference_answer(store.reference, ["runs", "-t", "fl*"]).rows


@pytest.mark.parametrize("kind", SQL_KINDS)
def test_sql_timeline_prints_the_store_columns(kind: str, tmp_path: Path) -> None:
    """`timeline -o jsonl` on SQL stores printed every column but the core four as null."""
    with STORES[kind](tmp_path) as store:
        got = ask(store.spec, ["timeline", "flaky_retry"], {"TASKLOG_NO_INDEX": "1"})
    assert got.rows and all(row["message"] and row["start"] for row in got.rows)
    assert any(row["exc_text"] for row in got.rows)


def test_postgresql_table_in_a_schema_by_every_way_of_naming_it(tmp_path: Path) -> None:
    with postgresql_schema_store(tmp_path) as store:
        url, _, qualified = store.spec.partition("?table=")
        for spec, extra in ((f"{url}#{qualified}", []), (url, ["--table", qualified])):
            got = ask(spec, ["info", *extra], {"TASKLOG_NO_INDEX": "1"}).rows[0]
            assert (got["table"], got["records"]) == (qualified, len(rocketry_records()))
        schema = qualified.split(".")[0]
        result = run_cli("ls", "-r", f"{url}#{schema}.missing", expect=3)
        assert_one_error_line(result, f"no table '{schema}.missing'", f"tables: {qualified}")
