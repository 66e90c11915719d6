"""Rocketry app that writes the tasklog test fixtures and the demo log.

Run only inside the throw-away venv made by ``make_rocketry_fixtures.py``
(it needs rocketry 2.5.1, redbird 0.7.1, pydantic 1 and SQLAlchemy 1.4).
One invocation is one scheduler process; the driver script starts it twice
per log ("first" is SIGKILLed mid-run, "restart" shuts down cleanly) so
that Rocketry itself writes the ``crash`` rows at the second start-up.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import json
import logging
import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm  # redbird's SQLRepo needs sqlalchemy.orm loaded
from redbird import BaseRepo
from redbird.logging import RepoHandler
from redbird.repos import CSVFileRepo, MemoryRepo, SQLRepo
from rocketry import Rocketry
from rocketry.args import TerminationFlag
from rocketry.conds import daily, every, retry, scheduler_running
from rocketry.exc import TaskInactionException, TaskTerminationException
from rocketry.log import MinimalRecord, MinimalRunRecord, RunRecord, TaskRunRecord
from rocketry.tasks.run_id import increment

# Task names of the fixture app (the README of tests/data/rocketry lists them).
QUOTED_NAME = 'say "hi", wörld ✓'
QUOTED_FAIL_NAME = 'fails, "loudly" ✗'

# Set by main() before the scheduler starts; threads and forked processes see them.
PHASE = "first"
MARKER: Path | None = None
CLOCK_REAL_ORIGIN = 0.0
CLOCK_FAKE_ORIGIN = 0.0
CLOCK_SPEED = 1.0
_CALLS: dict[str, int] = {}

Base = sqlalchemy.orm.declarative_base()


class TaskRow(Base):  # type: ignore[misc, valid-type]
    """Declared ``tasks`` table of task_run.db (TaskRunRecord columns + id).

    Passed to SQLRepo as ``model_orm``: with ``table="tasks"`` Red Bird would
    automap the table back from SQLite, where Interval is stored as DATETIME,
    and then reject the timedelta ``runtime`` of every finish row.
    """

    __tablename__ = "tasks"
    id = sa.Column(sa.Integer, primary_key=True, autoincrement=True)
    created = sa.Column(sa.Float, nullable=False)
    task_name = sa.Column(sa.Text, nullable=False)
    action = sa.Column(sa.String(16), nullable=False)
    start = sa.Column(sa.DateTime)
    end = sa.Column(sa.DateTime)
    runtime = sa.Column(sa.Interval)
    message = sa.Column(sa.Text)
    exc_text = sa.Column(sa.Text)
    run_id = sa.Column(sa.String(64))


def accelerated_time() -> float:
    """Session clock of the demo: starts at CLOCK_FAKE_ORIGIN, runs CLOCK_SPEED times faster."""
    return CLOCK_FAKE_ORIGIN + (time.time() - CLOCK_REAL_ORIGIN) * CLOCK_SPEED


def count_call(name: str) -> int:
    """Count calls of a task function within this process (1-based)."""
    _CALLS[name] = _CALLS.get(name, 0) + 1
    return _CALLS[name]


def mark_running(name: str) -> None:
    """Tell the driver that the task to be killed mid-run is running."""
    if MARKER is not None:
        MARKER.write_text(f"{name}\n", encoding="utf-8")


def real_sleep_for(fake_seconds: float) -> float:
    """Real seconds that last ``fake_seconds`` on the session clock."""
    return fake_seconds / CLOCK_SPEED


# --------------------------------------------------------------------------
# Fixture tasks (real clock)
# --------------------------------------------------------------------------


def parse_row(row: str) -> list[str]:
    """Fail with a message full of commas and quotes (two frames deep)."""
    fields = row.split(",")
    if len(fields) != len(("a", "b")):
        raise ValueError(f'bad row {row!r}: expected "a,b", got {len(fields)} fields, ünïcödé')
    return fields


def succeeds() -> dict[str, int]:
    """Plain successful async task."""
    return {"rows": 3}


def say_hi() -> str:
    """Successful task with quotes, a comma and non-ASCII in its name."""
    return 'said "hi", wörld'


def fails_loudly() -> None:
    """Fail with a multi-line traceback."""
    parse_row('x,"y",z')


def flaky_retry() -> None:
    """Fail on calls 1-3, succeed on call 4, repeat (start_cond has retry(2))."""
    n = count_call("flaky_retry")
    if n % 4 != 0:
        raise ConnectionError(f'attempt {n}: upstream said "503, try later"')


def nothing_to_do() -> None:
    """Report inaction every time."""
    raise TaskInactionException("no new files, nothing to do")


def timeout_process() -> None:
    """Process task that sleeps past its timeout (Rocketry terminates it)."""
    time.sleep(30)


def timeout_thread(flag: Any = TerminationFlag()) -> None:  # noqa: B008
    """Thread task that honours the termination flag after its timeout."""
    for _ in range(300):
        if flag.is_set():
            raise TaskTerminationException()
        time.sleep(0.05)


async def timeout_async() -> None:
    """Async task cancelled by its timeout."""
    await asyncio.sleep(30)


def process_ok() -> str:
    """Short successful process task."""
    time.sleep(0.5)
    return "done"


def process_fails() -> None:
    """Process task that fails with a traceback."""
    time.sleep(0.2)
    parse_row("only-one-field")


def blocking_main() -> None:
    """Blocks the scheduler loop, so queued process records are written late."""
    time.sleep(1.5)


def multilaunch_sleep() -> None:
    """Overlapping runs of a multilaunch task."""
    time.sleep(5)


def long_running() -> None:
    """Run until the driver SIGKILLs the app (first phase only)."""
    if PHASE == "first":
        mark_running("long_running")
        time.sleep(90)
    else:
        time.sleep(1)


def add_fixture_tasks(app: Rocketry) -> None:
    """Register the fixture tasks."""
    app.task(every("3 seconds"), name="succeeds", execution="async")(succeeds)
    app.task(every("4 seconds"), name=QUOTED_NAME, execution="thread")(say_hi)
    app.task(every("5 seconds"), name=QUOTED_FAIL_NAME, execution="thread")(fails_loudly)
    app.task(every("12 seconds") | retry(2), name="flaky_retry", execution="async")(flaky_retry)
    app.task(every("4 seconds"), name="nothing_to_do", execution="async")(nothing_to_do)
    app.task(every("8 seconds"), name="timeout_process", execution="process", timeout=1.5)(timeout_process)
    app.task(every("8 seconds"), name="timeout_thread", execution="thread", timeout=1.5)(timeout_thread)
    app.task(every("10 seconds"), name="timeout_async", execution="async", timeout=1.5)(timeout_async)
    app.task(every("3 seconds"), name="process_ok", execution="process")(process_ok)
    app.task(every("7 seconds"), name="process_fails", execution="process")(process_fails)
    app.task(every("6 seconds"), name="blocking_main", execution="main")(blocking_main)
    app.task(every("2 seconds"), name="multilaunch_uuid", execution="thread", multilaunch=True)(
        multilaunch_sleep
    )
    app.task(
        every("2 seconds"),
        name="multilaunch_increment",
        execution="thread",
        multilaunch=True,
        func_run_id=increment,
    )(multilaunch_sleep)
    app.task(
        every("10 minutes") & scheduler_running(more_than="8 seconds"),
        name="long_running",
        execution="thread",
    )(long_running)


# --------------------------------------------------------------------------
# Demo tasks (accelerated clock)
# --------------------------------------------------------------------------


def fetch_prices() -> dict[str, float]:
    """Every 9th call fails like a flaky HTTP API."""
    n = count_call("fetch_prices")
    time.sleep(real_sleep_for(8))
    if n % 9 == 0:
        raise ConnectionError(
            'GET https://api.example.com/prices?symbols=AAPL,MSFT failed: 503 "Service Unavailable"'
        )
    return {"AAPL": 189.3, "MSFT": 411.2}


def sync_users() -> int:
    """Every 4th call finds nothing to sync (inaction)."""
    n = count_call("sync_users")
    time.sleep(real_sleep_for(40))
    if n % 4 == 0:
        raise TaskInactionException("no changed users since last sync")
    return 12


OVERRUN_HOURS = frozenset({19, 23, 3, 7})  # rebuild_search_index runs every 2 h
IMPORT_ORDERS_OUTCOMES = "SFFSSFFF"  # chains per hour: S, F-F-S, S, F-F-F (retry exhausted)


def import_orders() -> int:
    """Follow IMPORT_ORDERS_OUTCOMES; failures raise a KeyError deep in a parser."""
    n = count_call("import_orders")
    time.sleep(real_sleep_for(60))
    if IMPORT_ORDERS_OUTCOMES[(n - 1) % len(IMPORT_ORDERS_OUTCOMES)] == "F":
        order: dict[str, str] = {"id": "A-1001", "customer": 'Smith, "Bob"'}
        return int(order["total_eur"])
    return 42


def nightly_report() -> str:
    """Long-ish process task."""
    time.sleep(real_sleep_for(25 * 60))
    return "report.pdf"


def send_digest() -> None:
    """Plain success."""
    time.sleep(real_sleep_for(20))


def cleanup_tmp() -> int:
    """Two calls out of three find nothing to clean (inaction)."""
    n = count_call("cleanup_tmp")
    time.sleep(real_sleep_for(5))
    if n % 3 != 0:
        raise TaskInactionException("nothing to clean in /tmp/app")
    return 17


def rebuild_search_index() -> None:
    """Overrun the 20 min timeout when started at 19, 23, 03 or 07 o'clock.

    A process task: a call counter would restart in every child, so the
    session clock decides.
    """
    hour = datetime.datetime.fromtimestamp(accelerated_time()).hour
    overrun = hour in OVERRUN_HOURS
    time.sleep(real_sleep_for(45 * 60 if overrun else 8 * 60))


def backup_database() -> None:
    """Hangs in the first phase so that the driver kills the app mid-backup."""
    if PHASE == "first":
        mark_running("backup_database")
        time.sleep(90)
    else:
        time.sleep(real_sleep_for(12 * 60))


def check_disk_space() -> float:
    """Cheap heartbeat task."""
    return 0.42


def add_demo_tasks(app: Rocketry) -> None:
    """Register the demo tasks."""
    app.task(every("10 minutes"), name="fetch_prices", execution="async")(fetch_prices)
    app.task(every("15 minutes"), name="sync_users", execution="thread")(sync_users)
    app.task(every("1 hour") | retry(2), name="import_orders", execution="thread")(import_orders)
    app.task(daily.at("02:00"), name="nightly_report", execution="process")(nightly_report)
    app.task(daily.at("07:00"), name="send_digest", execution="async")(send_digest)
    app.task(every("30 minutes"), name="cleanup_tmp", execution="async")(cleanup_tmp)
    app.task(every("2 hours"), name="rebuild_search_index", execution="process", timeout="20 minutes")(
        rebuild_search_index
    )
    app.task(
        every("6 hours") & scheduler_running(more_than="30 minutes"),
        name="backup_database",
        execution="thread",
    )(backup_database)
    app.task(every("5 minutes"), name="check_disk_space", execution="async")(check_disk_space)


# --------------------------------------------------------------------------
# Stores
# --------------------------------------------------------------------------


def fixture_repos(out: Path) -> tuple[BaseRepo, list[BaseRepo], MemoryRepo]:
    """Create every store; returns (main repo, other repos, memory repo).

    The main repo (task_run.csv) is the one Rocketry reads back for its own
    conditions (retry, every) and for crash detection at start-up.
    """
    main = CSVFileRepo(filename=out / "task_run.csv", model=TaskRunRecord)
    tasks_engine = sa.create_engine(f"sqlite:///{out / 'task_run.db'}")
    Base.metadata.create_all(tasks_engine)
    logs_engine = sa.create_engine(f"sqlite:///{out / 'minimal.db'}")
    memory = MemoryRepo(model=TaskRunRecord)
    others: list[BaseRepo] = [
        CSVFileRepo(filename=out / "minimal.csv", model=MinimalRecord),
        CSVFileRepo(filename=out / "minimal_run.csv", model=MinimalRunRecord),
        CSVFileRepo(filename=out / "run.csv", model=RunRecord),
        SQLRepo(engine=tasks_engine, model_orm=TaskRow, model=TaskRunRecord),
        SQLRepo(
            engine=logs_engine,
            table="logs",
            if_missing="create",
            model=MinimalRunRecord,
            id_field="created",
        ),
        memory,
    ]
    return main, others, memory


def dump_memory(repo: MemoryRepo, path: Path) -> None:
    """Write the MemoryRepo as a JSON array (only this process's records).

    The first process is SIGKILLed and never dumps, so memory.json holds the
    restarted process's history only, starting with its ``crash`` rows.
    """
    records = repo.filter_by().all()
    path.write_text(json.dumps([r.dict() for r in records], default=str), encoding="utf-8")


def parse_args() -> argparse.Namespace:
    """Command line of one scheduler process."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mode", choices=("fixtures", "demo"), required=True)
    parser.add_argument("--phase", choices=("first", "restart"), required=True)
    parser.add_argument("--out", type=Path, required=True, help="fixture dir or demo CSV path")
    parser.add_argument("--marker", type=Path, help="file written when the task to kill runs")
    parser.add_argument("--run-seconds", type=float, default=90.0, help="real seconds until exit")
    parser.add_argument("--clock-real-origin", type=float, default=0.0)
    parser.add_argument("--clock-fake-origin", type=str, default="2025-03-03T19:00:00")
    parser.add_argument("--clock-speed", type=float, default=600.0)
    return parser.parse_args()


