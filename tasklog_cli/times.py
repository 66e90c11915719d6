"""Time zones, the time expressions users type, and UTC ISO-8601 formatting."""

import math
import re
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from tasklog_cli.errors import UsageError

# None stands for the machine's local zone, resolved by the C library (DST included) at each use.
Zone = tzinfo | None

_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_SPAN = re.compile(r"(\d+(?:\.\d+)?)([smhdw])")
_SPAN_EXPR = re.compile(r"([+-]?)((?:\d+(?:\.\d+)?[smhdw])+)")
_AGO_EXPR = re.compile(
    r"(\d+(?:\.\d+)?)\s*(s|secs?|seconds?|m|mins?|minutes?|h|hrs?|hours?|d|days?|w|weeks?)\s+ago"
)
TIME_FORMATS_HELP = (
    "ISO-8601 (with or without offset), a date, a time of today, @EPOCH, now, today, yesterday, "
    "2h / 90m / 1h30m / 3d / 1w ago, -2h, +2h, '2 hours ago'"
)


def resolve_zone(*, utc: bool, name: str | None) -> Zone:
    """The zone for naive input and display: UTC when asked, else the named zone, else local."""
    if utc:
        return UTC
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise UsageError(f"unknown time zone {name!r} (use an IANA name such as Europe/Helsinki)") from exc


def attach_zone(moment: datetime, zone: Zone) -> datetime:
    """Make a datetime aware: naive values are wall-clock times in `zone`."""
    if moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=zone) if zone is not None else moment.astimezone()


def in_zone(moment: datetime, zone: Zone) -> datetime:
    """Convert an aware datetime to `zone` (local when None)."""
    return moment.astimezone(zone) if zone is not None else moment.astimezone()


def utc_from_epoch(epoch: float) -> datetime:
    """The aware UTC datetime of an epoch value."""
    return datetime.fromtimestamp(epoch, UTC)


def iso_utc(moment: float | datetime) -> str:
    """ISO-8601 in UTC with offset and microseconds: the one machine time format."""
    if not isinstance(moment, datetime):
        moment = utc_from_epoch(moment)
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def _span_seconds(text: str) -> float:
    return sum(float(amount) * _UNIT_SECONDS[unit] for amount, unit in _SPAN.findall(text))


def parse_span(text: str) -> timedelta:
    """A length of time such as `10m`, `1h30m` or `90s`."""
    span = _SPAN_EXPR.fullmatch(text.strip().lower())
    if span is None or span.group(1):
        raise UsageError(f"bad duration {text!r}: use 90s, 10m, 1h30m, 2d or 1w")
    return timedelta(seconds=_span_seconds(span.group(2)))


def parse_time(text: str, *, now: datetime, zone: Zone) -> float:
    """Parse a user's time expression (see TIME_FORMATS_HELP) to epoch seconds."""
    epoch = _parse_time(text, now=now, zone=zone)
    try:
        utc_from_epoch(epoch)
    except (OverflowError, OSError, ValueError) as exc:
        raise UsageError(f"bad time {text!r}: out of range") from exc
    return epoch


def _parse_time(text: str, *, now: datetime, zone: Zone) -> float:
    expr = text.strip().lower()
    local_now = in_zone(now, zone)
    midnight = attach_zone(datetime.combine(local_now.date(), time()), zone)
    if expr == "now":
        return now.timestamp()
    if expr == "today":
        return midnight.timestamp()
    if expr == "yesterday":
        yesterday = datetime.combine(local_now.date() - timedelta(days=1), time())
        return attach_zone(yesterday, zone).timestamp()
    if expr.startswith("@"):
        try:
            epoch = float(expr[1:])
        except ValueError:
            epoch = math.nan
        if math.isfinite(epoch):
            return epoch
    elif span := _SPAN_EXPR.fullmatch(expr):
        seconds = _span_seconds(span.group(2))
        return now.timestamp() + (seconds if span.group(1) == "+" else -seconds)
    elif ago := _AGO_EXPR.fullmatch(expr):
        return now.timestamp() - float(ago.group(1)) * _UNIT_SECONDS[ago.group(2)[0]]
    else:
        try:
            return _parse_calendar(text.strip(), local_now.date(), zone).timestamp()
        except ValueError:
            pass
    raise UsageError(f"bad time {text!r}: use {TIME_FORMATS_HELP}")


def _parse_calendar(text: str, today: date, zone: Zone) -> datetime:
    if ":" in text and "-" not in text[:5]:
        clock = time.fromisoformat(text)
        return attach_zone(datetime.combine(today, clock.replace(tzinfo=None)), clock.tzinfo or zone)
    if len(text) == 10:
        return attach_zone(datetime.combine(date.fromisoformat(text), time()), zone)
    return attach_zone(datetime.fromisoformat(text), zone)


def human_duration(seconds: float) -> str:
    """A short duration for people: `850ms`, `1.2s`, `3m 04s`, `2h 05m`, `3d 04h`."""
    if seconds < 1:
        return f"{seconds * 1000:.0f}ms"
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes}m {secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours}h {minutes:02d}m"
    days, hours = divmod(hours, 24)
    return f"{days}d {hours:02d}h"
