"""Time expressions, zones and the UTC ISO format of `tasklog_cli.times` (DESIGN §2, §5)."""

import re
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from conftest import local_zone

from tasklog_cli.errors import UsageError
from tasklog_cli.times import Zone, iso_utc, parse_time, resolve_zone

# A Saturday evening: 21:13 in Helsinki (UTC+2 in winter), so UTC and Helsinki share the date.
NOW = datetime(2026, 11, 21, 19, 13, 12, 33474, tzinfo=UTC)
HELSINKI = ZoneInfo("Europe/Helsinki")
HOUR = 3600.0
DAY = 24 * HOUR


def epoch(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0, *, zone: Zone
) -> float:
    """Epoch seconds of a wall-clock time in an explicit zone."""
    return datetime(year, month, day, hour, minute, second, tzinfo=zone).timestamp()


def parse(text: str, zone: Zone = UTC, now: datetime = NOW) -> float:
    return parse_time(text, now=now, zone=zone)


# --- the formats DESIGN §2 lists -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-21T14:30:00+02:00", epoch(2026, 11, 21, 12, 30, zone=UTC)),
        ("2026-11-21T14:30:00-05:00", epoch(2026, 11, 21, 19, 30, zone=UTC)),
        ("2026-11-21T14:30:00.123456+05:30", epoch(2026, 11, 21, 9, 0, zone=UTC) + 0.123456),
        ("2026-11-21T14:30:00Z", epoch(2026, 11, 21, 14, 30, zone=UTC)),
        ("2026-11-21T14:30:00", epoch(2026, 11, 21, 14, 30, zone=HELSINKI)),
        ("2026-11-21 14:30", epoch(2026, 11, 21, 14, 30, zone=HELSINKI)),
        ("2026-11-21", epoch(2026, 11, 20, 22, zone=UTC)),
        ("14:30", epoch(2026, 11, 21, 14, 30, zone=HELSINKI)),
        ("14:30:05", epoch(2026, 11, 21, 14, 30, 5, zone=HELSINKI)),
    ],
)
def test_calendar_formats_read_naive_values_in_the_zone(text: str, expected: float) -> None:
    assert parse(text, HELSINKI) == pytest.approx(expected, abs=1e-6)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-21T14:30:00", epoch(2026, 11, 21, 14, 30, zone=UTC)),
        ("2026-11-21", epoch(2026, 11, 21, zone=UTC)),
        ("14:30", epoch(2026, 11, 21, 14, 30, zone=UTC)),
        ("14:30:05", epoch(2026, 11, 21, 14, 30, 5, zone=UTC)),
    ],
)
def test_naive_values_in_utc(text: str, expected: float) -> None:
    assert parse(text, UTC) == expected


def test_an_offset_wins_over_the_zone() -> None:
    aware = "2026-11-21T14:30:00+02:00"
    assert parse(aware, UTC) == parse(aware, HELSINKI) == parse(aware, None)


def test_time_of_today_takes_the_date_in_the_zone() -> None:
    late_evening_utc = datetime(2026, 11, 21, 23, 30, tzinfo=UTC)  # already the 22nd in Helsinki
    assert parse("14:30", HELSINKI, late_evening_utc) == epoch(2026, 11, 22, 14, 30, zone=HELSINKI)
    assert parse("14:30", UTC, late_evening_utc) == epoch(2026, 11, 21, 14, 30, zone=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("@1795290404", 1795290404.0),
        ("@1795290404.8080544", 1795290404.8080544),
        ("@0", 0.0),
        ("@-5", -5.0),
    ],
)
def test_epoch(text: str, expected: float) -> None:
    assert parse(text, UTC) == expected
    assert parse(text, HELSINKI) == expected


@pytest.mark.parametrize(
    ("text", "offset"),
    [
        ("now", 0.0),
        ("2h", -2 * HOUR),
        ("90m", -90 * 60.0),
        ("1h30m", -90 * 60.0),
        ("3d", -3 * DAY),
        ("1w", -7 * DAY),
        ("45s", -45.0),
        ("-2h", -2 * HOUR),
        ("+2h", 2 * HOUR),
        ("2 hours ago", -2 * HOUR),
        ("1 day ago", -DAY),
        ("30 minutes ago", -30 * 60.0),
        ("1 hour ago", -HOUR),
        ("2 weeks ago", -14 * DAY),
        ("10 seconds ago", -10.0),
    ],
)
def test_spans_count_from_now(text: str, offset: float) -> None:
    assert parse(text, UTC) == pytest.approx(NOW.timestamp() + offset, abs=1e-6)
    assert parse(text, HELSINKI) == pytest.approx(NOW.timestamp() + offset, abs=1e-6)


