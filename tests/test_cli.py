"""The CLI end to end: real fixture stores, every format, selection options and the exit-code table."""

import csv
import hashlib
import io
import json
import os
import sqlite3
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from conftest import ROCKETRY, assert_one_error_line, run_cli

from tasklog_cli.cli import app

CSV_LOGS = sorted(ROCKETRY.glob("*.csv"))
SQLITE_LOGS = sorted(ROCKETRY.glob("*.db"))
ALL_LOGS = [*CSV_LOGS, *SQLITE_LOGS, ROCKETRY / "memory.json"]


def independent_rows(path: Path) -> list[dict[str, object]]:
    """Read a fixture without tasklog: csv.DictReader, sqlite3 or json."""
    if path.suffix == ".csv":
        with path.open(newline="", encoding="utf-8") as file:
            return [dict(row) for row in csv.DictReader(file)]
    if path.suffix == ".db":
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        connection.row_factory = sqlite3.Row
        table = "tasks" if path.name == "task_run.db" else "logs"
        return [dict(row) for row in connection.execute(f"SELECT * FROM {table}")]
    return list(json.loads(path.read_text("utf-8")))


def counts(rows: list[dict[str, object]]) -> Counter[tuple[str, str]]:
    return Counter((str(row["task_name"]), str(row["action"])) for row in rows)


def jsonl(stdout: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in stdout.splitlines()]


@pytest.mark.parametrize("path", ALL_LOGS, ids=lambda path: path.name)
def test_ls_reads_every_record_of_every_real_store(path: Path) -> None:
    expected = independent_rows(path)
    records = jsonl(run_cli("ls", "-r", str(path), "-o", "jsonl").stdout)
    assert counts(records) == counts(expected)
    assert [round(float(str(row["created"])), 6) for row in expected][:5] == [
        round(float(str(row["created"])), 6) for row in expected[:5]
    ]


@pytest.mark.parametrize("path", ALL_LOGS, ids=lambda path: path.name)
def test_task_and_action_filters_agree_with_an_independent_count(path: Path) -> None:
    expected = counts(independent_rows(path))
    for (task, action), number in expected.items():
        out = run_cli("ls", "-r", str(path), "--task", task, "--action", action, "-o", "jsonl").stdout
        assert len(out.splitlines()) == number, (task, action)


