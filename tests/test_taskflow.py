"""fastapi-taskflow stores (issue #5), read through the CLI as a user would: stores the real library writes
at test time (SQLite, Redis, MariaDB, PostgreSQL) and the committed 0.12.1 store, held to the same facts."""

import gc
import hashlib
import json
import os
import queue
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import redis
import sqlalchemy as sa
from conftest import DATA, assert_one_error_line, run_cli
from fastapi_taskflow import RedisBackend, SnapshotBackend, SqliteBackend
from fastapi_taskflow.backends import MySQLBackend, PostgresBackend
from taskflow_app import (
    FAST_RETRY_DELAY,
    REPORT_ERROR,
    REPORT_TOTALS,
    write_history,
    write_one_task,
    write_requeued,
    write_retried,
)

from tasklog_cli.query import Query
from tasklog_cli.sources import OpenOptions, open_source

pytestmark = pytest.mark.filterwarnings("ignore:The 'reconnect' argument is deprecated:DeprecationWarning")

FIXTURE = DATA / "taskflow" / "taskflow.db"
FIXTURE_0_10 = DATA / "taskflow" / "taskflow-0.10.db"
REDIS_URL = "redis://127.0.0.1:6379/0"
MARIADB = "mysql+pymysql://root@127.0.0.1:3306"
POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432"

# What the app of taskflow_app.py leaves in every store, as records: (task, action) -> count.
RECORDS = Counter({
    ("send_welcome", "run"): 3, ("send_welcome", "log"): 7, ("send_welcome", "success"): 3,
    ("sync_invoices", "run"): 1, ("sync_invoices", "log"): 6, ("sync_invoices", "success"): 1,
    ("send_report", "run"): 1, ("send_report", "log"): 6, ("send_report", "fail"): 1,
    ("ping_partner", "run"): 1, ("ping_partner", "fail"): 1,
    ("export_csv", "run"): 1, ("export_csv", "log"): 1, ("export_csv", "terminate"): 1,
    ("rebuild_index", "run"): 1, ("rebuild_index", "log"): 2, ("rebuild_index", "terminate"): 1,
    ("make_thumbnail", "run"): 1, ("make_thumbnail", "log"): 1, ("make_thumbnail", "success"): 1,
    ("make_thumbnail", "fail"): 1,
})  # fmt: skip
# ... and as runs: (task, outcome, original status, attempt) -> count.
RUNS = Counter({
    ("send_welcome", "success", "success", 1): 2,
    ("send_welcome", "success", "success", 2): 1,
    ("sync_invoices", "success", "success", 3): 1,
    ("send_report", "fail", "failed", 3): 1,
    ("ping_partner", "fail", "failed", 3): 1,
    ("export_csv", "terminate", "cancelled", 1): 1,
    ("rebuild_index", "terminate", "interrupted", 2): 1,
    ("make_thumbnail", "success", "success", 1): 1,
    ("make_thumbnail", "fail", "rejected", 1): 1,
})  # fmt: skip
REPORT_LOGS = [
    "Rendering report for 2026-11-20", REPORT_TOTALS, "--- Retry 1 ---",
    "Rendering report for 2026-11-20", REPORT_TOTALS, "--- Retry 2 ---",
    "Rendering report for 2026-11-20", REPORT_TOTALS,
]  # fmt: skip
# The failed task's timeline without its times: the separators where logs_json has them, then the error
# and the last line of its stack trace.
REPORT_TIMELINE = [
    "run",
    "log        Rendering report for 2026-11-20",
    "log        Totals: …",
    "--- Retry 1 ---",
    "log        Rendering report for 2026-11-20",
    "log        Totals: …",
    "--- Retry 2 ---",
    "log        Rendering report for 2026-11-20",
    "log        Totals: …",
    f"fail       {REPORT_ERROR}",
    f"ValueError: {REPORT_ERROR}",
]
INVOICE_TIMELINE = [
    "run",
    "log        Posting batch 7 (attempt 0)",
    "log        Ledger did not answer",
    "--- Retry 1 ---",
    "log        Posting batch 7 (attempt 1)",
    "log        Ledger did not answer",
    "--- Retry 2 ---",
    "log        Posting batch 7 (attempt 2)",
    "log        Batch 7 posted",
    "success",
]
# A task that logged nothing: its logs_json is the two separators alone, and both are shown.
PING_TIMELINE = [
    "run",
    "--- Retry 1 ---",
    "--- Retry 2 ---",
    "fail       no answer from https://partner.example",
    "TimeoutError: no answer from https://partner.example",
]
INDEX_TIMELINE = [
    "run",
    "log        Scanning shards",
    "--- Retry 1 ---",
    "log        Scanning shards again",
    "terminate",
]


