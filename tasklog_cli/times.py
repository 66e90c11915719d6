"""Time zones, the time expressions users type, and UTC ISO-8601 formatting."""

import math
import re
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from tasklog_cli.errors import UsageError

# None stands for the machine's local zone, resolved by the C library (DST included) at each use.
Zone = tzinfo | None

_SECOND, _MINUTE, _HOUR, _DAY, _WEEK = 1, 60, 3600, 86400, 604800
UNIT_SECONDS = {
    **dict.fromkeys(("s", "sec", "secs", "second", "seconds"), _SECOND),
    **dict.fromkeys(("m", "min", "mins", "minute", "minutes"), _MINUTE),
    **dict.fromkeys(("h", "hr", "hrs", "hour", "hours"), _HOUR),
    **dict.fromkeys(("d", "day", "days"), _DAY),
    **dict.fromkeys(("w", "week", "weeks"), _WEEK),
}
# Units of no fixed length (a month, a year): named so the error can say what to write instead.
_VAGUE_UNITS = {"month", "months", "mo", "mon", "y", "yr", "yrs", "year", "years"}
_SPAN_PART = re.compile(r"\s*(\d+(?:\.\d+)?|\.\d+)\s*([^\W\d_]+)")
_SPAN = re.compile(rf"(?:{_SPAN_PART.pattern})+\s*")
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
WEEKDAY_NUMBERS = {
    **{name: number for number, name in enumerate(_WEEKDAYS)},
    **{name[:3]: number for number, name in enumerate(_WEEKDAYS)},
}
_UTC_NAMES = {"utc", "z", "gmt"}
_OFFSET = re.compile(r"[+-]\d\d(?::?\d\d)?")
SPAN_FORMS = "30s, 5min, 1h30m, 1.5h, '2 hours', 3d or 1w"
TIME_FORMATS_HELP = (
    "ISO-8601, '2025-03-04 07:00' (+02:00 or UTC may follow), a date, 07:00, @EPOCH, now, today, "
    "yesterday, tomorrow, a weekday, 2h / 30min / 1h30m ago, -2h, +2h, '2 hours ago'"
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
    elif moment.tzinfo is not UTC:
        moment = moment.astimezone(UTC)
    return moment.isoformat(timespec="microseconds")


class _SpanError(ValueError):
    """A span with a unit that has to be written another way; the message says how."""


def _span_seconds(text: str) -> float | None:
    """Seconds of `90s`, `1h30m`, `1h 30min`, `2 hours`; None when the text is no span."""
    if not _SPAN.fullmatch(text):
        return None
    total = 0.0
    for amount, typed_unit in _SPAN_PART.findall(text):
        if typed_unit == "M":
            raise _SpanError("'M' could be minutes or months: write 1min for a minute, 30d for a month")
        unit = typed_unit.lower()
        if unit in _VAGUE_UNITS:
            raise _SpanError(f"{unit!r} has no fixed length: write days, as 30d or 365d")
        if unit not in UNIT_SECONDS:
            return None
        total += float(amount) * UNIT_SECONDS[unit]
    return total


def parse_span(text: str) -> timedelta:
    """A length of time such as `10m`, `30min`, `1h30m`, `2 hours` or `1 day` (or `0`)."""
    if text.strip() == "0":
        return timedelta(0)
    try:
        seconds = _span_seconds(text.strip())
    except _SpanError as exc:
        raise UsageError(f"bad duration {text!r}: {exc}") from exc
    if seconds is None:
        raise UsageError(f"bad duration {text!r}: use {SPAN_FORMS}")
    try:
        return timedelta(seconds=seconds)
    except OverflowError as exc:  # beyond timedelta's 999,999,999 days
        raise UsageError(f"bad duration {text!r}: out of range") from exc


def parse_time(text: str, *, now: datetime, zone: Zone) -> float:
    """Parse a user's time expression (see TIME_FORMATS_HELP) to epoch seconds."""
    try:
        epoch = _parse_time(text.strip(), now=now, zone=zone)
    except _SpanError as exc:
        raise UsageError(f"bad time {text!r}: {exc}") from exc
    if epoch is None:
        bare = "a number needs a unit (30s, 5min) or @ for an epoch; " if _is_number(text) else ""
        raise UsageError(f"bad time {text!r}: {bare}use {TIME_FORMATS_HELP}")
    try:
        utc_from_epoch(epoch)
    except (OverflowError, OSError, ValueError) as exc:
        raise UsageError(f"bad time {text!r}: out of range") from exc
    return epoch


def _is_number(text: str) -> bool:
    """Whether the text is a plain number (a span without its unit, an epoch without its @)."""
    try:
        float(text)
    except ValueError:
        return False
    return True


def _midnight(day: date, zone: Zone) -> float:
    """Epoch seconds of the start of a day in the zone."""
    return attach_zone(datetime.combine(day, time()), zone).timestamp()


def _parse_time(text: str, *, now: datetime, zone: Zone) -> float | None:
    """Epoch seconds of an expression, None when it is none of the forms."""
    word = text.lower()
    today = in_zone(now, zone).date()
    days = {"today": 0, "yesterday": -1, "tomorrow": 1}
    if word == "now":
        return now.timestamp()
    if word in days:
        return _midnight(today + timedelta(days=days[word]), zone)
    if word in WEEKDAY_NUMBERS:  # the latest one that began: today when today is that day
        return _midnight(today - timedelta(days=(today.weekday() - WEEKDAY_NUMBERS[word]) % 7), zone)
    if word.startswith("@"):
        epoch = float(word[1:]) if _is_number(word[1:]) else math.nan
        return epoch if math.isfinite(epoch) else None
    relative = _relative_seconds(text)
    if _is_number(text):  # 1741072800: an epoch or ISO's basic 1741-07-28? Neither: ask for @ or a unit
        return None
    if relative is not None:
        return now.timestamp() + relative
    try:
        return _parse_calendar(text, now, zone).timestamp()
    except ValueError:
        return None


def _relative_seconds(text: str) -> float | None:
    """Seconds from now of `2h`, `-2h`, `+2h` or `2 hours ago` (a bare span is that long ago)."""
    sign = -1.0
    if text.startswith(("+", "-")):
        sign, text = (1.0 if text[0] == "+" else -1.0), text[1:]
    elif text.lower().endswith("ago"):
        text = text[:-3]
    seconds = _span_seconds(text)
    return None if seconds is None else sign * seconds


def _split_zone(text: str, zone: Zone) -> tuple[str, Zone]:
    """Take a trailing ` UTC`, ` +02:00` or ` Europe/Helsinki` off a calendar time: the zone it names."""
    head, _, last = text.rpartition(" ")
    if not head:
        return text, zone
    if last.lower() in _UTC_NAMES:
        return head.rstrip(), UTC
    if _OFFSET.fullmatch(last):
        hours, minutes = int(last[1:3]), int(last[-2:]) if len(last) > 3 else 0
        offset = timedelta(hours=hours, minutes=minutes)
        return head.rstrip(), timezone(offset if last[0] == "+" else -offset)
    if "/" in last:
        try:
            return head.rstrip(), ZoneInfo(last)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(last) from exc
    return text, zone


def _parse_calendar(text: str, now: datetime, zone: Zone) -> datetime:
    """A date, a time of today or both, naive ones in the zone (or the zone that follows them)."""
    text, zone = _split_zone(text, zone)
    if ":" in text and "-" not in text[:5]:
        clock = time.fromisoformat(text)
        today = in_zone(now, zone).date()
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


def window_text(since: float | None, until: float | None, zone: Zone) -> str:
    """A resolved time window as people read it: `from 2025-03-04 07:00:00 EET to now`."""

    def moment(epoch: float | None, otherwise: str) -> str:
        if epoch is None:
            return otherwise
        return in_zone(utc_from_epoch(epoch), zone).strftime("%Y-%m-%d %H:%M:%S %Z")

    return f"from {moment(since, 'the first record')} to {moment(until, 'now')}"