def test_time_window_agrees_with_an_independent_reading() -> None:
    path = ROCKETRY / "task_run.csv"
    created = sorted(float(str(row["created"])) for row in independent_rows(path))
    since, until = created[len(created) // 4], created[len(created) // 2]
    out = run_cli("ls", "-r", str(path), "-S", f"@{since}", "-U", f"@{until}", "-o", "jsonl").stdout
    assert len(out.splitlines()) == sum(since <= value < until for value in created)


def test_machine_fields_and_times_are_exact() -> None:
    rows = jsonl(run_cli("ls", "-r", str(ROCKETRY / "task_run.csv"), "--head", "1", "-o", "jsonl").stdout)
    row = rows[0]
    assert list(row)[:4] == ["created", "task_name", "action", "run_id"]
    assert set(row) == {
        "created",
        "task_name",
        "action",
        "run_id",
        "start",
        "end",
        "runtime",
        "message",
        "exc_text",
    }
    first = independent_rows(ROCKETRY / "task_run.csv")[0]
    from datetime import UTC, datetime

    assert row["created"] == datetime.fromtimestamp(float(str(first["created"])), UTC).isoformat(
        timespec="microseconds"
    )
    assert str(row["created"]).endswith("+00:00")


def test_minimal_record_has_null_run_id() -> None:
    rows = jsonl(run_cli("ls", "-r", str(ROCKETRY / "minimal.csv"), "-n", "2", "-o", "jsonl").stdout)
    assert all(row["run_id"] is None for row in rows)
    assert set(rows[0]) == {"created", "task_name", "action", "run_id"}


def test_last_head_and_sort() -> None:
    path = str(ROCKETRY / "task_run.csv")
    every = jsonl(run_cli("ls", "-r", path, "-o", "jsonl", "--fields", "created,task_name").stdout)
    last = jsonl(run_cli("ls", "-r", path, "-n", "7", "-o", "jsonl", "--fields", "created,task_name").stdout)
    head = jsonl(
        run_cli("ls", "-r", path, "--head", "4", "-o", "jsonl", "--fields", "created,task_name").stdout
    )
    ordered = jsonl(
        run_cli("ls", "-r", path, "--sort", "created", "-o", "jsonl", "--fields", "created").stdout
    )
    assert last == every[-7:]
    assert head == every[:4]
    assert [row["created"] for row in ordered] == sorted(row["created"] for row in every)
    assert len(ordered) == len(every)
    result = run_cli("ls", "-r", path, "-n", "2", "--head", "2", expect=2)
    assert_one_error_line(result, "--head")


def test_repo_after_the_command_wins_and_env_is_the_fallback() -> None:
    csv_path, db_path = str(ROCKETRY / "minimal.csv"), str(ROCKETRY / "task_run.db")
    after = run_cli("-r", csv_path, "info", "-r", db_path, "-o", "json").stdout
    assert json.loads(after)["source"] == db_path
    before = run_cli("-r", csv_path, "info", "-o", "json").stdout
    assert json.loads(before)["source"] == csv_path
    from_env = json.loads(run_cli("info", "-o", "json", env={"TASKLOG_REPO": db_path}).stdout)
    assert (from_env["source"], from_env["chosen_by"]) == (db_path, "TASKLOG_REPO")
    flag_over_env = json.loads(
        run_cli("info", "-r", csv_path, "-o", "json", env={"TASKLOG_REPO": db_path}).stdout
    )
    assert flag_over_env["source"] == csv_path


def test_plain_escapes_keep_one_record_per_line() -> None:
    path = str(ROCKETRY / "task_run.csv")
    out = run_cli("ls", "-r", path, "-a", "fail", "--fields", "task_name,exc_text").stdout
    expected = [row for row in independent_rows(ROCKETRY / "task_run.csv") if row["action"] == "fail"]
    lines = out.splitlines()
    assert len(lines) == len(expected)
    task, exc_text = lines[0].split("\t")
    assert task == expected[0]["task_name"]
    assert (
        "\\n" in exc_text and exc_text.replace("\\n", "\n").replace("\\\\", "\\") == expected[0]["exc_text"]
    )


def test_tsv_and_csv_have_headers_and_parse_back() -> None:
    path = str(ROCKETRY / "task_run.csv")
    tsv = run_cli("ls", "-r", path, "--head", "3", "-o", "tsv").stdout.splitlines()
    assert tsv[0] == "created\ttask_name\taction\trun_id\tmessage"
    assert len(tsv) == 4
    out = run_cli("ls", "-r", path, "-a", "fail", "-o", "csv", "--fields", "task_name,exc_text").stdout
    parsed = list(csv.DictReader(out.splitlines(keepends=True)))
    expected = [row for row in independent_rows(ROCKETRY / "task_run.csv") if row["action"] == "fail"]
    assert [(row["task_name"], row["exc_text"]) for row in parsed] == [
        (row["task_name"], row["exc_text"]) for row in expected
    ]


def test_json_is_one_array_with_every_column() -> None:
    out = run_cli("ls", "-r", str(ROCKETRY / "run.csv"), "-n", "3", "-o", "json").stdout
    rows = json.loads(out)
    assert len(rows) == 3
    assert {"levelname", "lineno", "process", "formatted_message"} <= set(rows[0])
    assert isinstance(rows[0]["lineno"], int)


@pytest.mark.parametrize(
    ("fmt", "expected"),
    [("json", "[]\n"), ("jsonl", ""), ("csv", "created,task_name,action,run_id,message\n"), ("plain", "")],
)
def test_empty_result_exits_1(fmt: str, expected: str) -> None:
    result = run_cli("ls", "-r", str(ROCKETRY / "task_run.csv"), "-t", "no_such_task", "-o", fmt, expect=1)
    assert result.stdout == expected
    assert result.stderr == ""


def test_fields_all_and_unknown_field() -> None:
    path = str(ROCKETRY / "task_run.db")
    header = run_cli("ls", "-r", path, "--head", "1", "-o", "tsv", "--fields", "all").stdout.splitlines()[0]
    assert header.split("\t") == [
        "created", "task_name", "action", "run_id", "id", "start", "end", "runtime", "message", "exc_text"
    ]  # fmt: skip
    assert_one_error_line(run_cli("ls", "-r", path, "--fields", "nope", expect=2), "nope", "task_name")
    assert_one_error_line(run_cli("ls", "-r", path, "-w", "nope=1", expect=2), "nope")


def test_where_grep_and_globs_on_a_real_log() -> None:
    path = str(ROCKETRY / "task_run.csv")
    rows = independent_rows(ROCKETRY / "task_run.csv")
    out = run_cli("ls", "-r", path, "-t", "timeout_*", "-o", "jsonl").stdout
    assert len(out.splitlines()) == sum(str(row["task_name"]).startswith("timeout_") for row in rows)
    out = run_cli("ls", "-r", path, "-g", "VALUEERROR", "-i", "-o", "jsonl").stdout
    assert len(out.splitlines()) == sum("valueerror" in str(row["exc_text"]).lower() for row in rows)
    out = run_cli("ls", "-r", path, "-w", "run_id=1", "-o", "jsonl").stdout
    assert len(out.splitlines()) == sum(row["run_id"] == "1" for row in rows)


def test_info_describes_csv_and_sqlite() -> None:
    info = json.loads(run_cli("info", "-r", str(ROCKETRY / "task_run.csv"), "-o", "json").stdout)
    rows = independent_rows(ROCKETRY / "task_run.csv")
    assert info["model"] == "TaskRunRecord"
    assert info["kind"] == "CSV file"
    assert info["records"] == len(rows)
    assert info["tasks"] == dict(sorted(Counter(str(row["task_name"]) for row in rows).items()))
    info = json.loads(run_cli("info", "-r", str(ROCKETRY / "task_run.db"), "-o", "json").stdout)
    assert (info["table"], info["model"]) == ("tasks", "TaskRunRecord")
    assert (
        "CREATE INDEX ix_tasks_task_name_created ON tasks (task_name, created)" in info["suggested_indexes"]
    )
    assert json.loads(run_cli("info", "-r", str(ROCKETRY / "minimal.csv"), "-o", "json").stdout)["model"] == (
        "MinimalRecord"
    )
    assert (
        json.loads(run_cli("info", "-r", str(ROCKETRY / "run.csv"), "-o", "json").stdout)["model"]
        == "RunRecord"
    )


def test_demo_is_real_rocketry_and_small() -> None:
    out = run_cli("ls", "-r", "demo", "-n", "20", "-o", "jsonl").stdout
    assert len(out.splitlines()) == 20
    info = json.loads(run_cli("info", "-r", "demo", "-o", "json").stdout)
    assert info["model"] == "TaskRunRecord"
    assert info["records"] > 100
    from tasklog_cli.sources import demo_path

    assert demo_path().stat().st_size < 1_000_000


def fingerprint(path: Path) -> tuple[str, float]:
    return hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime


def test_stores_are_never_written(tmp_path: Path) -> None:
    for source in ALL_LOGS:
        folder = tmp_path / source.name.replace(".", "_")
        folder.mkdir()
        copy = folder / source.name
        copy.write_bytes(source.read_bytes())
        before = fingerprint(copy)
        run_cli("ls", "-r", str(copy), "-o", "jsonl")
        run_cli("info", "-r", str(copy), "-o", "json")
        assert fingerprint(copy) == before
        assert sorted(path.name for path in folder.iterdir()) in (
            [copy.name],
            sorted([copy.name, f"{copy.name}-wal", f"{copy.name}-shm"]),
        )


# -- the exit-code table, one stderr line each --------------------------------------------------------------


def test_missing_source(tmp_path: Path) -> None:
    assert_one_error_line(run_cli("ls", "-r", str(tmp_path / "nope.csv"), expect=3), "nope.csv")


def test_empty_binary_and_not_a_log_files(tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    assert_one_error_line(run_cli("ls", "-r", str(empty), expect=3), "empty", "0 bytes")
    binary = tmp_path / "blob.bin"
    binary.write_bytes(bytes(range(256)) * 4)
    assert_one_error_line(run_cli("ls", "-r", str(binary), expect=3), "blob.bin")
    other = tmp_path / "people.csv"
    other.write_text("name,age\r\nann,3\r\n")
    assert_one_error_line(run_cli("ls", "-r", str(other), expect=3), "not a task log", "task_name")
    not_json = tmp_path / "broken.json"
    not_json.write_text("[{")
    assert_one_error_line(run_cli("ls", "-r", str(not_json), expect=3), "broken.json")
    header_only = tmp_path / "header.csv"
    header_only.write_text("task_name,action,created\r\n")
    assert run_cli("ls", "-r", str(header_only), "-o", "json", expect=1).stdout == "[]\n"


def test_unknown_table_and_not_a_log_database(tmp_path: Path) -> None:
    db = ROCKETRY / "task_run.db"
    assert_one_error_line(run_cli("ls", "-r", str(db), "--table", "nope", expect=3), "nope", "tasks")
    assert_one_error_line(run_cli("ls", "-r", f"sqlite:///{db}?table=nope", expect=3), "nope")
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as connection:
        connection.execute("CREATE TABLE people (name TEXT)")
    assert_one_error_line(run_cli("ls", "-r", str(other), expect=3), "not a task log")
    assert_one_error_line(run_cli("ls", "-r", f"sqlite:///{tmp_path / 'absent.db'}", expect=3), "absent.db")
    assert not (tmp_path / "absent.db").exists()


def test_table_from_url_query_and_fragment() -> None:
    db = ROCKETRY / "task_run.db"
    by_query = run_cli("ls", "-r", f"sqlite:///{db}?table=tasks", "-o", "jsonl").stdout
    by_fragment = run_cli("ls", "-r", f"sqlite:///{db}#tasks", "-o", "jsonl").stdout
    by_path = run_cli("ls", "-r", str(db), "-o", "jsonl").stdout
    assert by_query == by_fragment == by_path != ""


def test_unreachable_server_hides_the_password() -> None:
    result = run_cli("ls", "-r", "postgresql://ann:s3cret@127.0.0.1:1/test", expect=3)
    assert_one_error_line(result, "127.0.0.1")
    assert "s3cret" not in result.stderr


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["ls", "-S", "last tuesday"], "last tuesday"),
        (["ls", "-a", "explode"], "explode"),
        (["ls", "-o", "yaml"], "yaml"),
        (["ls", "--bogus"], "--bogus"),
        (["ls", "-w", "created"], "FIELD OP VALUE"),
        (["ls", "-g", "("], "regex"),
        (["ls", "-n", "-3"], "--last"),
        (["ls", "--fields", ","], "--fields"),
        (["runs", "--outcome", "bogus"], "unknown outcome 'bogus'"),
        (["nope"], "nope"),
    ],
)
def test_usage_errors_exit_2(args: list[str], fragment: str) -> None:
    assert_one_error_line(run_cli(*args, "-r", "demo", expect=2), fragment)


