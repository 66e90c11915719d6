"""What a person sees on a terminal: safe text, tables that fit any width, follow lines, the pager, notes."""

import csv
import fcntl
import io
import json
import os
import pty
import re
import shutil
import struct
import subprocess
import sys
import termios
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from conftest import ROCKETRY, run_cli
from rich.cells import cell_len

from tasklog_cli import cli
from tasklog_cli.environment import Environment

ANSI = re.compile(r"\x1b\[[0-9;]*m")
WIDTHS = [60, 80, 120, 200]
TASK_RUN = ROCKETRY / "task_run.csv"
# Everything a log line must never send to a terminal raw: escape sequences, BEL, C1 CSI, bidi overrides.
RAW_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u2028\u2029]")
HOSTILE_NAMES = [
    "evil\x1b[2Jclear",
    "title\x1b]0;PWNED\x07x",
    "tab\tname",
    "bidi\u202eevil",
    "nl\nname",
    "中文任务",
]
HOSTILE_MESSAGES = [
    "hello \x1b[31mred\x1b[0m",
    "bell\x07 here",
    "multi\nline\nmessage",
    "c1 \x9b2J",
    "x" * 300,
]
TRACEBACK = 'Traceback (most recent call last):\n  File "job.py", line 3\nValueError: bad \x1b[2J value'
T0 = 1_740_000_000.0  # 2025-02-19 21:20 UTC


