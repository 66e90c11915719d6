"""Values as people read them, without Rich: local times, human durations, safe one-line cells, sparklines."""

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from tasklog_cli.render.layout import FLEXIBLE_COLUMNS
from tasklog_cli.render.safe import visible
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
# Times as tables show them, by precision; a column shortens to the next one when it must (never below
# minutes: a table always shows the date, year included).
TIME_PATTERNS = {
    "ms": "%Y-%m-%d %H:%M:%S.%f",
    "s": "%Y-%m-%d %H:%M:%S",
    "min": "%Y-%m-%d %H:%M",
    "day": "%Y-%m-%d",
}
SHORTER_PRECISION = {"ms": "s", "s": "min"}
# Text columns that hold a traceback: the last line (the exception) is the one that says what happened.
TRACEBACK_FIELDS = frozenset({"exc_text"})


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


def time_text(moment: datetime, zone: Zone, precision: str = "ms") -> str:
    """A time in the display zone, to the millisecond, second, minute or day."""
    text = in_zone(moment, zone).strftime(TIME_PATTERNS[precision])
    return text[:-3] if precision == "ms" else text


def precision_of(moments: Iterable[datetime]) -> str:
    """Milliseconds when some time has a fraction of a second, else seconds (whole-second stores)."""
    return "ms" if any(moment.microsecond for moment in moments) else "s"


def relative_text(moment: datetime, now: datetime) -> str:
    """A time as how long ago it was (`5m 03s ago`), or how far ahead (`in 2h 00m`)."""
    seconds = (now - moment).total_seconds()
    if seconds < 0:
        return f"in {human_duration(-seconds)}"
    return f"{human_duration(seconds)} ago"


def zone_label(moments: Iterable[datetime], zone: Zone) -> str:
    """The zone's abbreviations over some times (`EET/EEST` across a DST change), for a column header."""
    names: list[str] = []
    for moment in moments:
        name = in_zone(moment, zone).tzname() or ""
        if name not in names:
            names.append(name)
    return "/".join(name for name in names if name)


def one_line(text: str, name: str = "") -> str:
    """Text as one safe line: its first line, marked when more follow; a traceback's last line."""
    lines = [line for line in text.strip().splitlines() if line.strip()]
    if not lines:
        return ""
    if name in TRACEBACK_FIELDS:
        return visible(lines[-1].strip())
    more = len(lines) - 1
    return visible(lines[0]) + (f" [+{more} line{'s' if more > 1 else ''}]" if more else "")


def human_value(value: Any, zone: Zone, name: str = "") -> str:
    """A value as a table shows it: local time to the millisecond, human durations, one safe line (the
    first line of free text, every character of a name)."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return time_text(value, zone)
    if isinstance(value, timedelta):
        return human_duration(value.total_seconds())
    if name in DURATION_FIELDS and isinstance(value, int | float):
        return human_duration(value)
    if isinstance(value, float):
        return f"{value:.6g}"
    text = str(value)
    if text.isprintable():
        return text
    return one_line(text, name) if name in FLEXIBLE_COLUMNS else visible(text)