def test_minus_span_is_the_same_as_a_bare_span() -> None:
    assert parse("-2h") == parse("2h") == parse("2 hours ago")
    assert parse("1h30m") == parse("90m")


def test_today_and_yesterday_are_midnights_in_the_zone() -> None:
    assert parse("today", UTC) == epoch(2026, 11, 21, zone=UTC)
    assert parse("yesterday", UTC) == epoch(2026, 11, 20, zone=UTC)
    assert parse("today", HELSINKI) == epoch(2026, 11, 21, zone=HELSINKI)
    assert parse("yesterday", HELSINKI) == epoch(2026, 11, 20, zone=HELSINKI)


def test_today_follows_the_zone_date_not_the_utc_date() -> None:
    late_evening_utc = datetime(2026, 11, 21, 23, 30, tzinfo=UTC)
    assert parse("today", HELSINKI, late_evening_utc) == epoch(2026, 11, 22, zone=HELSINKI)
    assert parse("yesterday", HELSINKI, late_evening_utc) == epoch(2026, 11, 21, zone=HELSINKI)


@pytest.mark.parametrize(
    ("typed", "canonical"),
    [
        ("NOW", "now"),
        ("Today", "today"),
        ("YESTERDAY", "yesterday"),
        ("2H", "2h"),
        ("1H30M", "1h30m"),
        ("+2H", "+2h"),
        ("2 Hours Ago", "2 hours ago"),
        ("30 MINUTES AGO", "30 minutes ago"),
        ("  2h  ", "2h"),
    ],
)
def test_case_and_surrounding_space_do_not_matter(typed: str, canonical: str) -> None:
    assert parse(typed) == parse(canonical)


@pytest.mark.parametrize(
    "text",
    ["", "bogus", "2 fortnights ago", "2 hours", "ago", "@", "@x", "25:00", "2026-13-01", "2hh", "h", "+-2h"],
)
def test_bad_input_is_a_usage_error_naming_it_and_the_formats(text: str) -> None:
    with pytest.raises(UsageError) as caught:
        parse(text)
    message = str(caught.value)
    assert repr(text) in message
    for fragment in ("ISO-8601", "@EPOCH", "now", "today", "yesterday", "2h", "+2h", "2 hours ago"):
        assert fragment in message


@pytest.mark.parametrize("text", ["@nan", "@inf", "@-inf"])
def test_epoch_must_be_a_finite_number(text: str) -> None:
    """`--since @nan` must be a usage error, not a window that silently matches nothing."""
    with pytest.raises(UsageError, match="bad time"):
        parse(text)


# --- zones ------------------------------------------------------------------------------------------------


def test_resolve_zone() -> None:
    assert resolve_zone(utc=True, name=None) is UTC
    assert resolve_zone(utc=True, name="Europe/Helsinki") is UTC
    assert resolve_zone(utc=False, name="Europe/Helsinki") == HELSINKI
    assert resolve_zone(utc=False, name=None) is None
    assert resolve_zone(utc=False, name="") is None


@pytest.mark.parametrize("name", ["Mars/Olympus_Mons", "Europe/Helsinky", "../etc/passwd"])
def test_resolve_zone_rejects_unknown_names(name: str) -> None:
    with pytest.raises(UsageError) as caught:
        resolve_zone(utc=False, name=name)
    assert repr(name) in str(caught.value)
    assert "IANA" in str(caught.value)


def test_unknown_zone_name_is_ignored_when_utc_is_asked() -> None:
    assert resolve_zone(utc=True, name="Mars/Olympus_Mons") is UTC


# Helsinki: clocks go 03:00 -> 04:00 on 2026-03-29 (01:00 UTC) and 04:00 -> 03:00 on 2026-10-25 (01:00 UTC).
DST_CASES = [
    ("2026-03-29T02:30:00", datetime(2026, 3, 29, 0, 30, tzinfo=UTC)),  # before the change, UTC+2
    ("2026-03-29T04:30:00", datetime(2026, 3, 29, 1, 30, tzinfo=UTC)),  # after the change, UTC+3
    ("2026-03-29", datetime(2026, 3, 28, 22, 0, tzinfo=UTC)),
    ("2026-03-30", datetime(2026, 3, 29, 21, 0, tzinfo=UTC)),
    ("2026-10-25T02:30:00", datetime(2026, 10, 24, 23, 30, tzinfo=UTC)),  # UTC+3
    ("2026-10-25T03:30:00", datetime(2026, 10, 25, 0, 30, tzinfo=UTC)),  # repeated hour: the first one
    ("2026-10-25T04:30:00", datetime(2026, 10, 25, 2, 30, tzinfo=UTC)),  # UTC+2
    ("2026-10-25", datetime(2026, 10, 24, 21, 0, tzinfo=UTC)),
    ("2026-10-26", datetime(2026, 10, 25, 22, 0, tzinfo=UTC)),
]


