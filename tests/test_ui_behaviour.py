"""What the keys of `tasklog ui` do: open, go back, filter, time ranges, the CLI command, copy, quit."""

import shutil
from pathlib import Path
from typing import Any

import pytest
from conftest import ROCKETRY
from textual.pilot import Pilot
from textual.widgets import DataTable
from ui_pilot import dashboard, drive, keys, screen_text, settle

from tasklog_cli.ui.app import Dashboard
from tasklog_cli.ui.chart_view import ChartView
from tasklog_cli.ui.modals import CommandBox, FilterBar, KeysHelp
from tasklog_cli.ui.query_text import ViewFilter
from tasklog_cli.ui.screens import RunsView, TailView, TasksView, TimelineView
from tasklog_cli.ui.view import View


def board(pilot: Pilot[Any]) -> Dashboard:
    return pilot.app  # type: ignore[return-value]


def first_column(pilot: Pilot[Any]) -> list[str]:
    table = pilot.app.screen.query_one(DataTable)
    return [table.get_row_at(row)[0].plain for row in range(table.row_count)]


def command_after(*pressed: str, view: ViewFilter | None = None) -> str:
    async def script(pilot: Pilot[Any]) -> str:
        await keys(pilot, *pressed, "c")
        box = pilot.app.screen
        assert isinstance(box, CommandBox)
        return box.command

    return drive(dashboard("demo", view), script)


def test_every_view_is_reached_by_keys_and_escape_goes_back() -> None:
    async def script(pilot: Pilot[Any]) -> list[str]:
        seen = []
        path = ("enter", "enter", "escape", "g", "escape", "escape", "g", "escape", "l", "escape")
        for key in (*path, "escape"):
            await keys(pilot, key)
            seen.append(type(pilot.app.screen).__name__)
        return seen

    assert drive(dashboard("demo"), script) == [
        "RunsView", "TimelineView", "RunsView", "ChartView", "RunsView", "TasksView", "ChartView",
        "TasksView", "TailView", "TasksView", "TasksView",
    ]  # fmt: skip


def test_tasks_are_worst_first_and_enter_opens_the_selected_task() -> None:
    async def script(pilot: Pilot[Any]) -> tuple[list[str], str]:
        names = first_column(pilot)
        await keys(pilot, "down", "enter")
        screen = pilot.app.screen
        assert isinstance(screen, RunsView)
        return names, screen.task_name

    names, opened = drive(dashboard("demo"), script)
    assert names[:2] == ["import_orders", "fetch_prices"]  # failing streaks first, the longest first
    assert sorted(names) == sorted(
        ["import_orders", "fetch_prices", "rebuild_search_index", "backup_database", "check_disk_space",
         "cleanup_tmp", "nightly_report", "send_digest", "sync_users"]
    )  # fmt: skip
    assert opened == "fetch_prices"


def test_a_retry_chain_opens_as_one_timeline_with_its_separators() -> None:
    async def script(pilot: Pilot[Any]) -> str:
        await keys(pilot, "enter", "enter")  # import_orders' newest run: attempt 3 of a chain
        assert isinstance(pilot.app.screen, TimelineView)
        return "\n".join(line.plain for line in pilot.app.screen.lines)

    text = drive(dashboard("demo"), script)
    assert text.count("--- Retry") == 2
    assert "attempt 1" in text and "attempt 3" in text
    assert "KeyError: 'total_eur'" in text and "Traceback (most recent call last):" in text


def test_y_copies_the_timeline_as_text() -> None:
    async def script(pilot: Pilot[Any]) -> str:
        await keys(pilot, "enter", "enter", "y")
        return pilot.app.clipboard

    copied = drive(dashboard("demo"), script)
    assert copied.startswith("import_orders  3 of 29 runs\n")
    assert "\x1b" not in copied


def test_the_filter_bar_takes_the_cli_syntax_and_every_view_applies_it() -> None:
    async def script(pilot: Pilot[Any]) -> tuple[list[str], list[str], str]:
        await keys(pilot, "slash")
        assert isinstance(pilot.app.screen, FilterBar)
        await pilot.press(*"-t 'fetch_*' -t import_orders")
        await keys(pilot, "enter")
        tasks = first_column(pilot)
        await keys(pilot, "l")
        tail = sorted(set(_column(pilot, 1)))
        return tasks, tail, screen_text(board(pilot)).splitlines()[0]

    tasks, tail, title = drive(dashboard("demo"), script)
    assert tasks == ["import_orders", "fetch_prices"]
    assert tail == ["fetch_prices", "import_orders"]
    assert "filter: -t 'fetch_*' -t" in title


