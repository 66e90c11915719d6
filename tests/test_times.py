"""Time expressions, zones and the UTC ISO format of `tasklog_cli.times` (DESIGN §2, §5)."""

import re
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from conftest import ROCKETRY, assert_one_error_line, local_zone, run_cli

from tasklog_cli.errors import UsageError
from tasklog_cli.times import TIME_FORMATS_HELP, Zone, iso_utc, parse_span, parse_time, resolve_zone

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
        ("2026-11-21 14:30:00", epoch(2026, 11, 21, 14, 30, zone=HELSINKI)),
        ("2026-11-21 14:30 UTC", epoch(2026, 11, 21, 14, 30, zone=UTC)),
        ("2026-11-21 14:30 utc", epoch(2026, 11, 21, 14, 30, zone=UTC)),
        ("2026-11-21T14:30 Z", epoch(2026, 11, 21, 14, 30, zone=UTC)),
        ("2026-11-21 14:30 +02:00", epoch(2026, 11, 21, 12, 30, zone=UTC)),
        ("2026-11-21 14:30 -0530", epoch(2026, 11, 21, 20, 0, zone=UTC)),
        ("2026-11-21 14:30 +05", epoch(2026, 11, 21, 9, 30, zone=UTC)),
        ("2026-11-21 14:30 America/New_York", epoch(2026, 11, 21, 19, 30, zone=UTC)),
        ("2026-11-21 UTC", epoch(2026, 11, 21, zone=UTC)),
        ("14:30 UTC", epoch(2026, 11, 21, 14, 30, zone=UTC)),
        ("2026-11-21T14:30:00.123456789Z", epoch(2026, 11, 21, 14, 30, zone=UTC) + 0.123456),
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
        ("30min", -30 * 60.0),
        ("30min ago", -30 * 60.0),
        ("5 min ago", -5 * 60.0),
        ("1h ago", -HOUR),
        ("1h30m ago", -90 * 60.0),
        ("1h 30min", -90 * 60.0),
        ("1 hour 30 minutes ago", -90 * 60.0),
        ("2 hours", -2 * HOUR),
        ("2hours", -2 * HOUR),
        ("1.5h", -90 * 60.0),
        (".5h", -30 * 60.0),
        ("90s", -90.0),
        ("10m", -10 * 60.0),
        ("3 secs ago", -3.0),
        ("2 hrs ago", -2 * HOUR),
        ("+5min", 5 * 60.0),
        ("-1 day", -DAY),
        ("2 days ago", -2 * DAY),
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


def test_tomorrow_and_weekdays_are_midnights_in_the_zone() -> None:
    # NOW is Saturday 2026-11-21 in both zones: a weekday is its latest start, today when today is that day.
    assert parse("tomorrow", HELSINKI) == epoch(2026, 11, 22, zone=HELSINKI)
    assert parse("saturday", HELSINKI) == epoch(2026, 11, 21, zone=HELSINKI)
    assert parse("friday", HELSINKI) == epoch(2026, 11, 20, zone=HELSINKI)
    assert parse("Monday", HELSINKI) == parse("mon", HELSINKI) == epoch(2026, 11, 16, zone=HELSINKI)
    assert parse("sunday", UTC) == epoch(2026, 11, 15, zone=UTC)


def test_local_weekday_and_tomorrow_across_the_autumn_change() -> None:
    """Sunday 2026-10-25 has 25 hours in Helsinki: midnights are found on the calendar, not by counting."""
    monday_morning = datetime(2026, 10, 26, 6, 0, tzinfo=UTC)
    saturday_noon = datetime(2026, 10, 24, 9, 0, tzinfo=UTC)
    with local_zone("Europe/Helsinki"):
        assert parse("sunday", None, monday_morning) == datetime(2026, 10, 24, 21, 0, tzinfo=UTC).timestamp()
        assert parse("monday", None, monday_morning) == datetime(2026, 10, 25, 22, 0, tzinfo=UTC).timestamp()
        assert parse("tomorrow", None, saturday_noon) == datetime(2026, 10, 24, 21, 0, tzinfo=UTC).timestamp()
        assert parse("yesterday", None, monday_morning) == parse("sunday", None, monday_morning)
        assert parse("2026-10-25 03:30 UTC", None) == datetime(2026, 10, 25, 3, 30, tzinfo=UTC).timestamp()


@pytest.mark.parametrize(
    ("typed", "canonical"),
    [
        ("NOW", "now"),
        ("Today", "today"),
        ("YESTERDAY", "yesterday"),
        ("2H", "2h"),
        ("1H30MIN", "1h30m"),
        ("+2H", "+2h"),
        ("2 Hours Ago", "2 hours ago"),
        ("30 MINUTES AGO", "30 minutes ago"),
        ("  2h  ", "2h"),
        ("TOMORROW", "tomorrow"),
        ("FRI", "friday"),
        ("2 HOURS", "2h"),
        ("30MIN", "30min"),
    ],
)
def test_case_and_surrounding_space_do_not_matter(typed: str, canonical: str) -> None:
    assert parse(typed) == parse(canonical)


