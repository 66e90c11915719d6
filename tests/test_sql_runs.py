"""`runs` paired by the database's window functions answers exactly what Python's pairing answers, on
SQLite, PostgreSQL and MariaDB: retry attempts, runs left open, finishes without their run, ties across
tasks, and the histories the functions cannot pair (those tasks are paired in Python and merged in)."""

import random
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from test_index import history
from test_services import SERVERS, reachable

from tasklog_cli.api import open_repo
from tasklog_cli.query import Query
from tasklog_cli.results import Run
from tasklog_cli.sources.sql import paired
from tasklog_cli.sources.sql.table import SqlSource

START = 1_790_000_000.0
Item = dict[str, Any]


def regular_history(seed: int) -> list[Item]:
    """Tasks the window functions pair: retry chains, a finish whose run was cut off, a run left open,
    two tasks that start at the same moments."""
    rng = random.Random(seed)
    items: list[Item] = [{"task_name": "chained", "action": "fail", "created": START - 9, "run_id": "gone"}]
    moment = START
    for number in range(200):
        outcome = rng.choice(["success", "fail", "fail", "terminate", "inaction"])
        end = moment + rng.uniform(0.5, 60)
        for task in ("chained", "twin"):
            items.append({"task_name": task, "action": "run", "created": moment, "run_id": f"{task}{number}"})
            items.append({"task_name": task, "action": outcome, "created": end, "run_id": f"{task}{number}"})
        moment = end + rng.choice([1.0, 30.0, 599.0, 601.0, 3000.0])
    items.append({"task_name": "chained", "action": "run", "created": moment, "run_id": "open"})
    return sorted(items, key=lambda item: item["created"])


def fill(engine: sa.Engine, name: str, items: list[Item]) -> sa.Table:
    table = sa.Table(
        name, sa.MetaData(),
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("task_name", sa.String(100)), sa.Column("action", sa.String(20)),
        sa.Column("created", sa.Double), sa.Column("run_id", sa.String(64)),
    )  # fmt: skip
    table.create(engine)
    with engine.begin() as connection:
        connection.execute(table.insert(), items)
    return table


@pytest.fixture(params=["sqlite", "postgresql", "mysql"])
def database(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[sa.Engine, str]]:
    """A database that pairs in SQL (only PostgreSQL does by default: the SQL is proven on all three)."""
    monkeypatch.setattr(paired, "PAIRED_IN", frozenset({request.param}))
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'runs.db'}"
        engine = sa.create_engine(url)
    else:
        url = SERVERS[request.param]
        engine = reachable(url)
    yield engine, url
    engine.dispose()


def in_python(monkeypatch: pytest.MonkeyPatch, spec: str, **options: Any) -> tuple[list[Run], int]:
    with monkeypatch.context() as patch:
        patch.setattr(SqlSource, "pushed_runs", lambda *args: None)
        with open_repo(spec, index=False) as repo:
            return repo.runs(**options), repo.skipped


SELECTIONS: list[dict[str, Any]] = [
    {}, {"reverse": True}, {"last": 7}, {"last": 5, "reverse": True}, {"failed": True},
    {"outcome": ["running", "success"]}, {"last": 3, "failed": True, "task": ["twin", "flaky", "chain*"]},
    {"since": "@1790003000", "until": "@1790020000"}, {"run_id": ["twin7", "steady-3", "1"]},
    {"retry_window": "0"}, {"retry_window": "2h", "last": 40},
]  # fmt: skip


@pytest.mark.services
@pytest.mark.parametrize("seed", [1, 2])
def test_paired_in_the_database_as_in_python(
    database: tuple[sa.Engine, str], monkeypatch: pytest.MonkeyPatch, seed: int
) -> None:
    engine, url = database
    name = f"tasklog_runs_{uuid.uuid4().hex[:8]}"
    table = fill(engine, name, regular_history(seed) + history(seed, hours=3))
    try:
        spec = f"{url}#{name}"
        with open_repo(spec, index=False) as repo:
            pushed = repo.source.pushed_runs(Query(), timedelta(minutes=10), (), None, False)
            assert pushed is not None
            irregular, regular = pushed
            paired_there = {run.task_name for run in regular}
        assert {"chained", "twin", "steady"} <= paired_there and {"no_id", "crashy"} <= set(irregular)
        for options in SELECTIONS:
            with open_repo(spec, index=False) as repo:
                found = repo.runs(**options)
            expected, _ = in_python(monkeypatch, spec, **options)
            assert found == expected, options
        assert max(run.attempt for run in found) > 1
    finally:
        table.drop(engine)


@pytest.mark.services
def test_a_row_python_skips_leaves_the_pairing_to_python(
    database: tuple[sa.Engine, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A task with a bad value is paired in Python (which counts the row); a nameless row makes the whole
    table Python's."""
    engine, url = database
    name = f"tasklog_runs_{uuid.uuid4().hex[:8]}"
    items = regular_history(3)
    items.append({"task_name": "twin", "action": "success", "created": None, "run_id": "twin3"})
    table = fill(engine, name, items)
    try:
        spec = f"{url}#{name}"
        with open_repo(spec, index=False) as repo:
            pushed = repo.source.pushed_runs(Query(), timedelta(minutes=10), (), None, False)
            assert pushed is not None and pushed[0] == ["twin"]
            assert list(pushed[1])  # read to its end: its connection is released (MySQL's DROP waits)
            assert repo.runs() == in_python(monkeypatch, spec)[0] and repo.skipped == 1
        with engine.begin() as connection:
            connection.execute(
                table.insert(), [{"task_name": "", "action": "run", "created": START, "run_id": "x"}]
            )
        with open_repo(spec, index=False) as repo:
            assert repo.source.pushed_runs(Query(), timedelta(minutes=10), (), None, False) is None
    finally:
        table.drop(engine)