def _column(pilot: Pilot[Any], position: int) -> list[str]:
    table = pilot.app.screen.query_one(DataTable)
    return [table.get_row_at(row)[position].plain for row in range(table.row_count)]


def test_action_keeps_runs_with_that_outcome_and_tasks_whose_last_run_had_it() -> None:
    async def script(pilot: Pilot[Any]) -> tuple[list[str], set[str]]:
        tasks = first_column(pilot)
        await keys(pilot, "enter")
        return tasks, {cell.split(" ")[0] for cell in _column(pilot, 1)}

    tasks, outcomes = drive(dashboard("demo", ViewFilter(action=("fail",))), script)
    assert tasks == ["import_orders", "fetch_prices"]
    assert outcomes == {"fail"}


def test_a_bad_filter_is_said_in_the_bar_and_changes_nothing() -> None:
    async def script(pilot: Pilot[Any]) -> tuple[str, str, ViewFilter]:
        await keys(pilot, "slash")
        await pilot.press(*"--bogus 1", "enter")
        await settle(pilot)
        said = screen_text(board(pilot))
        await pilot.press("escape")
        await keys(pilot, "slash")
        await pilot.press(*"-w 'nope = 1'", "enter")
        await settle(pilot)
        return said, screen_text(board(pilot)), board(pilot).view

    said, status, view = drive(dashboard("demo"), script)
    assert "filter: unknown option '--bogus'" in said
    assert "nope" in status and "--where" in status
    assert view == ViewFilter()


def test_t_steps_through_the_time_ranges() -> None:
    async def script(pilot: Pilot[Any]) -> list[tuple[str | None, int]]:
        steps = []
        for _ in range(4):
            await keys(pilot, "t")
            steps.append((board(pilot).view.since, len(first_column(pilot))))
        return steps

    # The clock is 09:00: within the hour only check_disk_space (08:00:59) and fetch_prices (08:03:05) ran.
    assert drive(dashboard("demo"), script) == [("1h", 2), ("24h", 9), ("7d", 9), (None, 9)]


def test_c_shows_the_equivalent_tasklog_command_of_each_view() -> None:
    assert command_after() == "tasklog tasks -r demo"
    fetches = ViewFilter(task=("fetch_*",), since="2h")
    assert command_after(view=fetches) == "tasklog tasks -r demo -t 'fetch_*' -S 2h"
    assert command_after("enter", view=ViewFilter(action=("fail",))) == (
        "tasklog runs -r demo -t import_orders --outcome fail"
    )
    assert command_after("enter", "enter") == (
        "tasklog timeline -r demo import_orders --full -S 2025-03-04T07:35:05.383445+00:00 "
        "-U 2025-03-04T07:40:20.771454+00:00"
    )
    assert command_after("l", view=ViewFilter(action=("fail",))) == "tasklog tail -r demo -f -a fail"
    assert command_after("g", "plus") == (  # the newest half of the demo's history
        "tasklog runs -r demo -S 2025-03-04T00:34:10.978231+00:00 -U 2025-03-04T08:22:19.446848+00:00"
    )


def test_the_chart_zooms_and_scrolls_in_time() -> None:
    async def script(pilot: Pilot[Any]) -> list[tuple[float, float]]:
        await keys(pilot, "enter", "g")
        chart = pilot.app.screen
        assert isinstance(chart, ChartView) and chart.window is not None
        windows = [(chart.window.start, chart.window.span)]
        for key in ("plus", "right", "minus", "left", "home"):
            await keys(pilot, key)
            windows.append((chart.window.start, chart.window.span))
        return windows

    (start, span), zoomed, later, out, earlier, whole = drive(dashboard("demo"), script)
    assert zoomed == pytest.approx((start + span / 2, span / 2))  # at the latest runs: the end stays
    assert later == pytest.approx((zoomed[0] + zoomed[1] / 4, zoomed[1]))
    assert out[1] == pytest.approx(span) and earlier[0] < out[0]
    assert whole == (start, span)


