"""Convert the raw values a store holds (CSV text, JSON, SQL types) into typed Python values."""

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from tasklog_cli.models import ColumnKind
from tasklog_cli.times import Zone, attach_zone

_EPOCH_NAIVE = datetime(1970, 1, 1)
# The moments every zone can show (years 1 to 9999, a few days in): NaN, infinities and the rest are no time.
EPOCH_MIN, EPOCH_MAX = -62_135_000_000.0, 253_402_000_000.0
_TIMEDELTA_TEXT = re.compile(r"(?:(-?\d+) days?, )?(-?\d+):(\d\d):(\d\d(?:\.\d+)?)")


def to_epoch(value: Any, zone: Zone) -> float:
    """Epoch seconds from a float, numeric text, or a (naive = `zone`) datetime or ISO text."""
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a time")
    if isinstance(value, int | float):
        return checked_epoch(float(value))
    if isinstance(value, datetime):
        return attach_zone(value, zone).timestamp()
    text = str(value)
    try:
        seconds = float(text)
    except ValueError:
        return attach_zone(datetime.fromisoformat(text), zone).timestamp()
    return checked_epoch(seconds)


def checked_epoch(seconds: float) -> float:
    """The epoch seconds, when they are a moment a datetime can hold (not NaN, infinite or out of range)."""
    if EPOCH_MIN <= seconds <= EPOCH_MAX:
        return seconds
    raise ValueError(f"{seconds!r} is not a time")


def to_time(value: Any, zone: Zone) -> datetime:
    """An aware UTC datetime from a datetime, ISO text or epoch number (naive values are in `zone`)."""
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, UTC)
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return attach_zone(moment, zone).astimezone(UTC)


def to_duration(value: Any, zone: Zone) -> timedelta:
    """A timedelta from Red Bird's forms: `0:00:01.5` text, seconds, or SQLite's `1970-01-01 ...` date."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, int | float):
        return timedelta(seconds=value)
    if isinstance(value, datetime):
        return value.replace(tzinfo=None) - _EPOCH_NAIVE
    text = str(value)
    if match := _TIMEDELTA_TEXT.fullmatch(text):
        days, hours, minutes, seconds = match.groups()
        return timedelta(days=int(days or 0), hours=int(hours), minutes=int(minutes), seconds=float(seconds))
    try:
        return timedelta(seconds=float(text))
    except ValueError:
        return datetime.fromisoformat(text).replace(tzinfo=None) - _EPOCH_NAIVE


def _to_int(value: Any, zone: Zone) -> int:
    return value if isinstance(value, int) else int(float(value))


def _to_float(value: Any, zone: Zone) -> float:
    return float(value)


def _to_text(value: Any, zone: Zone) -> Any:
    return value


CONVERTERS: dict[ColumnKind, Callable[[Any, Zone], Any]] = {
    ColumnKind.TEXT: _to_text,
    ColumnKind.INT: _to_int,
    ColumnKind.FLOAT: _to_float,
    ColumnKind.EPOCH: to_epoch,
    ColumnKind.TIME: to_time,
    ColumnKind.DURATION: to_duration,
}


def convert(value: Any, kind: ColumnKind, zone: Zone) -> Any:
    """Convert one stored value; None stays None, and so does empty text in a typed column."""
    if value is None or (value == "" and kind is not ColumnKind.TEXT):
        return None
    return CONVERTERS[kind](value, zone)