def test_no_source_given() -> None:
    assert_one_error_line(run_cli("ls", expect=2), "no source", "TASKLOG_REPO")


def test_malformed_rows_are_skipped_with_a_count_or_fatal_under_strict(tmp_path: Path) -> None:
    path = tmp_path / "log.csv"
    path.write_text(
        "task_name,action,created\r\na,run,1.0\r\nb,run\r\n,run,2.0\r\na,success,notatime\r\na,success,3.0\r\n",
        encoding="utf-8",
    )
    result = run_cli("ls", "-r", str(path), "-o", "jsonl")
    assert [row["action"] for row in jsonl(result.stdout)] == ["run", "success"]
    assert (
        result.stderr == f"tasklog: warning: skipped 3 malformed row(s) in {path} (e.g. 2 fields where "
        "the header has 3: line 3, 'b,run'; --strict fails on them)\n"
    )
    strict = run_cli("ls", "-r", str(path), "--strict", "-o", "jsonl", expect=3)
    assert (
        strict.stderr
        == f"tasklog: error: malformed row in {path}: 2 fields where the header has 3: line 3, 'b,run'\n"
    )


def test_debug_shows_the_traceback(tmp_path: Path) -> None:
    result = run_cli("ls", "-r", str(tmp_path / "nope.csv"), "--debug", expect=3)
    assert "Traceback" in result.stderr
    assert result.stderr.rstrip().splitlines()[-1].startswith("tasklog: error:")