@pytest.mark.parametrize(
    "text",
    [
        "", "bogus", "2 fortnights ago", "ago", "@", "@x", "25:00", "2026-13-01", "2hh", "h", "+-2h",
        "+2h ago", "-2h ago", "2h ago ago", "next monday", "mondays", "2026-11-21 14:30 Mars/Base",
        "2026-11-21 14:30 +25:00", "2026-11-21 14:30 CEST", "14:30 tomorrow",
    ],
)  # fmt: skip
def test_bad_input_is_a_usage_error_naming_it_and_the_formats(text: str) -> None:
    with pytest.raises(UsageError) as caught:
        parse(text)
    message = str(caught.value)
    assert repr(text) in message
    assert TIME_FORMATS_HELP in message
    for fragment in (
        "ISO-8601",
        "@EPOCH",
        "now",
        "today",
        "tomorrow",
        "weekday",
        "30min",
        "+2h",
        "2 hours ago",
    ):
        assert fragment in message


@pytest.mark.parametrize("text", ["1M", "2M ago", "-1M", "1h30M"])
def test_capital_m_is_ambiguous_and_names_the_unambiguous_forms(text: str) -> None:
    with pytest.raises(UsageError) as caught:
        parse(text)
    assert repr(text) in str(caught.value)
    assert "1min" in str(caught.value) and "30d" in str(caught.value)


@pytest.mark.parametrize("text", ["1 month ago", "2 months", "1y", "1 year ago"])
def test_months_and_years_have_no_fixed_length(text: str) -> None:
    with pytest.raises(UsageError, match="30d"):
        parse(text)


@pytest.mark.parametrize("text", ["30", "1741072800", "-5", "1.5"])
def test_a_bare_number_asks_for_a_unit_or_an_at_sign(text: str) -> None:
    with pytest.raises(UsageError) as caught:
        parse(text)
    assert "a number needs a unit" in str(caught.value) and "@EPOCH" in str(caught.value)


def test_the_help_is_short() -> None:
    assert len(TIME_FORMATS_HELP) < 200


@pytest.mark.parametrize("text", ["@nan", "@inf", "@-inf"])
def test_epoch_must_be_a_finite_number(text: str) -> None:
    """`--since @nan` must be a usage error, not a window that silently matches nothing."""
    with pytest.raises(UsageError, match="bad time"):
        parse(text)


# --- spans (--retry-window, --max-age, --max-duration) ---------------------------------------------------


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("90s", 90), ("10m", 600), ("30min", 1800), ("1h30m", 5400), ("1h 30min", 5400), ("1.5h", 5400),
        ("2hours", 7200), ("2 hours", 7200), ("1 day", DAY), ("3d", 3 * DAY), ("1w", 7 * DAY),
        ("2 weeks", 14 * DAY), ("45 sec", 45), ("0", 0), ("0s", 0),
    ],
)  # fmt: skip
def test_parse_span_takes_the_unit_spellings_of_times(text: str, seconds: float | None) -> None:
    if seconds is None:
        with pytest.raises(UsageError, match="bad duration"):
            parse_span(text)
    else:
        assert parse_span(text) == timedelta(seconds=seconds)


@pytest.mark.parametrize("text", ["", "soon", "-1h", "+1h", "1h ago", "1M", "1 month", "now", "2hh"])
def test_parse_span_rejects_what_is_no_length(text: str) -> None:
    with pytest.raises(UsageError) as caught:
        parse_span(text)
    assert repr(text) in str(caught.value)
    assert "1min" in str(caught.value) or "30d" in str(caught.value) or "5min" in str(caught.value)


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


# --- through the command line ------------------------------------------------------------------------------


@pytest.mark.parametrize("since", ["30min", "2030-03-04 07:00 UTC", "tomorrow", "monday", "1 hour ago"])
def test_the_command_line_takes_the_new_forms(since: str) -> None:
    result = run_cli("ls", "-r", str(ROCKETRY / "task_run.csv"), "-S", since, "-o", "json", expect=1)
    assert result.stdout == "[]\n"  # the fixture is from 2026-11-21: nothing is that recent


def test_the_command_line_says_what_to_write_for_1m() -> None:
    result = run_cli("ls", "-r", str(ROCKETRY / "task_run.csv"), "-S", "1M", expect=2)
    assert_one_error_line(result, "'1M'", "1min", "30d")
    window = run_cli("runs", "-r", str(ROCKETRY / "task_run.csv"), "--retry-window", "1M", expect=2)
    assert_one_error_line(window, "bad duration '1M'", "1min")


def test_a_zone_after_a_time_means_the_same_as_an_offset() -> None:
    store = str(ROCKETRY / "task_run.csv")
    spelled = run_cli("ls", "-r", store, "-S", "2026-11-21 21:52 Europe/Helsinki", "-o", "plain").stdout
    assert spelled == run_cli("ls", "-r", store, "-S", "2026-11-21T19:52:00Z", "-o", "plain").stdout
    assert spelled == run_cli("ls", "-r", store, "-S", "2026-11-21 19:52 UTC", "-o", "plain").stdout
    assert 0 < len(spelled.splitlines()) < len(run_cli("ls", "-r", store, "-o", "plain").stdout.splitlines())