@dataclass(frozen=True)
class Store:
    """A store the library wrote: what `-r` takes, a backend to write more, and its raw snapshots."""

    spec: str
    backend: Callable[[], SnapshotBackend]
    snapshots: Callable[[], list[dict[str, Any]]]

    def by_task(self, task_name: str) -> dict[str, Any]:
        """The raw snapshot of a task that ran once."""
        (snapshot,) = [row for row in self.snapshots() if row["func_name"] == task_name]
        return snapshot


def skip_or_fail(reason: str) -> None:
    """A server that is not there skips the test, unless TASKLOG_REQUIRE_SERVICES=1: then it fails."""
    if os.environ.get("TASKLOG_REQUIRE_SERVICES") == "1":
        pytest.fail(reason)
    pytest.skip(reason)


def sqlite_snapshots(path: Path) -> Callable[[], list[dict[str, Any]]]:
    def read() -> list[dict[str, Any]]:
        connection = sqlite3.connect(path)
        connection.row_factory = sqlite3.Row
        rows = [dict(row) for row in connection.execute("SELECT * FROM task_snapshots")]
        connection.close()
        return rows

    return read


@contextmanager
def committed_store(folder: Path) -> Iterator[Store]:
    """A copy of the committed store (SQLite makes -wal/-shm files next to what it reads)."""
    path = folder / "taskflow.db"
    shutil.copyfile(FIXTURE, path)
    yield Store(str(path), lambda: SqliteBackend(str(path)), sqlite_snapshots(path))


@contextmanager
def committed_0_10_store(folder: Path) -> Iterator[Store]:
    """A copy of the committed store fastapi-taskflow 0.10.0 wrote (log stamps without `Z`)."""
    path = folder / "taskflow-0.10.db"
    shutil.copyfile(FIXTURE_0_10, path)
    yield Store(str(path), lambda: SqliteBackend(str(path)), sqlite_snapshots(path))


@contextmanager
def sqlite_store(folder: Path) -> Iterator[Store]:
    path = folder / "tasks.db"
    write_history(SqliteBackend(str(path)))
    gc.collect()  # the backend's set-up connection, left to the collector, closes (and checkpoints) now
    yield Store(str(path), lambda: SqliteBackend(str(path)), sqlite_snapshots(path))


@contextmanager
def redis_store(folder: Path) -> Iterator[Store]:
    """A store under a key prefix of its own on the Redis server of this machine, deleted afterwards."""
    client = redis.Redis.from_url(REDIS_URL, decode_responses=True, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as exc:
        skip_or_fail(f"no Redis server at {REDIS_URL}: {exc}")
    prefix = f"tasklog-test-{uuid.uuid4().hex[:8]}:snapshots"

    def snapshots() -> list[dict[str, Any]]:
        return [client.hgetall(f"{prefix}:{task_id}") for task_id in client.smembers(f"{prefix}:_index")]

    try:
        write_history(RedisBackend(url=REDIS_URL, prefix=prefix))
        yield Store(
            f"{REDIS_URL}?prefix={prefix}", lambda: RedisBackend(url=REDIS_URL, prefix=prefix), snapshots
        )
    finally:
        keys = list(client.scan_iter(match=f"{prefix}*"))
        if keys:
            client.delete(*keys)
        client.close()


@contextmanager
def mariadb_store(folder: Path) -> Iterator[Store]:
    """A database of its own on the MariaDB server of this machine, dropped afterwards."""
    engine = sa.create_engine(f"{MARIADB}/test", connect_args={"connect_timeout": 3})
    try:
        engine.connect().close()
    except sa.exc.OperationalError as exc:
        engine.dispose()
        skip_or_fail(f"no MariaDB server at {MARIADB}: {str(exc.orig).splitlines()[0]}")
    database = f"tasklog_taskflow_{uuid.uuid4().hex[:8]}"
    with engine.begin() as connection:
        connection.exec_driver_sql(f"CREATE DATABASE {database} CHARACTER SET utf8mb4")
    url = f"mysql://root@127.0.0.1:3306/{database}"  # as the library's MySQLBackend takes it

    def snapshots() -> list[dict[str, Any]]:
        with engine.connect() as connection:
            rows = connection.exec_driver_sql(f"SELECT * FROM {database}.task_snapshots")
            return [dict(row._mapping) for row in rows]

    try:
        write_history(MySQLBackend(url))
        yield Store(url, lambda: MySQLBackend(url), snapshots)
    finally:
        with engine.begin() as connection:
            connection.exec_driver_sql(f"DROP DATABASE {database}")
        engine.dispose()


@contextmanager
def postgres_store(folder: Path) -> Iterator[Store]:
    """A database of its own on the PostgreSQL server of this machine, dropped afterwards."""
    engine = sa.create_engine(
        f"{POSTGRES}/test", isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3}
    )
    try:
        engine.connect().close()
    except sa.exc.OperationalError as exc:
        engine.dispose()
        skip_or_fail(f"no PostgreSQL server at {POSTGRES}: {str(exc.orig).splitlines()[0]}")
    database = f"tasklog_taskflow_{uuid.uuid4().hex[:8]}"
    with engine.connect() as connection:
        connection.exec_driver_sql(f"CREATE DATABASE {database}")
    url = f"postgresql://postgres@127.0.0.1:5432/{database}"  # as the library's PostgresBackend takes it
    reader = sa.create_engine(f"{POSTGRES}/{database}")

    def snapshots() -> list[dict[str, Any]]:
        with reader.connect() as connection:
            return [dict(row._mapping) for row in connection.exec_driver_sql("SELECT * FROM task_snapshots")]

    try:
        write_history(PostgresBackend(url))
        yield Store(url, lambda: PostgresBackend(url), snapshots)
    finally:
        reader.dispose()
        with engine.connect() as connection:
            connection.exec_driver_sql(f"DROP DATABASE {database} WITH (FORCE)")
        engine.dispose()