def main() -> None:
    """Build the app for the given mode and phase and run it."""
    global PHASE, MARKER, CLOCK_REAL_ORIGIN, CLOCK_FAKE_ORIGIN, CLOCK_SPEED  # noqa: PLW0603
    args = parse_args()
    PHASE = args.phase
    MARKER = args.marker
    memory: MemoryRepo | None = None
    config: dict[str, Any] = {"cycle_sleep": 0.1}
    if args.mode == "fixtures":
        main_repo, others, memory = fixture_repos(args.out)
        run_seconds = args.run_seconds
    else:
        CLOCK_REAL_ORIGIN = args.clock_real_origin or time.time()
        CLOCK_FAKE_ORIGIN = datetime.datetime.fromisoformat(args.clock_fake_origin).timestamp()
        CLOCK_SPEED = args.clock_speed
        config["time_func"] = accelerated_time
        main_repo, others = CSVFileRepo(filename=args.out, model=TaskRunRecord), []
        run_seconds = args.run_seconds * CLOCK_SPEED

    app = Rocketry(logger_repo=main_repo, config=config)
    task_logger = logging.getLogger("rocketry.task")
    for repo in others:
        task_logger.addHandler(RepoHandler(repo=repo))
    app.session.config.shut_cond = scheduler_running(more_than=f"{int(run_seconds)} seconds")

    if args.mode == "fixtures":
        add_fixture_tasks(app)
    else:
        add_demo_tasks(app)
    try:
        app.run()
    finally:
        if memory is not None:
            dump_memory(memory, args.out / "memory.json")


if __name__ == "__main__":
    main()