def hostile_log(path: Path, extra: int = 0) -> Path:
    """A Rocketry TaskRunRecord CSV whose names and messages hold what scheduled code could raise."""
    with path.open("w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(["task_name", "action", "created", "run_id", "message", "exc_text"])
        for number, name in enumerate(HOSTILE_NAMES * (1 + extra)):
            created = T0 + number * 60
            message = HOSTILE_MESSAGES[number % len(HOSTILE_MESSAGES)]
            writer.writerow([name, "run", created, f"id{number}", message, ""])
            writer.writerow([name, "fail", created + 1.5, f"id{number}", message, TRACEBACK])
    return path


@dataclass(frozen=True)
class Shown:
    """What a command printed on a (pretend) terminal, and how it ended."""

    code: int
    stdout: str
    stderr: str

    @property
    def lines(self) -> list[str]:
        return ANSI.sub("", self.stdout).splitlines()


def on_terminal(
    *args: str,
    columns: int = 80,
    rows: int | None = None,
    variables: dict[str, str] | None = None,
    stdout: io.TextIOBase | None = None,
    sleep: Callable[[float], None] | None = None,
    clock: Callable[[], datetime] | None = None,
) -> Shown:
    """Run tasklog in-process with stdout taken for a terminal of `columns` (and `rows`, for the pager)."""
    out = stdout or io.StringIO()
    err = io.StringIO()
    env = Environment(
        out, err, io.StringIO(), is_terminal=True, columns=columns, rows=rows,  # type: ignore[arg-type]
        variables=variables or {"TASKLOG_PAGER": ""},
        **({"sleep": sleep} if sleep else {}), **({"clock": clock} if clock else {}),
    )  # fmt: skip
    code = cli.run(list(args), env)
    return Shown(code, out.getvalue() if isinstance(out, io.StringIO) else "", err.getvalue())


def assert_fits(shown: Shown, width: int) -> None:
    """Every line within the width, and nothing a terminal would obey."""
    for line in shown.lines:
        assert cell_len(line) <= width, (width, line)
    assert not RAW_CONTROLS.search(ANSI.sub("", shown.stdout)), shown.stdout


def cells(line: str) -> list[str]:
    """A table line split at its two-space gaps."""
    return [cell.strip() for cell in re.split(r"\s{2,}", line.strip())]


# --- Log text never controls the terminal -------------------------------------------------------------


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("command", [["ls"], ["tail", "-n", "20"], ["ls", "--fields", "all"]])
def test_hostile_text_is_shown_not_obeyed_in_record_tables(
    tmp_path: Path, width: int, command: list[str]
) -> None:
    log = hostile_log(tmp_path / "log.csv")
    for color in ("never", "always"):
        shown = on_terminal(*command, "-r", str(log), "--color", color, columns=width)
        assert shown.code == 0, shown.stderr
        assert_fits(shown, width)
    assert "evil\\x1b[2J" in shown.stdout  # visible, as an escape


def test_hostile_text_in_a_wide_table_shows_every_escape(tmp_path: Path) -> None:
    log = hostile_log(tmp_path / "log.csv")
    text = "\n".join(on_terminal("ls", "-r", str(log), "--color", "never", columns=200).lines)
    for shown in ("evil\\x1b[2Jclear", "title\\x1b]0;PWNED\\x07x", "tab\\tname", "bidi\\u202eevil",
                  "nl\\nname", "hello \\x1b[31mred\\x1b[0m", "bell\\x07 here", "c1 \\x9b2J"):  # fmt: skip
        assert shown in text, shown
    assert "multi [+2 lines]" in text  # the first line of a message, marked


@pytest.mark.parametrize("width", WIDTHS)
def test_hostile_text_in_timelines(tmp_path: Path, width: int) -> None:
    log = hostile_log(tmp_path / "log.csv")
    for fmt in ("table", "plain"):
        for full in ([], ["--full"]):
            shown = on_terminal("timeline", "*", "-r", str(log), "-o", fmt, *full, columns=width)
            assert shown.code == 0, shown.stderr
            assert not RAW_CONTROLS.search(ANSI.sub("", shown.stdout))
            if fmt == "table" and not full:
                assert_fits(shown, width)
    assert "ValueError: bad \\x1b[2J value" in shown.stdout


def test_hostile_text_in_follow_lines(tmp_path: Path) -> None:
    log = hostile_log(tmp_path / "log.csv")
    shown = on_terminal("tail", "-f", "-n", "12", "-r", str(log), columns=80, sleep=interrupt)
    assert shown.code == 0, shown.stderr
    assert_fits(shown, 80)
    assert sum("↳ ValueError: bad \\x1b[2J value" in line for line in shown.lines) == 6  # under each fail


def test_hostile_text_in_info_table(tmp_path: Path) -> None:
    log = hostile_log(tmp_path / "log.csv")
    shown = on_terminal("info", "-r", str(log), columns=60)
    assert_fits(shown, 60)
    assert "evil\\x1b[2Jclear" in shown.stdout


def test_plain_and_tsv_escape_controls_and_stay_one_line_per_record(tmp_path: Path) -> None:
    log = hostile_log(tmp_path / "log.csv")
    for fmt in ("plain", "tsv"):
        out = run_cli("ls", "-r", str(log), "-o", fmt, "--fields", "task_name,message,exc_text").stdout
        assert not RAW_CONTROLS.search(out.replace("\t", "").replace("\n", ""))
        lines = out.splitlines()
        assert len(lines) == 2 * len(HOSTILE_NAMES) + (fmt == "tsv")
        assert all(line.count("\t") == 2 for line in lines)
        assert "evil\\x1b[2Jclear\t" in out and "bidi\\u202eevil" in out and "tab\\tname" in out
        assert "ValueError: bad \\x1b[2J value" in out


def test_json_escapes_c1_bidi_and_line_separators_and_csv_is_exact(tmp_path: Path) -> None:
    log = tmp_path / "log.csv"
    names = ["c1\x9bcsi", "bidi\u202eevil", "line\u2028sep", "esc\x1b[2J", "del\x7f"]
    log.write_text(
        "task_name,action,created\r\n" + "".join(f"{name},run,{T0 + n}\r\n" for n, name in enumerate(names)),
        encoding="utf-8",
    )
    for fmt in ("json", "jsonl"):
        out = run_cli("ls", "-r", str(log), "-o", fmt).stdout
        assert not RAW_CONTROLS.search(out.replace("\n", ""))
        assert "\\u009b" in out and "\\u202e" in out and "\\u2028" in out and "\\u001b" in out
        rows = json.loads(out) if fmt == "json" else [json.loads(line) for line in out.splitlines()]
        assert [row["task_name"] for row in rows] == names
    out = run_cli("ls", "-r", str(log), "-o", "csv", "--fields", "task_name").stdout
    assert [row[0] for row in csv.reader(io.StringIO(out))][1:] == names


# --- Tables at any width -------------------------------------------------------------------------------


@pytest.mark.parametrize("width", WIDTHS)
def test_runtimes_never_cut_numbers_and_drop_the_strips_first(width: int) -> None:
    shown = on_terminal("runtimes", "-r", str(TASK_RUN), "--color", "never", columns=width)
    assert_fits(shown, width)
    header = cells(shown.lines[0])
    assert header[0] == "task_name" and {"runs", "ok", "failed", "ok%", "p50"} <= set(header)
    if width <= 80:
        assert "recent" not in header and "outcomes" not in header
    if width >= 200:
        assert header[-2:] == ["recent", "outcomes"]
    machine = {
        row["task_name"]: row
        for row in json.loads(run_cli("runtimes", "-r", str(TASK_RUN), "-o", "json").stdout)
    }
    for line in shown.lines[2:]:
        row = dict(zip(header, cells(line), strict=False))
        if "…" in row["task_name"]:
            continue
        expected = machine[row["task_name"]]
        assert row["runs"] == str(expected["runs"])
        assert row["failed"] == str(expected["fail"] + expected["terminate"] + expected["crash"])
        assert "…" not in line.split("  ", 1)[1]  # only a task name may be cut


@pytest.mark.parametrize("width", WIDTHS)
def test_runs_and_records_show_the_date_with_the_year_and_the_zone(width: int) -> None:
    for command in (["runs"], ["ls"], ["tasks"])[: 3 if width > 60 else 2]:  # tasks at 60: no time column
        shown = on_terminal(*command, "-r", "demo", "--utc", "--color", "never", columns=width)
        assert_fits(shown, width)
        assert "(UTC)" in shown.lines[0]
        assert all(re.search(r"2025-03-0\d \d\d:\d\d", line) for line in shown.lines[2:]), command


@pytest.mark.parametrize("width", WIDTHS)
def test_tasks_table_never_cuts_the_streak(width: int) -> None:
    shown = on_terminal("tasks", "-r", "demo", "--color", "never", columns=width)
    assert_fits(shown, width)
    streaks = [line.split("  ")[-1].strip() for line in shown.lines[2:]]
    assert all(re.fullmatch(r"[a-z]+ x\d+", streak) for streak in streaks), streaks


def test_task_names_are_not_cut_at_80_columns() -> None:
    shown = on_terminal("runs", "-r", "demo", "--color", "never", columns=80)
    assert any("rebuild_search_index" in line for line in shown.lines)


def test_a_table_in_a_pipe_has_no_blank_first_line_and_no_trailing_spaces() -> None:
    out = run_cli("runtimes", "-r", str(TASK_RUN), "-o", "table").stdout
    assert out.splitlines()[0].startswith("task_name")
    assert all(line == line.rstrip() for line in out.splitlines())
    assert "\x1b[" not in out


def test_colour_always_colours_even_under_no_color() -> None:
    shown = on_terminal(
        "ls", "-r", str(TASK_RUN), "-n", "4", "--color", "always", variables={"NO_COLOR": "1"}
    )
    assert "\x1b[32m" in shown.stdout or "\x1b[31m" in shown.stdout  # colour, not just bold
    assert (
        "\x1b[" not in on_terminal("ls", "-r", str(TASK_RUN), "-n", "4", variables={"NO_COLOR": "1"}).stdout
    )


def test_ls_table_shows_the_exception_line_of_a_traceback(tmp_path: Path) -> None:
    log = hostile_log(tmp_path / "log.csv")
    shown = on_terminal("ls", "-r", str(log), "--fields", "task_name,exc_text", "-n", "2", columns=120)
    assert "ValueError: bad \\x1b[2J value" in shown.stdout
    assert "Traceback (most recent" not in shown.stdout


def test_a_big_table_streams_past_its_sample(tmp_path: Path) -> None:
    log = hostile_log(tmp_path / "log.csv", extra=100)  # 1,212 records: past the rows a table plans from
    shown = on_terminal("ls", "-r", str(log), "--color", "never", columns=100)
    assert len(shown.lines) == 2 + 2 * len(HOSTILE_NAMES) * 101
    assert_fits(shown, 100)


def test_relative_times_and_buckets() -> None:
    now = datetime(2025, 3, 4, 10, 30, tzinfo=UTC)
    shown = on_terminal("ls", "-r", "demo", "-n", "2", "--relative", "--utc", columns=100, clock=lambda: now)
    assert all(re.search(r"\d+h \d\dm ago", line) for line in shown.lines[2:]), shown.lines
    hourly = on_terminal("runtimes", "-r", "demo", "--by", "hour", "--utc", "--color", "never", columns=120)
    assert re.search(r"^\S+\s+2025-03-0\d \d\d:00 ", hourly.lines[2]), hourly.lines[2]
    daily = on_terminal("runtimes", "-r", "demo", "--by", "day", "--utc", "--color", "never", columns=120)
    assert re.search(r"^\S+\s+2025-03-0\d ", daily.lines[2]) and ":00" not in cells(daily.lines[2])[1]


def test_short_headers_name_their_fields() -> None:
    out = run_cli("tasks", "-r", "demo", "-o", "tsv", "--fields", "task_name,took,ok%,last").stdout
    assert out.splitlines()[0] == "task_name\tlast_duration\tsuccess_rate\tlast_outcome"
    out = run_cli("runtimes", "-r", "demo", "-o", "csv", "--fields", "task_name,ok,term,inact").stdout
    assert out.splitlines()[0] == "task_name,success,terminate,inaction"


def test_no_headers_for_tsv_and_csv() -> None:
    for fmt in ("tsv", "csv"):
        with_header = run_cli("ls", "-r", "demo", "-n", "3", "-o", fmt).stdout.splitlines()
        without = run_cli("ls", "-r", "demo", "-n", "3", "-o", fmt, "--no-headers").stdout.splitlines()
        assert without == with_header[1:]
    assert run_cli("info", "-r", "demo", "-o", "tsv", "--no-headers").stdout.startswith("source\t")


def test_info_plain_gives_each_task_its_own_line() -> None:
    out = run_cli("info", "-r", str(TASK_RUN), "-o", "plain").stdout
    assert 'tasks.fails, "loudly" ✗\t18' in out.splitlines()
    tasks = [line for line in out.splitlines() if line.startswith("tasks.")]
    assert len(tasks) == 14
    table = on_terminal("info", "-r", str(TASK_RUN), "--utc", columns=100).lines
    assert any(line.startswith("first") and "2026-11-21 19:51:56.913 UTC" in line for line in table)


def test_timeline_labels_inferred_retries_and_a_zero_window_infers_none() -> None:
    out = run_cli("timeline", "import_orders", "-r", "demo", "-o", "plain").stdout
    assert "--- Retry 1 (inferred) ---" in out
    assert "--- Retry 1 ---" not in out
    off = run_cli("timeline", "import_orders", "-r", "demo", "-o", "plain", "--retry-window", "0").stdout
    assert "Retry" not in off and "attempt 2" not in off


def test_taskflow_times_show_no_false_milliseconds(tmp_path: Path) -> None:
    copy = tmp_path / "taskflow.db"  # SQLite makes -wal/-shm files next to what it reads
    shutil.copyfile(ROCKETRY.parent / "taskflow" / "taskflow.db", copy)
    store = f"sqlite:///{copy}"
    found = json.loads(run_cli("runs", "-r", store, "-o", "json").stdout)
    out = run_cli("timeline", found[0]["task_name"], "-r", store, "-o", "plain").stdout
    assert not re.search(r"\d\d:\d\d:\d\d\.000", out), out


# --- Follow lines --------------------------------------------------------------------------------------


def interrupt(_: float) -> None:
    raise KeyboardInterrupt


def test_follow_lines_widen_for_longer_names_and_give_the_message_the_rest(tmp_path: Path) -> None:
    log = tmp_path / "log.csv"
    log.write_text(f"task_name,action,created,message\r\na,run,{T0},short\r\n", encoding="utf-8")
    later = [(f"live_job_{n}", "x" * 150) for n in range(3)] + [("tab\there", "y" * 150)]
    polls = []

    def sleep(_: float) -> None:
        if polls:
            raise KeyboardInterrupt
        polls.append(1)
        with log.open("a", encoding="utf-8", newline="") as file:
            for n, (name, message) in enumerate(later):
                file.write(f'"{name}",run,{T0 + n + 1},{message}\r\n')

    shown = on_terminal("tail", "-f", "-r", str(log), columns=120, sleep=sleep)
    assert shown.code == 0, shown.stderr
    assert_fits(shown, 120)
    for n in range(3):
        assert any(f"live_job_{n} " in line for line in shown.lines)
    assert all(len(line) == 120 for line in shown.lines[2:])  # the message takes the rest of the line
    assert any("tab\\there" in line for line in shown.lines)


# --- The pager and the notes ---------------------------------------------------------------------------


def pager_to(path: Path) -> str:
    """A pager command that copies what it is given (and the LESS it was given) to a file."""
    script = (
        f"import os, sys; open({str(path)!r}, 'w').write(os.environ.get('LESS', '') + '|' + sys.stdin.read())"
    )
    return f"{sys.executable} -c {json.dumps(script)}"


def test_output_longer_than_the_screen_goes_through_the_pager(tmp_path: Path) -> None:
    copied = tmp_path / "paged.txt"
    with (tmp_path / "terminal.txt").open("w", encoding="utf-8") as terminal:
        shown = on_terminal("runs", "-r", "demo", rows=24, variables={"TASKLOG_PAGER": pager_to(copied)},
                            stdout=terminal)  # fmt: skip
    assert shown.code == 0
    less, _, text = copied.read_text(encoding="utf-8").partition("|")
    assert less == "FRSX"
    assert len(text.splitlines()) == 2 + 387
    assert (tmp_path / "terminal.txt").read_text(encoding="utf-8") == ""


@pytest.mark.parametrize("case", ["short", "no-pager", "follow", "empty-pager"], ids=lambda case: case)
def test_the_pager_is_not_used(tmp_path: Path, case: str) -> None:
    copied = tmp_path / "paged.txt"
    variables = {"TASKLOG_PAGER": "" if case == "empty-pager" else pager_to(copied), "LESS": "R"}
    args = {"short": ["runs", "-n", "3"], "no-pager": ["runs", "--no-pager"], "follow": ["tail", "-f", "-n", "40"],
            "empty-pager": ["runs"]}[case]  # fmt: skip
    shown = on_terminal(*args, "-r", "demo", rows=24, variables=variables, sleep=interrupt)
    assert shown.code == 0
    assert not copied.exists()
    assert len(shown.lines) > 3


def test_a_limit_that_cut_the_result_is_said_on_a_terminal() -> None:
    assert on_terminal("runs", "-r", "demo", "-n", "5").stderr == "tasklog: 5 of 387 runs\n"
    assert on_terminal("ls", "-r", "demo", "-n", "5").stderr == "tasklog: 5 records; more exist\n"
    assert on_terminal("ls", "-r", "demo", "--head", "5").stderr == "tasklog: 5 records; more exist\n"
    assert on_terminal("tail", "-r", "demo", "-n", "5").stderr == "tasklog: 5 records; more exist\n"
    shown = on_terminal("ls", "-r", "demo", "--head", "5")
    assert len(shown.lines) == 2 + 5
    assert on_terminal("ls", "-r", "demo", "-n", "5000").stderr == ""  # nothing was cut
    assert run_cli("ls", "-r", "demo", "-n", "5").stderr == ""  # a pipe is told nothing


# --- In a real pseudo-terminal -------------------------------------------------------------------------


def run_in_terminal(*args: str, columns: int = 80, env: dict[str, str] | None = None) -> str:
    """Run tasklog with stdout on a pty of `columns` x 24 and return what it printed."""
    controller, terminal = pty.openpty()
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))
    environment = {
        key: value for key, value in os.environ.items() if key not in ("COLUMNS", "LINES", "NO_COLOR")
    }
    environment.update({"TERM": "xterm-256color", "TZ": "UTC", "TASKLOG_PAGER": "", **(env or {})})
    process = subprocess.Popen(
        [sys.executable, "-m", "tasklog_cli", *args], stdout=terminal, stderr=subprocess.PIPE, env=environment
    )
    os.close(terminal)
    chunks = []
    while True:
        try:
            chunk = os.read(controller, 65536)
        except OSError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    process.wait(timeout=30)
    os.close(controller)
    assert process.returncode == 0, process.stderr.read() if process.stderr else ""
    return b"".join(chunks).decode("utf-8").replace("\r\n", "\n")