STORES: dict[str, Callable[[Path], AbstractContextManager[Store]]] = {
    "committed": committed_store,
    "committed-0.10": committed_0_10_store,
    "sqlite": sqlite_store,
    "redis": redis_store,
    "mariadb": mariadb_store,
    "postgres": postgres_store,
}


@pytest.fixture(
    scope="module",
    params=[
        "committed",
        "committed-0.10",
        "sqlite",
        pytest.param("redis", marks=pytest.mark.services),
        pytest.param("mariadb", marks=pytest.mark.services),
        pytest.param("postgres", marks=pytest.mark.services),
    ],
)
def store(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    """Every kind of store, written by the real library (or committed), each read by the same tests."""
    with STORES[request.param](tmp_path_factory.mktemp(request.param)) as made:
        yield made


@pytest.fixture
def committed(tmp_path: Path) -> Iterator[Path]:
    """A fresh copy of the committed store."""
    with committed_store(tmp_path) as made:
        yield Path(made.spec)


def jsonl(stdout: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stdout.splitlines()]


def moment(text: str | None) -> datetime | None:
    """A stored time (naive ones, written before 0.11, are UTC)."""
    if not text:
        return None
    parsed = datetime.fromisoformat(str(text))
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def stored_duration(snapshot: dict[str, Any]) -> float | None:
    value = snapshot["duration"]
    return None if value in (None, "") else float(value)


def timeline_runs(out: str, task_name: str) -> list[tuple[str, list[str]]]:
    """A task's runs in a plain timeline: each header line (or a separator between runs), and its lines
    without their times."""
    lines = out.splitlines()
    start = next(index for index, line in enumerate(lines) if line.startswith(f"{task_name}  "))
    runs: list[tuple[str, list[str]]] = []
    for line in lines[start + 1 :]:
        if line.startswith("      "):
            shown = line.strip() if line.strip().startswith("---") or line[6] == " " else line[20:].rstrip()
            runs[-1][1].append(shown)
        elif line.startswith("  "):
            runs.append((line.strip(), []))
        else:
            break
    return runs


def timeline_body(out: str, task_name: str) -> tuple[str, list[str]]:
    """The header and the lines of a task's only run."""
    (run,) = timeline_runs(out, task_name)
    return run


def without_time(line: str) -> str:
    """A logs_json entry without its `2026-11-21T19:06:47Z ` stamp (separators have none)."""
    return line if line.startswith("--- Retry") else line.split(" ", 1)[1]


def line_time(line: str) -> datetime:
    """The UTC time a logs_json entry is stamped with (`...Z` since 0.11, without the `Z` before)."""
    return datetime.fromisoformat(line.split(" ", 1)[0].removesuffix("Z")).replace(tzinfo=UTC)


# -- every store: what each command shows --------------------------------------------------------------------


def test_info_detects_the_store(store: Store) -> None:
    info = json.loads(run_cli("info", "-r", store.spec, "-o", "json").stdout)
    assert info["kind"].startswith("fastapi-taskflow (")
    assert info["model"] == "fastapi-taskflow TaskRecord"
    assert info["records"] == sum(RECORDS.values())
    for name in ("message", "exc_text", "status", "attempt", "duration", "retries_used", "queue"):
        assert name in info["columns"]
    assert "levelname" not in info["columns"]  # levels are not stored: absent, not invented


def test_ls_has_the_run_each_log_line_and_the_finish_of_every_task(store: Store) -> None:
    records = jsonl(run_cli("ls", "-r", store.spec, "-o", "jsonl").stdout)
    assert Counter((record["task_name"], record["action"]) for record in records) == RECORDS
    assert {record["run_id"] for record in records} == {str(row["task_id"]) for row in store.snapshots()}
    welcome = [record["message"] for record in records if record["task_name"] == "send_welcome"]
    assert welcome.count("Grüße an Zoë Ångström ✓") == 3
    assert "Sending welcome mail to zoë@example.com" in welcome


def test_runs_outcomes_attempts_stored_durations_and_status(store: Store) -> None:
    runs = json.loads(run_cli("runs", "-r", store.spec, "-o", "json").stdout)
    assert Counter((run["task_name"], run["outcome"], run["status"], run["attempt"]) for run in runs) == RUNS
    snapshots = {str(row["task_id"]): row for row in store.snapshots()}
    for run in runs:
        snapshot = snapshots[run["run_id"]]
        assert run["duration"] == stored_duration(snapshot), run
        assert moment(run["start"]) == moment(snapshot["start_time"])
        assert moment(run["end"]) == moment(snapshot["end_time"] or snapshot["created_at"])
    rejected = next(run for run in runs if run["status"] == "rejected")
    assert (rejected["start"], rejected["duration"]) == (None, None)
    # The stored duration spans every attempt and the delays between them.
    retried = {run["task_name"]: run["duration"] for run in runs if run["attempt"] > 1}
    assert retried["sync_invoices"] >= 2 * FAST_RETRY_DELAY
    assert retried["send_report"] >= 3 * FAST_RETRY_DELAY


def test_run_selection_by_outcome_and_status(store: Store) -> None:
    failed = json.loads(run_cli("runs", "-r", store.spec, "--failed", "-o", "json").stdout)
    statuses = ["cancelled", "failed", "failed", "interrupted", "rejected"]
    assert sorted(run["status"] for run in failed) == statuses
    rejected = jsonl(run_cli("runs", "-r", store.spec, "-w", "status=rejected", "-o", "jsonl").stdout)
    assert [run["task_name"] for run in rejected] == ["make_thumbnail"]


def test_runtimes_and_tasks_count_every_outcome(store: Store) -> None:
    runtimes = {
        row["task_name"]: row
        for row in json.loads(run_cli("runtimes", "-r", store.spec, "-o", "json").stdout)
    }
    counted = {
        name: (row["runs"], row["success"], row["fail"], row["terminate"]) for name, row in runtimes.items()
    }
    assert counted == {
        "export_csv": (1, 0, 0, 1),
        "make_thumbnail": (2, 1, 1, 0),
        "rebuild_index": (1, 0, 0, 1),
        "send_report": (1, 0, 1, 0),
        "ping_partner": (1, 0, 1, 0),
        "send_welcome": (3, 3, 0, 0),
        "sync_invoices": (1, 1, 0, 0),
    }
    assert runtimes["make_thumbnail"]["success_rate"] == 0.5
    assert runtimes["send_report"]["max"] == stored_duration(store.by_task("send_report"))
    tasks = {
        row["task_name"]: row for row in json.loads(run_cli("tasks", "-r", store.spec, "-o", "json").stdout)
    }
    assert tasks["send_welcome"]["streak"] == "success x3"
    assert tasks["send_report"]["streak"] == "fail x1"
    assert tasks["rebuild_index"]["last_outcome"] == "terminate"


def test_timeline_shows_log_lines_under_their_attempt_with_the_stored_separators(store: Store) -> None:
    assert [
        without_time(line) for line in json.loads(store.by_task("send_report")["logs_json"])
    ] == REPORT_LOGS
    assert json.loads(store.by_task("ping_partner")["logs_json"]) == ["--- Retry 1 ---", "--- Retry 2 ---"]
    tasks = ("send_report", "sync_invoices", "rebuild_index", "ping_partner")
    out = run_cli("timeline", "-r", store.spec, "-o", "plain", *tasks)
    header, body = timeline_body(out.stdout, "send_report")
    assert "fail" in header and "attempt 3" in header
    assert body == REPORT_TIMELINE
    assert timeline_body(out.stdout, "sync_invoices")[1] == INVOICE_TIMELINE
    header, body = timeline_body(out.stdout, "rebuild_index")
    assert "terminate" in header and "attempt 2" in header
    assert body == INDEX_TIMELINE
    assert timeline_body(out.stdout, "ping_partner")[1] == PING_TIMELINE


def test_invocations_of_a_task_are_runs_of_their_own_not_retries_of_each_other(store: Store) -> None:
    out = run_cli("timeline", "-r", store.spec, "-o", "plain", "send_welcome").stdout
    runs = timeline_runs(out, "send_welcome")
    assert [header.split("  attempt ")[1][0] for header, _ in runs] == ["1", "2", "1"]  # no separator between
    assert runs[1][1] == [
        "run",
        "log        Sending welcome mail to zoë@example.com",
        "--- Retry 1 ---",
        "log        Sending welcome mail to zoë@example.com",
        "log        Grüße an Zoë Ångström ✓",
        "success",
    ]


def test_full_timeline_shows_whole_lines_and_the_whole_stack_trace(store: Store) -> None:
    out = run_cli("timeline", "-r", store.spec, "-o", "plain", "--full", "send_report").stdout
    assert out.count("orders: 12") == 3
    assert "Traceback (most recent call last):" in out
    assert out.rstrip().endswith(f"ValueError: {REPORT_ERROR}")


def test_machine_timeline_has_an_attempt_per_row_and_no_separator_rows(store: Store) -> None:
    rows = jsonl(run_cli("timeline", "-r", store.spec, "-o", "jsonl", "send_report").stdout)
    assert [(row["action"], row["attempt"]) for row in rows] == [
        ("run", 1), ("log", 1), ("log", 1), ("log", 2), ("log", 2), ("log", 3), ("log", 3), ("fail", 3),
    ]  # fmt: skip
    assert [row["message"] for row in rows[1:-1]] == [line for line in REPORT_LOGS if "Retry" not in line]
    assert rows[-1]["exc_text"].rstrip().endswith(f"ValueError: {REPORT_ERROR}")


def test_grep_searches_log_lines_and_errors(store: Store) -> None:
    lines = jsonl(run_cli("ls", "-r", store.spec, "-g", "orders: 12", "-o", "jsonl").stdout)
    assert [(line["task_name"], line["action"], line["attempt"]) for line in lines] == [
        ("send_report", "log", 1), ("send_report", "log", 2), ("send_report", "log", 3),
    ]  # fmt: skip
    ledger = jsonl(run_cli("ls", "-r", store.spec, "-g", "LEDGER", "-i", "-o", "jsonl").stdout)
    assert Counter((line["task_name"], line["action"]) for line in ledger) == {
        ("sync_invoices", "log"): 2,
        ("send_report", "fail"): 1,
    }
    runs = jsonl(run_cli("runs", "-r", store.spec, "-g", "Ångström", "-o", "jsonl").stdout)
    assert [run["task_name"] for run in runs] == ["send_welcome"] * 3
    run_cli("ls", "-r", store.spec, "-g", "no such line", expect=1)


def test_tail_prints_the_last_records_in_store_order(store: Store) -> None:
    records = jsonl(run_cli("tail", "-r", store.spec, "-n", "2", "-o", "jsonl").stdout)
    assert [(record["task_name"], record["action"]) for record in records] == [
        ("send_welcome", "log"),
        ("send_welcome", "success"),
    ]
    last = max(store.snapshots(), key=lambda row: moment(row["created_at"]) or datetime.min)
    assert {record["run_id"] for record in records} == {str(last["task_id"])}


def test_log_lines_are_dated_by_their_stamps_and_the_stamp_is_not_in_the_message(store: Store) -> None:
    records = jsonl(run_cli("ls", "-r", store.spec, "-t", "send_report", "-o", "jsonl").stdout)
    lines = [record for record in records if record["action"] == "log"]
    stored = [line for line in json.loads(store.by_task("send_report")["logs_json"]) if "Retry" not in line]
    assert len(lines) == len(stored) == 6
    assert [moment(line["created"]) for line in lines] == [line_time(entry) for entry in stored]
    assert [line["message"] for line in lines] == [without_time(entry) for entry in stored]
    stamp = stored[0].split(" ", 1)[0]
    run_cli("ls", "-r", store.spec, "-g", stamp, expect=1)  # the stamp is a time, not text of the line


@pytest.mark.parametrize("fixture", [FIXTURE, FIXTURE_0_10], ids=["0.12.1", "0.10.0"])
def test_since_selects_log_lines_by_their_own_time(fixture: Path, tmp_path: Path) -> None:
    """The committed stores retry after 1 s then 2 s: the last attempt's lines are seconds after the start."""
    path = tmp_path / fixture.name
    shutil.copyfile(fixture, path)
    (report,) = [row for row in sqlite_snapshots(path)() if row["func_name"] == "send_report"]
    last = line_time(json.loads(report["logs_json"])[-1])
    assert last - moment(report["start_time"]) > timedelta(seconds=2)  # type: ignore[operator]
    since = jsonl(
        run_cli("ls", "-r", str(path), "-t", "send_report", "-S", last.isoformat(), "-o", "jsonl").stdout
    )
    assert [(record["action"], record["attempt"]) for record in since] == [
        ("log", 3),
        ("log", 3),
        ("fail", 3),
    ]
    before = jsonl(
        run_cli("ls", "-r", str(path), "-g", "Rendering", "-U", last.isoformat(), "-o", "jsonl").stdout
    )
    assert [record["attempt"] for record in before] == [1, 2]


# -- follow mode: a real tail -f process while the app writes one more task -----------------------------------


@pytest.mark.parametrize("kind", ["sqlite", pytest.param("redis", marks=pytest.mark.services)])
def test_tail_follow_prints_a_task_stored_while_it_runs(kind: str, tmp_path: Path) -> None:
    with STORES[kind](tmp_path) as made:
        command = [sys.executable, "-m", "tasklog_cli", "tail", "-f", "-n", "1", "-r", made.spec]
        process = subprocess.Popen(
            [*command, "-o", "plain", "--interval", "0.1"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        lines: queue.Queue[str] = queue.Queue()
        assert process.stdout is not None
        threading.Thread(target=lambda: [lines.put(line) for line in process.stdout], daemon=True).start()
        try:
            backlog = lines.get(timeout=10).rstrip("\n").split("\t")
            assert backlog[2] == "success"
            write_one_task(made.backend())
            new = [lines.get(timeout=10).rstrip("\n").split("\t")]
            while new[-1][2] != "success":
                new.append(lines.get(timeout=10).rstrip("\n").split("\t"))
            with pytest.raises(queue.Empty):
                new.append(lines.get(timeout=0.5))  # the tasks stored again by the restarted app: not new
        finally:
            process.send_signal(signal.SIGINT)
            _, stderr = process.communicate(timeout=10)
    assert [fields[2] for fields in new] == ["run", "log", "log", "success"]
    assert new[1][4] == "Sending welcome mail to late@example.com"
    assert len({fields[3] for fields in new}) == 1
    assert process.returncode == 0, stderr
    assert stderr == ""


@pytest.mark.parametrize("kind", ["sqlite", pytest.param("redis", marks=pytest.mark.services)])
def test_follow_sees_a_task_retried_through_the_api_that_replaces_the_original(
    kind: str, tmp_path: Path
) -> None:
    """`POST /tasks/{id}/retry` deletes the original and stores the new task: the number of stored tasks
    does not change, yet the new task's records are new."""
    with STORES[kind](tmp_path) as made:
        original = str(made.by_task("ping_partner")["task_id"])
        source = open_source(made.spec, OpenOptions())
        notes: list[str] = []
        try:
            watch = source.watch(Query(), None, notes.append)
            before = len(made.snapshots())
            assert watch.backlog(0) == []
            new_id = write_retried(made.backend(), original)
            stored = {str(row["task_id"]) for row in made.snapshots()}
            assert (len(stored), original in stored, new_id in stored) == (before, False, True)
            fresh = watch.poll()
            assert [(record.task_name, record.action, record.run_id) for record in fresh] == [
                ("ping_partner", "run", new_id),
                ("ping_partner", "fail", new_id),
            ]
            assert watch.poll() == []
        finally:
            source.close()
    assert notes == []


def test_follow_says_once_when_the_store_cannot_be_read_and_loses_nothing(tmp_path: Path) -> None:
    with sqlite_store(tmp_path) as made:
        source = open_source(made.spec, OpenOptions())
        notes: list[str] = []
        try:
            watch = source.watch(Query(), None, notes.append)

            def rename(old: str, new: str) -> None:
                connection = sqlite3.connect(made.spec)
                connection.execute(f"ALTER TABLE {old} RENAME TO {new}")
                connection.commit()
                connection.close()

            rename("task_snapshots", "hidden_snapshots")
            assert (watch.poll(), watch.poll()) == ([], [])
            assert len(notes) == 1
            assert "no such table: task_snapshots" in notes[0]
            rename("hidden_snapshots", "task_snapshots")
            write_one_task(made.backend())
            gc.collect()
            fresh = watch.poll()
            assert [record.action for record in fresh] == ["run", "log", "log", "success"]
            assert notes[1:] == [f"reading {made.spec} again"]
        finally:
            source.close()


# -- SQLite: detection, read-only, older stores ---------------------------------------------------------------


def file_state(path: Path) -> tuple[str, int]:
    return hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime_ns


def test_reading_leaves_the_store_file_as_it_was(committed: Path) -> None:
    before = file_state(committed)
    spec = str(committed)
    for args in (
        ("info",), ("ls",), ("runs",), ("runtimes",), ("tasks",), ("tail", "-n", "3"),
        ("timeline", "send_report", "--full"), ("ls", "-g", "Totals", "--sort", "created"),
    ):  # fmt: skip
        run_cli(args[0], "-r", spec, *args[1:], "-o", "plain")
    assert file_state(committed) == before
    assert FIXTURE.with_name("taskflow.db-wal").exists() is False


@pytest.mark.parametrize(
    "spec",
    [
        "{path}",
        "sqlite:///{path}",
        "sqlite:///{path}?table=task_snapshots",
        "sqlite:///{path}#task_snapshots",
    ],
)
def test_detected_from_a_path_or_a_url(committed: Path, spec: str) -> None:
    info = json.loads(run_cli("info", "-r", spec.format(path=committed), "-o", "json").stdout)
    assert (info["kind"], info["table"], info["records"]) == (
        "fastapi-taskflow (sqlite)",
        "task_snapshots",
        sum(RECORDS.values()),
    )


def test_detected_from_the_content_of_a_file_without_extension(committed: Path) -> None:
    bare = committed.with_name("history")
    shutil.copyfile(committed, bare)
    assert (
        json.loads(run_cli("info", "-r", str(bare), "-o", "json").stdout)["kind"]
        == "fastapi-taskflow (sqlite)"
    )


def test_a_rocketry_table_beside_the_snapshots_is_preferred_unless_the_table_is_named(
    committed: Path,
) -> None:
    connection = sqlite3.connect(committed)
    connection.execute("CREATE TABLE tasks (task_name TEXT, action TEXT, created REAL)")
    connection.execute("INSERT INTO tasks VALUES ('nightly', 'run', 1795000000.0)")
    connection.commit()
    connection.close()
    assert json.loads(run_cli("info", "-r", str(committed), "-o", "json").stdout)["table"] == "tasks"
    info = json.loads(run_cli("info", "-r", str(committed), "--table", "task_snapshots", "-o", "json").stdout)
    assert (info["kind"], info["records"]) == ("fastapi-taskflow (sqlite)", sum(RECORDS.values()))


def test_naive_times_written_before_0_11_are_utc(committed: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    expected = run_cli("runs", "-r", str(committed), "-o", "json").stdout
    connection = sqlite3.connect(committed)
    connection.execute(
        "UPDATE task_snapshots SET created_at = replace(created_at, '+00:00', ''),"
        " start_time = replace(start_time, '+00:00', ''), end_time = replace(end_time, '+00:00', '')"
    )
    connection.commit()
    connection.close()
    assert "+00:00" not in str(sqlite_snapshots(committed)()[0]["start_time"])
    monkeypatch.setenv("TZ", "Asia/Tokyo")  # naive times are UTC whatever the local zone
    time.tzset()
    try:
        assert run_cli("runs", "-r", str(committed), "-o", "json").stdout == expected
    finally:
        monkeypatch.setenv("TZ", "UTC")
        time.tzset()


def test_level_is_not_a_field_of_these_stores(committed: Path) -> None:
    result = run_cli("ls", "-r", str(committed), "--level", "INFO", expect=2)
    assert_one_error_line(result, "levelname")


# -- the committed 0.12.1 store, value by value (tests/data/taskflow/README.md) -------------------------------


def test_committed_store_runs_as_its_readme_says(committed: Path) -> None:
    runs = json.loads(run_cli("runs", "-r", str(committed), "-o", "json").stdout)
    assert [
        (run["task_name"], run["status"], run["attempt"], run["duration"], run["start"], run["end"]) for run in runs
    ] == [
        ("send_welcome", "success", 1, 0.000287, "2026-11-21T20:28:32.442100+00:00", "2026-11-21T20:28:32.442387+00:00"),
        ("send_welcome", "success", 2, 1.001971, "2026-11-21T20:28:32.445962+00:00", "2026-11-21T20:28:33.447933+00:00"),
        ("sync_invoices", "success", 3, 2.002798, "2026-11-21T20:28:32.448665+00:00", "2026-11-21T20:28:34.451463+00:00"),
        ("send_report", "failed", 3, 3.003896, "2026-11-21T20:28:32.450940+00:00", "2026-11-21T20:28:35.454836+00:00"),
        ("ping_partner", "failed", 3, 2.002736, "2026-11-21T20:28:32.453341+00:00", "2026-11-21T20:28:34.456077+00:00"),
        ("export_csv", "cancelled", 1, 0.007434, "2026-11-21T20:28:32.455142+00:00", "2026-11-21T20:28:32.462576+00:00"),
        ("rebuild_index", "interrupted", 2, 3.011328, "2026-11-21T20:28:32.456742+00:00", "2026-11-21T20:28:35.468070+00:00"),
        ("make_thumbnail", "rejected", 1, None, None, "2026-11-21T20:28:32.458752+00:00"),
        ("make_thumbnail", "success", 1, 0.004074, "2026-11-21T20:28:32.458926+00:00", "2026-11-21T20:28:32.463000+00:00"),
        ("send_welcome", "success", 1, 0.000131, "2026-11-21T20:28:35.464424+00:00", "2026-11-21T20:28:35.464555+00:00"),
    ]  # fmt: skip
    assert Counter(run["outcome"] for run in runs) == {"success": 5, "fail": 3, "terminate": 2}


def test_committed_store_timelines_of_the_failed_tasks(committed: Path) -> None:
    out = run_cli("timeline", "-r", str(committed), "-o", "plain", "ping_partner", "send_report").stdout
    assert [line.rstrip() for line in out.splitlines()] == [
        "ping_partner  1 of 1 runs",
        "  2026-11-21 20:28:32.453  fail           2.0s  attempt 3  run #1  id eaf378a3-7d0f-427f-a697-769a4b8c0f86",
        "      20:28:32.453  run",
        "      --- Retry 1 ---",
        "      --- Retry 2 ---",
        "      20:28:34.456  fail       no answer from https://partner.example",
        "                             TimeoutError: no answer from https://partner.example",
        "",
        "send_report  1 of 1 runs",
        "  2026-11-21 20:28:32.450  fail           3.0s  attempt 3  run #1  id 7706062d-305f-49b9-b103-2e118fd3d46e",
        "      20:28:32.450  run",
        "      20:28:32      log        Rendering report for 2026-11-20",
        "      20:28:32      log        Totals: …",
        "      --- Retry 1 ---",
        "      20:28:33      log        Rendering report for 2026-11-20",
        "      20:28:33      log        Totals: …",
        "      --- Retry 2 ---",
        "      20:28:35      log        Rendering report for 2026-11-20",
        "      20:28:35      log        Totals: …",
        f"      20:28:35.454  fail       {REPORT_ERROR}",
        f"                             ValueError: {REPORT_ERROR}",
    ]


# -- Redis: URLs and errors ------------------------------------------------------------------------------------


def test_unreachable_redis_is_one_line_without_the_password() -> None:
    result = run_cli("ls", "-r", "redis://:s3cret@127.0.0.1:1/0", expect=3)
    assert_one_error_line(result, "cannot connect to redis://:***@127.0.0.1:1/0")
    assert "s3cret" not in result.stderr


@pytest.mark.services
def test_redis_without_the_index_set_is_not_a_taskflow_store() -> None:
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as exc:
        skip_or_fail(f"no Redis server at {REDIS_URL}: {exc}")
    finally:
        client.close()
    prefix = f"tasklog-test-{uuid.uuid4().hex[:8]}:nothing"
    result = run_cli("runs", "-r", f"{REDIS_URL}?prefix={prefix}", expect=3)
    assert_one_error_line(result, "not a fastapi-taskflow store", f"{prefix}:_index")


def test_redis_needs_the_redis_package(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "redis", None)  # as if it were not installed
    result = run_cli("ls", "-r", REDIS_URL, expect=3)
    assert_one_error_line(result, "pip install 'tasklog[redis]'")


# -- a task interrupted in attempt 2 and run again from scratch after a restart (requeue_on_interrupt) --------

REQUEUED = DATA / "taskflow" / "requeued.db"
# Only the lines of the run after the restart, all of the final attempt: the store has no separator.
REQUEUED_TIMELINE = [
    "run",
    "log        Reindexing shard 3 after the restart",
    "log        Catalog reindexed",
    "success",
]


def requeued_copy(folder: Path) -> Path:
    path = folder / "requeued.db"
    shutil.copyfile(REQUEUED, path)
    return path


def test_committed_requeued_store_shows_no_separator_it_does_not_have(tmp_path: Path) -> None:
    path = requeued_copy(tmp_path)
    (snapshot,) = sqlite_snapshots(path)()
    assert (snapshot["status"], snapshot["retries_used"]) == ("success", 1)
    assert [without_time(line) for line in json.loads(snapshot["logs_json"])] == [
        "Reindexing shard 3 after the restart",
        "Catalog reindexed",
    ]
    out = run_cli("timeline", "-r", str(path), "-o", "plain", "reindex_catalog").stdout
    assert [line.rstrip() for line in out.splitlines()] == [
        "reindex_catalog  1 of 1 runs",
        "  2026-12-01 13:52:24.607  success         0ms  attempt 2  run #1  id dd50063d-80d9-4c88-b51f-2e1eed512d94",
        "      13:52:24.607  run",
        "      13:52:24      log        Reindexing shard 3 after the restart",
        "      13:52:24      log        Catalog reindexed",
        "      13:52:24.607  success",
    ]
    rows = jsonl(run_cli("timeline", "-r", str(path), "-o", "jsonl", "reindex_catalog").stdout)
    assert [(row["action"], row["attempt"]) for row in rows] == [
        ("run", 2), ("log", 2), ("log", 2), ("success", 2),
    ]  # fmt: skip
    (run,) = json.loads(run_cli("runs", "-r", str(path), "-o", "json").stdout)
    assert (run["outcome"], run["attempt"], run["duration"]) == ("success", 2, 7.5e-05)


def test_requeued_task_written_now_by_the_library_has_its_lines_in_the_final_attempt(tmp_path: Path) -> None:
    path = tmp_path / "requeued.db"
    write_requeued(lambda: SqliteBackend(str(path)))
    gc.collect()
    (snapshot,) = sqlite_snapshots(path)()
    assert (snapshot["status"], snapshot["retries_used"]) == ("success", 1)
    assert not any(line.startswith("--- Retry") for line in json.loads(snapshot["logs_json"]))
    out = run_cli("timeline", "-r", str(path), "-o", "plain", "reindex_catalog").stdout
    header, body = timeline_body(out, "reindex_catalog")
    assert "success" in header and "attempt 2" in header
    assert body == REQUEUED_TIMELINE
