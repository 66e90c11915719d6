"""`tasklog ui` following a store while a writer appends to it: rows change and flash, views refresh."""

import shutil
import sqlite3
import time
from pathlib import Path
from typing import Any

from conftest import ROCKETRY
from textual.pilot import Pilot
from textual.widgets import DataTable
from ui_pilot import dashboard, drive, keys, wait_for

from tasklog_cli.ui.cells import FLASH_STYLE
from tasklog_cli.ui.screens import TasksView


def row_of(pilot: Pilot[Any], name: str) -> list[Any]:
    table = pilot.app.screen.query_one(DataTable)
    return table.get_row(name)


def flashing(pilot: Pilot[Any], name: str) -> bool:
    return any(FLASH_STYLE in str(span.style) for span in row_of(pilot, name)[0].spans)


def append_csv(path: Path, *rows: str) -> None:
    with path.open("a", newline="") as log:
        log.write("".join(row + "\r\n" for row in rows))


def test_a_finished_run_changes_its_task_row_which_flashes_then_settles(tmp_path: Path) -> None:
    log = tmp_path / "logs.csv"
    shutil.copy(ROCKETRY / "task_run.csv", log)
    header = log.read_text().splitlines()[0].split(",")

    def row(**values: Any) -> str:
        return ",".join(str(values.get(name, "")) for name in header)

    async def script(pilot: Pilot[Any]) -> tuple[list[str], list[str]]:
        assert isinstance(pilot.app.screen, TasksView)
        names = [row.health.task_name for row in pilot.app.screen.rows]
        task = names[-1]
        before = [cell.plain for cell in row_of(pilot, task)]
        now = time.time()
        append_csv(log, row(task_name=task, action="run", created=now, run_id="live-1"))
        append_csv(log, row(task_name=task, action="fail", created=now + 2, run_id="live-1"))
        await wait_for(pilot, lambda: row_of(pilot, task)[1].plain == "fail")
        assert flashing(pilot, task)
        await wait_for(pilot, lambda: not flashing(pilot, task))
        return before, [cell.plain for cell in row_of(pilot, task)]

    before, after = drive(dashboard(str(log), live=True), script)
    assert after[1] == "fail" and after[2] == "fail x1"
    assert before[1] != "fail"


def test_the_live_tail_shows_new_records_of_a_sqlite_table_as_they_are_written(tmp_path: Path) -> None:
    database = tmp_path / "app.db"
    shutil.copy(ROCKETRY / "task_run.db", database)

    async def script(pilot: Pilot[Any]) -> tuple[str, str]:
        await keys(pilot, "l")
        table = pilot.app.screen.query_one(DataTable)
        with sqlite3.connect(database) as connection:
            connection.execute(
                "INSERT INTO tasks (task_name, action, created, run_id) VALUES (?, 'run', ?, 'sql-live')",
                ("written_now", time.time()),
            )
        await wait_for(pilot, lambda: table.get_row_at(0)[1].plain == "written_now")
        last = table.get_row_at(0)
        return last[2].plain, last[3].plain

    assert drive(dashboard(str(database), live=True), script) == ("run", "sql-live")


def test_a_paused_tail_waits_and_catches_up_on_resume(tmp_path: Path) -> None:
    log = tmp_path / "logs.csv"
    shutil.copy(ROCKETRY / "minimal_run.csv", log)

    async def script(pilot: Pilot[Any]) -> tuple[str, str]:
        await keys(pilot, "l", "p")
        table = pilot.app.screen.query_one(DataTable)
        count = table.row_count
        append_csv(log, f"paused_task,run,{time.time()},p-1")
        await wait_for(pilot, lambda: getattr(pilot.app.screen, "missed", 0) > 0)
        held = table.row_count == count
        await keys(pilot, "p")
        await wait_for(pilot, lambda: table.get_row_at(0)[1].plain == "paused_task")
        return str(held), table.get_row_at(0)[2].plain

    assert drive(dashboard(str(log), live=True), script) == ("True", "run")