def test_table_is_the_default_on_a_terminal_and_fits_its_width() -> None:
    out = run_in_terminal("ls", "-r", str(TASK_RUN), "-n", "8", columns=90)
    plain = ANSI.sub("", out)
    lines = plain.splitlines()
    assert lines[0].split() == ["created", "(UTC)", "task_name", "action", "run_id", "message"]
    assert len(lines) == 2 + 8
    assert all(cell_len(line) <= 90 for line in lines)
    assert "\x1b[" in out  # coloured actions


def test_colour_can_be_refused() -> None:
    source = str(TASK_RUN)
    assert "\x1b[" not in run_in_terminal("ls", "-r", source, "-n", "3", "--color", "never")
    assert "\x1b[" not in run_in_terminal("ls", "-r", source, "-n", "3", env={"NO_COLOR": "1"})
    narrow = ANSI.sub("", run_in_terminal("ls", "-r", source, "-n", "3", columns=50))
    assert all(cell_len(line) <= 50 for line in narrow.splitlines())
    assert "action" in narrow


def test_machine_formats_never_colour_even_on_a_terminal() -> None:
    out = run_in_terminal("ls", "-r", str(TASK_RUN), "-n", "3", "-o", "jsonl", "--color", "always")
    assert "\x1b[" not in out
    assert len(out.splitlines()) == 3


