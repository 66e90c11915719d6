"""Driving `tasklog ui` headless with Textual's pilot: a dashboard on a real store, keys, screen text."""

import asyncio
import io
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from rich.console import Console
from textual.pilot import Pilot
from textual.widgets import DataTable

from tasklog_cli.api import open_repo
from tasklog_cli.ui.app import Dashboard, Settings
from tasklog_cli.ui.query_text import ViewFilter
from tasklog_cli.ui.store import Store
from tasklog_cli.ui.view import View

# The demo's last record is at 08:04:19 UTC on 2025-03-04: "now" is a while after it, fixed.
CLOCK = datetime(2025, 3, 4, 9, 0, tzinfo=UTC)
SIZES = {"80x24": (80, 24), "160x50": (160, 50)}


def dashboard(
    spec: str,
    view: ViewFilter | None = None,
    *,
    live: bool = False,
    interval: float = 0.05,
    repo_arg: str = "",
) -> Dashboard:
    """A dashboard on a store, in UTC, at a fixed clock; following it only when `live`."""
    settings = Settings(repo_arg or spec, UTC, lambda: CLOCK, interval=interval, live=live)
    repo = open_repo(spec)
    repo.clock = lambda: CLOCK  # `-S 1h` is an hour before the fixed clock too
    return Dashboard(Store(repo, retry_window="10m"), settings, view or ViewFilter())


async def settle(pilot: Pilot[Any]) -> None:
    """Wait until every fetch has finished and its data is on the screen."""
    for _ in range(1000):
        await pilot.pause()
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        views = [screen for screen in pilot.app.screen_stack if isinstance(screen, View)]
        measuring = [  # a table sizes its columns when it is idle: the screen waits for that too
            table for view in views for table in view.query(DataTable) if table._require_update_dimensions
        ]
        if (
            all(view.loaded for view in views)
            and not measuring
            and not any(w.is_running for w in pilot.app.workers)
        ):
            await pilot.pause(0.05)  # a repaint, before another screen may cover this one
            return
        await pilot.pause(0.01)


async def keys(pilot: Pilot[Any], *pressed: str) -> None:
    """Press keys one by one, letting each view load before the next key."""
    for key in pressed:
        await pilot.press(key)
        await settle(pilot)


def screen_text(app: Dashboard) -> str:
    """The screen as plain text, as Textual's own screenshot export draws it."""
    width, height = app.size
    console = Console(width=width, height=height, file=io.StringIO(), record=True, force_terminal=True)
    console.print(app.screen._compositor.render_update(full=True, screen_stack=app._background_screens))
    return console.export_text()


def drive(
    app: Dashboard, script: Callable[[Pilot[Any]], Awaitable[Any]], size: tuple[int, int] = (80, 24)
) -> Any:
    """Run the app headless at a size, run the script against it, close it; return what the script did."""

    async def main() -> Any:
        try:
            async with app.run_test(size=size) as pilot:
                await settle(pilot)
                return await script(pilot)
        finally:
            app.stop_following()
            app.store.repo.close()

    return asyncio.run(main())


async def wait_for(pilot: Pilot[Any], condition: Callable[[], bool], polls: int = 200) -> None:
    """Let the app run until a condition holds (the follow thread is polling a real file meanwhile)."""
    for _ in range(polls):
        if condition():
            return
        await pilot.pause(0.05)
    raise AssertionError("the dashboard never got there")
