"""Every view and key of `tasklog ui`, driven headless on real Rocketry logs; screens compared as text."""

import os
from pathlib import Path
from typing import Any

import pytest
from conftest import assert_golden
from textual.pilot import Pilot
from ui_pilot import SIZES, dashboard, drive, keys, screen_text

# Each screen, and the keys that reach it from the tasks view (the demo's worst task is first).
SCREENS = {
    "tasks": (),
    "runs": ("enter",),
    "timeline": ("enter", "enter"),
    "chart_all": ("g",),
    "chart_task": ("enter", "g"),
    "chart_zoomed": ("enter", "g", "plus", "plus", "left"),
    "tail": ("l",),
    "help": ("question_mark",),
    "command": ("enter", "c"),
    "filter": ("slash",),
}


@pytest.mark.parametrize("size", sorted(SIZES))
@pytest.mark.parametrize("name", sorted(SCREENS))
def test_screen_matches_its_golden_text(name: str, size: str) -> None:
    async def script(pilot: Pilot[Any]) -> str:
        await keys(pilot, *SCREENS[name])
        return screen_text(pilot.app)  # type: ignore[arg-type]

    assert_golden(f"ui/{name}_{size}.txt", drive(dashboard("demo"), script, SIZES[size]))


DOCS_SCREENSHOT = Path(__file__).parent.parent / "docs" / "tasklog-ui.svg"


def test_the_readme_screenshot_is_textuals_own_export_of_the_tasks_view() -> None:
    async def script(pilot: Pilot[Any]) -> str:
        return pilot.app.export_screenshot(title="tasklog ui -r demo")

    svg = drive(dashboard("demo"), script, (120, 16))
    if os.environ.get("UPDATE_GOLDEN") == "1":
        DOCS_SCREENSHOT.parent.mkdir(exist_ok=True)
        DOCS_SCREENSHOT.write_text(svg, encoding="utf-8")
    assert svg == DOCS_SCREENSHOT.read_text(encoding="utf-8")
    assert "import_orders" in svg and "fail&#160;x3" in svg