def test_every_command_has_help() -> None:
    from typer.main import get_command

    group = get_command(app)
    for name, command in group.commands.items():  # type: ignore[attr-defined]
        assert command.help, name
        assert run_cli(name, "--help").stdout.startswith("Usage: tasklog " + name)


# -- the real process: entry point, pipes -------------------------------------------------------------------


def tasklog_process(*args: str, **kwargs: object) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.run(  # type: ignore[call-overload, no-any-return]
        [sys.executable, "-m", "tasklog_cli", *args],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        **kwargs,
    )


def test_python_dash_m_and_piped_default_format() -> None:
    result = tasklog_process("ls", "-r", "demo", "-n", "2")
    assert result.returncode == 0, result.stderr
    assert len(result.stdout.splitlines()) == 2
    assert "\t" in result.stdout and "\x1b" not in result.stdout


def test_closed_pipe_ends_quietly() -> None:
    command = f"{sys.executable} -m tasklog_cli ls -r demo | head -n 1"
    result = subprocess.run(
        ["bash", "-o", "pipefail", "-c", command], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0
    assert len(result.stdout.splitlines()) == 1
    assert result.stderr == ""


def test_closed_stdout_is_one_line_and_exit_2() -> None:
    """`tasklog ls >&-`: no traceback, one line naming what is wrong."""
    command = f"{sys.executable} -m tasklog_cli ls -r demo >&-"
    result = subprocess.run(["bash", "-c", command], capture_output=True, text=True, check=False)
    assert (result.returncode, result.stderr) == (
        2, "tasklog: error: standard output is closed: there is nowhere to write the answer\n"
    )  # fmt: skip


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["ls", "-g", "a{4294967296}"], "bad --grep regex 'a{4294967296}'"),
        (["ls", "-g", "(" * 5000 + ")" * 5000], "bad --grep regex"),
        (["runs", "--retry-window", "50110713239w"], "bad duration '50110713239w': out of range"),
        (["check", "--max-age", "50110713239w"], "bad duration '50110713239w': out of range"),
        (["check", "--max-duration", "50110713239w"], "bad duration '50110713239w': out of range"),
    ],
)
def test_numbers_too_big_for_python_are_usage_errors(args: list[str], fragment: str) -> None:
    assert_one_error_line(run_cli(*args, "-r", "demo", expect=2), fragment)


