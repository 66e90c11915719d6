"""The dashboard's pure parts: harmless log text, the filter bar's syntax, the time chart's drawing."""

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from rich.text import Text
from textual.pilot import Pilot
from textual.widgets import DataTable
from ui_pilot import dashboard, drive, keys, screen_text

from tasklog_cli.errors import UsageError
from tasklog_cli.render.safe import visible
from tasklog_cli.results import Run
from tasklog_cli.ui.chart import Window, draw_lane, lanes, tick_step
from tasklog_cli.ui.query_text import ViewFilter, cli_command, parse_filter

EVIL = "[link=https://evil.example]click[/link] [bold red]x\x1b]8;;http://e\x07\x1b[2J\u202eevil\x9b31m"


def test_control_characters_escapes_and_bidi_controls_are_shown_not_obeyed() -> None:
    shown = visible(EVIL)
    assert shown == (
        "[link=https://evil.example]click[/link] [bold red]x\\x1b]8;;http://e\\x07\\x1b[2J\\u202eevil\\x9b31m"
    )


def test_a_task_name_with_markup_and_escapes_shows_as_text_in_every_view(tmp_path: Path) -> None:
    log = tmp_path / "evil.csv"
    name = EVIL.replace(",", ";")
    log.write_text(
        "task_name,action,created,run_id,message\r\n"
        f'"{name}",run,1741000000,1,"{name}"\r\n"{name}",fail,1741000005,1,"boom {name}"\r\n'
    )

    async def script(pilot: Pilot[Any]) -> list[str]:
        screens = []
        for pressed in ((), ("enter",), ("enter",), ("escape", "g"), ("escape", "escape", "l")):
            await keys(pilot, *pressed)
            table_cells = [
                cell for table in pilot.app.screen.query(DataTable) for cell in table.get_row_at(0)
            ]
            assert all(isinstance(cell, Text) for cell in table_cells)  # never markup strings
            screens.append(screen_text(pilot.app))  # type: ignore[arg-type]
        return screens

    for screen in drive(dashboard(str(log)), script, (200, 30)):
        assert "\x1b" not in screen and "\u202e" not in screen and "\x9b" not in screen
        assert "[link=https://evil.example]click[/link]" in screen or "[link=https://evil.exa" in screen


def test_the_filter_bar_reads_what_the_cli_takes() -> None:
    view = parse_filter(
        "-t 'nightly_*' -a fail -S 2h --until=now -g Time -i -w 'run_id = 3' --level WARNING x"
    )
    assert view == ViewFilter(
        task=("nightly_*", "x"), action=("fail",), since="2h", until="now", grep="Time", ignore_case=True,
        where=("run_id = 3",), level="WARNING",
    )  # fmt: skip
    assert parse_filter(view.text()) == view
    assert parse_filter("") == ViewFilter()


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("--bogus", "unknown option '--bogus'"),
        ("-t", "-t needs a value"),
        ("-g 'open", "No closing quotation"),
    ],
)
def test_a_bad_filter_is_a_usage_error_naming_it(text: str, fragment: str) -> None:
    with pytest.raises(UsageError, match=fragment):
        parse_filter(text)


def test_time_presets_step_all_1h_24h_7d_and_a_typed_range_goes_back_to_all() -> None:
    steps = [ViewFilter()]
    for _ in range(4):
        steps.append(steps[-1].next_time_preset())
    assert [step.since for step in steps] == [None, "1h", "24h", "7d", None]
    assert ViewFilter(since="yesterday", until="today").next_time_preset() == ViewFilter()


def test_the_cli_command_hides_a_password() -> None:
    assert cli_command("tasks", "postgresql://me:secret@db/app", "-t", "a b") == (
        "tasklog tasks -r 'postgresql://me:***@db/app' -t 'a b'"
    )


def run(start: float | None, end: float | None, outcome: str = "success", attempt: int = 1) -> Run:
    def moment(epoch: float | None) -> datetime | None:
        return None if epoch is None else datetime.fromtimestamp(epoch, UTC)

    duration = None if start is None or end is None else end - start
    return Run("t", None, moment(start), moment(end), duration, outcome, attempt)


def test_overlapping_runs_take_lanes_and_the_rest_share_one() -> None:
    laid = lanes([run(0, 10), run(5, 15), run(12, 20), run(30, 40)], now=100)
    assert [(name, [item.start.timestamp() for item in lane if item.start]) for name, lane in laid] == [
        ("t", [0.0, 12.0, 30.0]),
        ("", [5.0]),
    ]


def test_a_lane_draws_outcomes_retries_crashes_and_running_runs() -> None:
    window = Window(0, 100)
    lane = draw_lane(
        [run(0, 20), run(30, 40, "fail", attempt=2), run(50, None, "crash")], window, 10, now=100
    )
    assert lane.plain == "██ ▓ ✕    "
    assert draw_lane([run(90, None, "running")], window, 10, now=100).plain == "         █"
    assert draw_lane([run(0, 0.1)], window, 10, now=100).plain == "▏         "


def test_ticks_leave_room_for_their_labels() -> None:
    assert tick_step(Window(0, 3600), 120) == 600
    assert tick_step(Window(0, 7 * 86400), 80) == 86400 * 7
    assert Window(0, 100).zoomed(0.5) == Window(25, 75)
    assert Window(0, 100).shifted(-0.25) == Window(-25, 75)
    assert Window(0, 1).zoomed(0.01).span == 1.0


def test_relative_times_say_ago() -> None:
    from tasklog_cli.ui.cells import ago

    now = datetime(2025, 1, 1, tzinfo=UTC)
    assert ago(now - timedelta(minutes=3, seconds=4), now).plain == "3m 04s ago"
    assert ago(None, now).plain == "never"