def test_the_chart_stacks_overlapping_runs_of_one_task_in_lanes(tmp_path: Path) -> None:
    log = tmp_path / "multilaunch.csv"
    records = []  # multilaunch: runs 1, 2 and 3 overlap, then run id 1 again, alone
    for run_id, begin, end in (("1", 100, 400), ("2", 200, 500), ("3", 300, 350), ("1", 600, 700)):
        records += [(begin, "run", run_id), (end, "success", run_id)]
    rows = [f"batch,{action},{1741000000 + at},{run_id}" for at, action, run_id in sorted(records)]
    log.write_text("\r\n".join(["task_name,action,created,run_id", *rows]) + "\r\n")

    async def script(pilot: Pilot[Any]) -> list[str]:
        await keys(pilot, "g")
        return screen_text(board(pilot)).splitlines()[1:5]

    lanes = drive(dashboard(str(log)), script)
    assert lanes[0].startswith("batch ") and lanes[1].startswith("      ") and lanes[2].startswith("      ")
    assert all("█" in lane for lane in lanes[:3])
    assert "┴" in lanes[3]


def test_the_live_tail_pauses_and_resumes() -> None:
    async def script(pilot: Pilot[Any]) -> tuple[bool, bool]:
        await keys(pilot, "l", "p")
        screen = pilot.app.screen
        assert isinstance(screen, TailView)
        paused = screen.paused
        await keys(pilot, "space")
        return paused, screen.paused

    assert drive(dashboard("demo"), script) == (True, False)


def test_help_lists_the_keys_and_closes() -> None:
    async def script(pilot: Pilot[Any]) -> tuple[str, str]:
        await keys(pilot, "question_mark")
        assert isinstance(pilot.app.screen, KeysHelp)
        text = screen_text(board(pilot))
        await keys(pilot, "escape")
        return text, type(pilot.app.screen).__name__

    text, after = drive(dashboard("demo"), script)
    assert "Ctrl-C quit" in text and "+ - zoom" in text and "p or Space pause" in text
    assert after == "TasksView"


def test_q_and_ctrl_c_quit_with_exit_0_from_any_view() -> None:
    for pressed in (("q",), ("enter", "enter", "q"), ("ctrl+c",), ("slash", "ctrl+c"), ("g", "ctrl+c")):

        async def script(pilot: Pilot[Any], pressed: tuple[str, ...] = pressed) -> None:
            await keys(pilot, *pressed)

        app = dashboard("demo")
        drive(app, script)
        assert app.return_value == 0, pressed
        assert not app.is_running


def test_q_in_the_filter_bar_is_a_letter_not_quit() -> None:
    async def script(pilot: Pilot[Any]) -> str:
        await keys(pilot, "slash", "q")
        return str(pilot.app.screen.query_one("#filter").value)  # type: ignore[attr-defined]

    assert drive(dashboard("demo"), script) == "q"


def test_a_store_that_goes_away_shows_a_status_line_and_recovers(tmp_path: Path) -> None:
    log = tmp_path / "logs.csv"
    shutil.copy(ROCKETRY / "task_run.csv", log)
    hidden = tmp_path / "elsewhere.csv"

    async def script(pilot: Pilot[Any]) -> tuple[str, str, int]:
        log.rename(hidden)
        await keys(pilot, "t")  # any read of the store
        gone = screen_text(board(pilot)).splitlines()[-2]
        hidden.rename(log)
        for _ in range(100):
            await pilot.pause(0.1)
            await settle(pilot)
            if not board(pilot).failing:
                break
        return gone, screen_text(board(pilot)).splitlines()[-2], len(first_column(pilot))

    gone, back, rows = drive(dashboard(str(log)), script)
    assert gone.startswith("retrying every 3s: ") and "No such file" in gone
    assert "the store answers again" in back
    assert rows > 0


def test_the_views_are_views() -> None:
    assert all(issubclass(kind, View) for kind in (TasksView, RunsView, ChartView, TimelineView, TailView))


def test_the_mouse_works_too_clicking_a_row_twice_opens_it() -> None:
    async def script(pilot: Pilot[Any]) -> str:
        for _ in range(2):  # the first click selects the row, the second opens it
            await pilot.click(DataTable, offset=(3, 3))
            await settle(pilot)
        screen = pilot.app.screen
        assert isinstance(screen, RunsView)
        return screen.task_name

    assert drive(dashboard("demo"), script) == "rebuild_search_index"
