"""Values as people read them, without Rich: local times, human durations, one-line cells, sparklines."""

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from tasklog_cli.results import DURATION_FIELDS
from tasklog_cli.times import Zone, human_duration, in_zone, iso_utc

OUTCOME_STYLES = {
    "success": "green",
    "fail": "red",
    "crash": "red",
    "terminate": "yellow",
    "inaction": "yellow",
    "run": "cyan",
    "running": "cyan",
}
SPARK_BLOCKS = "▁▂▃▄▅▆▇█"
# Local time as a table shows it, from the fullest form to the shortest, the longest that fits is used.
TIME_FORMATS = (
    "%Y-%m-%d %H:%M:%S.%f",
    "%m-%d %H:%M:%S.%f",
    "%Y-%m-%d %H:%M:%S",
    "%m-%d %H:%M:%S",
    "%H:%M:%S",
)


def machine_value(value: Any) -> Any:
    """A value as machine formats carry it: UTC ISO times, durations in seconds."""
    if isinstance(value, datetime):
        return iso_utc(value)
    if isinstance(value, timedelta):
        return value.total_seconds()
    return value


def machine_text(value: Any) -> str:
    """A value as one field of plain, tsv or csv output."""
    if type(value) is str:
        return value
    value = machine_value(value)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def sparkline(values: Sequence[float]) -> str:
    """Values as block heights between their minimum and maximum."""
    if not values:
        return ""
    low, high = min(values), max(values)
    scale = (len(SPARK_BLOCKS) - 1) / (high - low) if high > low else 0
    return "".join(SPARK_BLOCKS[round((value - low) * scale)] for value in values)


def human_time(moment: datetime, zone: Zone, width: int | None = None) -> str:
    """Local time to the millisecond, shortened (year, then milliseconds, then the date) to fit `width`."""
    local = in_zone(moment, zone)
    text = ""
    for pattern in TIME_FORMATS:
        text = local.strftime(pattern)
        text = text[:-3] if pattern.endswith("%f") else text
        if width is None or len(text) <= width:
            break
    return text


def human_value(value: Any, zone: Zone, name: str = "") -> str:
    """A value as a table shows it: local time to the millisecond, human durations, one line."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return human_time(value, zone)
    if isinstance(value, timedelta):
        return human_duration(value.total_seconds())
    if name in DURATION_FIELDS and isinstance(value, int | float):
        return human_duration(value)
    if isinstance(value, float):
        return f"{value:.6g}"
    text = str(value)
    first, newline, _ = text.strip().partition("\n")
    return first + " …" if newline else first