@pytest.mark.parametrize(("text", "expected"), DST_CASES)
def test_naive_input_in_helsinki_across_dst(text: str, expected: datetime) -> None:
    assert parse(text, HELSINKI) == expected.timestamp()


@pytest.mark.parametrize(("text", "expected"), DST_CASES)
def test_local_zone_follows_tz(text: str, expected: datetime) -> None:
    with local_zone("Europe/Helsinki"):
        assert parse(text, None) == expected.timestamp()


def test_local_zone_in_the_spring_gap_lands_on_the_change() -> None:
    """03:30 does not exist on 2026-03-29 in Helsinki; either side of the gap is a fair reading."""
    with local_zone("Europe/Helsinki"):
        assert parse("2026-03-29T03:30:00", None) in {
            datetime(2026, 3, 29, 0, 30, tzinfo=UTC).timestamp(),
            datetime(2026, 3, 29, 1, 30, tzinfo=UTC).timestamp(),
        }


def test_local_today_and_yesterday_across_the_spring_change() -> None:
    morning_after = datetime(2026, 3, 30, 9, 0, tzinfo=UTC)
    with local_zone("Europe/Helsinki"):
        today = parse("today", None, morning_after)
        yesterday = parse("yesterday", None, morning_after)
    assert today == datetime(2026, 3, 29, 21, 0, tzinfo=UTC).timestamp()
    assert yesterday == datetime(2026, 3, 28, 22, 0, tzinfo=UTC).timestamp()
    assert today - yesterday == 23 * HOUR


def test_local_zone_is_read_at_each_call() -> None:
    naive = "2026-11-21T14:30:00"
    with local_zone("America/New_York"):
        new_york = parse(naive, None)
    with local_zone("Asia/Tokyo"):
        tokyo = parse(naive, None)
    assert new_york == datetime(2026, 11, 21, 19, 30, tzinfo=UTC).timestamp()
    assert tokyo == datetime(2026, 11, 21, 5, 30, tzinfo=UTC).timestamp()
    assert parse(naive, None) == datetime(2026, 11, 21, 14, 30, tzinfo=UTC).timestamp()  # back to TZ=UTC


def test_local_time_of_today_and_today() -> None:
    with local_zone("Asia/Tokyo"):  # NOW is 04:13 on the 22nd in Tokyo
        assert parse("today", None) == epoch(2026, 11, 22, zone=ZoneInfo("Asia/Tokyo"))
        assert parse("14:30", None) == epoch(2026, 11, 22, 14, 30, zone=ZoneInfo("Asia/Tokyo"))


# --- iso_utc ----------------------------------------------------------------------------------------------

ISO_UTC = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00")


def test_iso_utc_format() -> None:
    moment = datetime(2026, 11, 21, 19, 13, 12, 33474, tzinfo=UTC)
    assert iso_utc(moment) == "2026-11-21T19:13:12.033474+00:00"
    assert iso_utc(1795288392.033474) == "2026-11-21T19:13:12.033474+00:00"


def test_iso_utc_converts_other_zones_and_keeps_zero_microseconds() -> None:
    helsinki_evening = datetime(2026, 11, 21, 21, 13, 12, tzinfo=HELSINKI)
    assert iso_utc(helsinki_evening) == "2026-11-21T19:13:12.000000+00:00"
    assert iso_utc(datetime(2026, 11, 21, tzinfo=timezone(timedelta(hours=-5)))) == (
        "2026-11-21T05:00:00.000000+00:00"
    )
    assert iso_utc(0) == "1970-01-01T00:00:00.000000+00:00"


@pytest.mark.parametrize("moment", [0.0, 1.5, 1795290404.8080544, 1795290404.0, 4102444799.999999])
def test_iso_utc_shape_and_round_trip(moment: float) -> None:
    text = iso_utc(moment)
    assert ISO_UTC.fullmatch(text), text
    assert datetime.fromisoformat(text).timestamp() == pytest.approx(moment, abs=1e-6)
    assert parse(text, HELSINKI) == pytest.approx(moment, abs=1e-6)