def test_no_command_prints_the_help_on_stderr_and_exits_2() -> None:
    result = run_cli(expect=2)
    assert result.stdout == ""
    assert result.stderr.startswith("Usage: tasklog") and "Runs commands:" in result.stderr


def test_log_is_an_action_on_every_store_and_a_word_that_is_none_is_a_usage_error() -> None:
    result = run_cli("ls", "-r", "demo", "-a", "log", expect=1)
    assert result.stdout == ""
    assert_one_error_line(run_cli("ls", "-r", "demo", "-a", "logs", expect=2), "unknown action 'logs'")


@pytest.mark.parametrize("delay", [0.1, 0.2, 0.3, 0.6, 1.0])
def test_ctrl_c_at_any_moment_is_one_line_and_exit_130(tmp_path: Path, delay: float) -> None:
    """From tasklog's first imports on (the interpreter's own start-up, site included, is Python's): a FIFO
    nobody writes keeps `ls` waiting until the interrupt comes."""
    import signal
    import time

    fifo = tmp_path / "log.fifo"
    os.mkfifo(fifo)
    process = subprocess.Popen(
        [sys.executable, "-m", "tasklog_cli", "ls", "-r", str(fifo)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    caught = 0
    for _ in range(500):  # until the interpreter catches SIGINT at all (before that, the OS's default kills)
        status = Path(f"/proc/{process.pid}/status").read_text()
        caught = int(next(line for line in status.splitlines() if line.startswith("SigCgt:")).split()[1], 16)
        if caught & (1 << (signal.SIGINT - 1)):
            break
        time.sleep(0.01)
    time.sleep(delay)
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=30)
    assert (process.returncode, stdout, stderr) == (130, "", "tasklog: interrupted\n")


def test_reverse_is_newest_first_after_the_last_n_are_chosen() -> None:
    def created(*args: str) -> list[str]:
        return [
            line.split("\t")[0]
            for line in run_cli(*args, "-r", "demo", "--fields", "created").stdout.splitlines()
        ]

    def starts(*args: str) -> list[str]:
        return [
            line.split("\t")[0]
            for line in run_cli(*args, "-r", "demo", "--fields", "start").stdout.splitlines()
        ]

    assert created("ls", "-n", "5", "--reverse") == created("ls", "-n", "5")[::-1] != []
    assert created("ls", "--head", "3", "--reverse") == created("ls", "--head", "3")[::-1] != []
    assert starts("runs", "-n", "4", "--reverse") == starts("runs", "-n", "4")[::-1] != []


def test_an_empty_table_names_the_resolved_window() -> None:
    from tasklog_cli.cli import run
    from tasklog_cli.environment import Environment

    stdout, stderr = io.StringIO(), io.StringIO()
    env = Environment(stdout, stderr, io.StringIO(), is_terminal=True, columns=100, variables={"TZ": "UTC"})
    code = run(["runs", "-r", "demo", "-S", "2025-03-04T09:00Z", "-U", "2025-03-04 10:00 UTC"], env)
    assert (code, stdout.getvalue()) == (1, "")
    assert (
        stderr.getvalue()
        == "tasklog: no matching runs from 2025-03-04 09:00:00 UTC to 2025-03-04 10:00:00 UTC\n"
    )
