"""Task names that a collation calls equal (case, accents, trailing spaces) stay distinct tasks on every SQL
store: `info`, `ls`, `runs`, `runtimes`, `tasks` and `--where` compare text byte for byte."""

import json
import sqlite3
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from conftest import run_cli
from test_services import SERVERS, reachable

# Distinct Rocketry tasks that utf8mb4_general_ci (and MariaDB's PAD SPACE utf8mb4_bin) merge.
LOOKALIKES = ("cafe", "café", "Mixed Case", "mixed case", "trailing space ", "trailing space")


def lookalike_rows() -> list[dict[str, Any]]:
    """Per task: runs that succeed (2 s, 4 s...) in a number of its own, so every count tells tasks apart."""
    rows: list[dict[str, Any]] = []
    moment = 1_795_000_000.0
    for number, task in enumerate(LOOKALIKES, start=1):
        for run in range(number):
            run_id = f"{task}-{run}"
            rows.append({"task_name": task, "action": "run", "created": moment, "run_id": run_id,
                         "message": f"{task} started"})  # fmt: skip
            duration = 2.0 * number
            rows.append({"task_name": task, "action": "success", "created": moment + duration,
                         "run_id": run_id, "message": f"{task} done"})  # fmt: skip
            moment += 100.0
    return rows


def expected_counts() -> dict[str, int]:
    return {task: 2 * number for number, task in enumerate(LOOKALIKES, start=1)}


def check_exact(spec: str) -> None:
    """Every command sees six tasks with their own counts."""
    info = json.loads(run_cli("info", "-r", spec, "-o", "json").stdout)
    assert info["tasks"] == dict(sorted(expected_counts().items()))
    for number, task in enumerate(LOOKALIKES, start=1):
        records = [
            json.loads(line)
            for line in run_cli("ls", "-r", spec, "-t", task, "-o", "jsonl").stdout.splitlines()
        ]
        assert {record["task_name"] for record in records} == {task}
        assert len(records) == 2 * number
        tail = run_cli("tail", "-r", spec, "-t", task, "-n", "1", "-o", "jsonl").stdout.splitlines()
        assert [json.loads(line)["task_name"] for line in tail] == [task]
        where = run_cli(
            "ls", "-r", spec, "--where", f"message={task} done", "-o", "jsonl"
        ).stdout.splitlines()
        assert len(where) == number
        runs = run_cli("runs", "-r", spec, "-t", task, "-o", "jsonl").stdout.splitlines()
        assert len(runs) == number
    runtimes = [
        json.loads(line) for line in run_cli("runtimes", "-r", spec, "-o", "jsonl").stdout.splitlines()
    ]
    assert {row["task_name"]: (row["runs"], row["mean"]) for row in runtimes} == {
        task: (number, 2.0 * number) for number, task in enumerate(LOOKALIKES, start=1)
    }
    tasks = [json.loads(line) for line in run_cli("tasks", "-r", spec, "-o", "jsonl").stdout.splitlines()]
    assert Counter(row["task_name"] for row in tasks) == Counter(LOOKALIKES)
    not_cafe = run_cli("ls", "-r", spec, "--where", "task_name!=cafe", "-o", "jsonl").stdout.splitlines()
    assert len(not_cafe) == sum(expected_counts().values()) - 2


def test_sqlite_nocase_column(tmp_path: Path) -> None:
    path = tmp_path / "log.db"
    with sqlite3.connect(path) as connection:
        connection.execute(
            "CREATE TABLE tasks (id INTEGER PRIMARY KEY, task_name TEXT COLLATE NOCASE, action TEXT COLLATE"
            " NOCASE, created REAL, run_id TEXT COLLATE NOCASE, message TEXT COLLATE NOCASE)"
        )
        connection.executemany(
            "INSERT INTO tasks (task_name, action, created, run_id, message)"
            " VALUES (:task_name, :action, :created, :run_id, :message)",
            lookalike_rows(),
        )
    check_exact(str(path))


@pytest.fixture
def server_table(request: pytest.FixtureRequest) -> Iterator[str]:
    """A table on a real server whose text columns use the collation that merges the look-alikes."""
    dialect, collation = request.param
    engine = reachable(SERVERS[dialect])
    name = f"tasklog_collation_{uuid.uuid4().hex[:8]}"
    with engine.begin() as connection:
        if dialect == "mysql":
            text = f"VARCHAR(255) CHARACTER SET utf8mb4 COLLATE {collation}"
            connection.execute(sa.text(
                f"CREATE TABLE {name} (id INTEGER AUTO_INCREMENT PRIMARY KEY, task_name {text},"
                f" action {text}, created DOUBLE, run_id {text}, message {text})"
            ))  # fmt: skip
        else:
            connection.execute(sa.text(
                f"CREATE COLLATION IF NOT EXISTS {collation} "
                "(provider = icu, locale = 'und-u-ks-level1', deterministic = false)"
            ))  # fmt: skip
            text = f'TEXT COLLATE "{collation}"'
            connection.execute(sa.text(
                f"CREATE TABLE {name} (id SERIAL PRIMARY KEY, task_name {text}, action {text},"
                f" created DOUBLE PRECISION, run_id {text}, message {text})"
            ))  # fmt: skip
        table = sa.Table(name, sa.MetaData(), autoload_with=connection)
        connection.execute(table.insert(), lookalike_rows())
    try:
        yield f"{SERVERS[dialect]}#{name}"
    finally:
        with engine.begin() as connection:
            connection.execute(sa.text(f"DROP TABLE {name}"))
        engine.dispose()


@pytest.mark.services
@pytest.mark.parametrize(
    "server_table",
    [
        ("mysql", "utf8mb4_general_ci"),
        ("mysql", "utf8mb4_bin"),  # MariaDB's is PAD SPACE: 'a ' = 'a'
        ("mysql", "utf8mb4_unicode_520_ci"),
        ("postgresql", "tasklog_ignore_case_and_accents"),
    ],
    indirect=True,
    ids=str,
)
def test_server_collations_merge_no_tasks(server_table: str) -> None:
    check_exact(server_table)


@pytest.mark.services
@pytest.mark.parametrize("server_table", [("mysql", "utf8mb4_general_ci")], indirect=True, ids=str)
def test_the_collation_really_merges_them(server_table: str) -> None:
    """The store is as hostile as claimed: its own GROUP BY sees fewer tasks than there are."""
    url, name = server_table.split("#")
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            groups = connection.execute(sa.text(f"SELECT task_name FROM {name} GROUP BY task_name")).all()
    finally:
        engine.dispose()
    assert len(groups) < len(LOOKALIKES)
