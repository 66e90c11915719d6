"""`tasklog ui` starts on every kind of store and shows what the API says of it; timelines by attempt."""

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import ROCKETRY
from test_services import server_table  # noqa: F401 (fixtures: real PostgreSQL and MariaDB tables)
from test_taskflow import Store, store  # noqa: F401 (fixtures: real fastapi-taskflow stores)
from textual.pilot import Pilot
from textual.widgets import DataTable
from ui_pilot import dashboard, drive, keys

from tasklog_cli.api import open_repo
from tasklog_cli.sources.redbird import load_redbird
from tasklog_cli.ui.screens import TimelineView


def shown_tasks(spec: str, *args: str) -> list[str]:
    """The task names of the tasks view, top to bottom."""

    async def script(pilot: Pilot[Any]) -> list[str]:
        table = pilot.app.screen.query_one(DataTable)
        return [table.get_row_at(row)[0].plain for row in range(table.row_count)]

    return drive(dashboard(spec), script)


def api_tasks(spec: str) -> list[str]:
    with open_repo(spec) as repo:
        return sorted(row.task_name for row in repo.tasks())


@pytest.fixture
def json_folder(tmp_path: Path) -> Path:
    """A JSONDirectoryRepo folder written by Red Bird."""
    folder = tmp_path / "repo"
    repo = load_redbird().repos.JSONDirectoryRepo(path=folder, id_field="id", model=dict)
    repo.create()
    for number, (task, action, created) in enumerate(
        [("a", "run", 1.0), ("a", "fail", 2.0), ("b", "run", 3.0)]
    ):
        repo.add(
            {"id": f"r{number}", "task_name": task, "action": action, "created": created, "run_id": None}
        )
    return folder


@pytest.fixture
def user_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A `module:attr` Red Bird repo made by user code."""
    (tmp_path / "uirepos.py").write_text(
        "from tasklog_cli.sources.redbird import load_redbird\n"
        "ITEMS = [dict(task_name='a', action='run', created=1.0), dict(task_name='a', action='success', created=2.0)]\n"
        "repo = load_redbird().repos.MemoryRepo(collection=ITEMS, model=dict)\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    yield "uirepos:repo"
    sys.modules.pop("uirepos", None)


@pytest.mark.parametrize(
    "spec",
    [
        "demo",
        str(ROCKETRY / "task_run.csv"),
        str(ROCKETRY / "minimal.csv"),
        str(ROCKETRY / "task_run.db"),
        f"sqlite:///{ROCKETRY / 'minimal.db'}",
        str(ROCKETRY / "memory.json"),
    ],
)
def test_file_stores_show_every_task_the_api_knows(spec: str) -> None:
    assert sorted(shown_tasks(spec)) == api_tasks(spec)


def test_json_folders_user_repos_and_config_names(
    json_folder: Path, user_module: str, isolated_env: Path
) -> None:
    assert shown_tasks(str(json_folder)) == ["a", "b"]  # a failed: worst first
    assert shown_tasks(user_module) == ["a"]
    (isolated_env / "tasklog.toml").write_text(f'[repos.mine]\nurl = "{ROCKETRY / "task_run.csv"}"\n')
    assert sorted(shown_tasks("mine")) == api_tasks(str(ROCKETRY / "task_run.csv"))


def test_sql_servers(server_table: tuple[str, str]) -> None:  # noqa: F811
    url, table = server_table
    spec = f"{url}#{table}"
    assert sorted(shown_tasks(spec)) == api_tasks(spec)


def test_fastapi_taskflow_timelines_show_log_lines_by_attempt(store: Store) -> None:  # noqa: F811
    async def script(pilot: Pilot[Any]) -> tuple[list[str], str]:
        table = pilot.app.screen.query_one(DataTable)
        names = [table.get_row_at(row)[0].plain for row in range(table.row_count)]
        table.move_cursor(row=names.index("sync_invoices"))
        await keys(pilot, "enter", "enter")
        assert isinstance(pilot.app.screen, TimelineView)
        return names, "\n".join(line.plain for line in pilot.app.screen.lines)

    names, timeline = drive(dashboard(store.spec), script)
    assert sorted(names) == api_tasks(store.spec)
    assert "--- Retry 1 ---" in timeline and "--- Retry 2 ---" in timeline
    assert "Posting batch 7 (attempt 2)" in timeline