def read_until_quiet(controller: int) -> bytes:
    """What a pty shows until it has been quiet a while (or closed)."""
    import select

    seen = b""
    while select.select([controller], [], [], 1.0)[0]:
        try:
            chunk = os.read(controller, 65536)
        except OSError:
            break
        if not chunk:
            break
        seen += chunk
    return seen


def test_a_real_pager_pages_on_a_real_terminal() -> None:
    """`less` itself, on a pty of 24 rows: the output reaches the screen through it and q ends it."""
    controller, terminal = pty.openpty()
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
    environment = {key: value for key, value in os.environ.items() if key not in ("COLUMNS", "LINES", "LESS")}
    environment.update({"TERM": "xterm-256color", "TZ": "UTC", "TASKLOG_PAGER": "less"})
    if subprocess.run(["which", "less"], check=False, capture_output=True).returncode:
        pytest.skip("less is not installed")
    process = subprocess.Popen(
        [sys.executable, "-m", "tasklog_cli", "runs", "-r", "demo"],
        stdin=terminal, stdout=terminal, stderr=subprocess.PIPE, env=environment,
    )  # fmt: skip
    screen = read_until_quiet(controller)
    os.write(controller, b"q")
    screen += read_until_quiet(controller)
    process.wait(timeout=30)
    os.close(terminal)
    os.close(controller)
    assert process.returncode == 0
    assert screen.count(b"check_disk_space") < 40  # one screen of 387 runs, not all of them


def test_csv_is_exact_when_piped_and_shows_controls_on_a_terminal(tmp_path: Path) -> None:
    path = tmp_path / "hostile.csv"
    with path.open("w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(["task_name", "action", "created", "message"])
        writer.writerow(["job", "run", 1764590000.0, "clear\x1b[2Jscreen\nsecond"])
    on_terminal = run_in_terminal("ls", "-r", str(path), "-o", "csv", "--fields", "message")
    assert "\x1b[2J" not in on_terminal and "clear\\x1b[2Jscreen\\nsecond" in on_terminal
    piped = run_cli("ls", "-r", str(path), "-o", "csv", "--fields", "message").stdout
    assert piped == 'message\n"clear\x1b[2Jscreen\nsecond"\n'
