"""SQLite stores that hold what they should not: a bad value costs its row (counted, or exit 3 under
--strict naming the row's key), a broken file is one `cannot read` line; never an unexpected error."""

import dataclasses
import json
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
from conftest import assert_one_error_line, run_cli
from test_services import SERVERS, reachable

GOOD = [
    ("good", "run", 1795000000.0, "r1", "ok", None, None),
    ("good", "success", 1795000002.0, "r1", "ok", "2026-11-21 10:00:00", "0:00:02"),
]
# (task_name, action, created, run_id, message, start, runtime): each row wrong in one value.
BAD = [
    ("good", "run", b"\x00\xff", "b1", "created is a BLOB", None, None),
    ("good", "run", "garbage", "b2", "created is text", None, None),
    ("good", "run", float("inf"), "b3", "created is infinite", None, None),
    ("good", "run", 9_000_000_000_000_000_000, "b4", "created is past year 9999", None, None),
    ("good", "run", -1e300, "b5", "created is before year 1", None, None),
    (42, "run", 1795000003.0, "b6", "task_name is a number", None, None),
    (b"\xff\xfe", "run", 1795000004.0, "b7", "task_name is a binary BLOB", None, None),
    ("good", b"\x80", 1795000005.0, "b8", "action is a binary BLOB", None, None),
    ("good", "run", None, "b9", "created is NULL", None, None),
]
BAD_EXTRAS = [  # wrong only in a column that is converted when asked for
    ("good", "run", 1795000006.0, "b10", b"\xff message", None, None),
    ("good", "run", 1795000007.0, "b11", "start is garbage", "garbage", None),
    ("good", "run", 1795000008.0, "b12", "start is a BLOB", b"\x01", None),
    ("good", "run", 1795000009.0, "b13", "runtime is garbage", None, "soon"),
]
COMMANDS = [
    ("ls",), ("ls", "--fields", "all", "-o", "json"), ("ls", "--sort", "created"), ("ls", "-S", "@1795000001"),
    ("tail", "-n", "3"), ("runs",), ("runtimes",), ("tasks",), ("timeline", "good"),
    ("check", "--max-failures", "5"), ("info", "-o", "json"),
]  # fmt: skip


@pytest.fixture
def hostile_db(tmp_path: Path) -> Path:
    """A table whose loosely typed columns (task_name, action have none) took every bad value above."""
    path = tmp_path / "hostile.db"
    with sqlite3.connect(path) as connection:
        connection.execute(
            "CREATE TABLE tasks (task_name, action, created REAL, run_id TEXT, message TEXT, start TEXT,"
            " runtime TEXT)"
        )
        connection.executemany("INSERT INTO tasks VALUES (?, ?, ?, ?, ?, ?, ?)", GOOD + BAD + BAD_EXTRAS)
        stored = dict(connection.execute("SELECT run_id, typeof(created) FROM tasks").fetchall())
    assert stored["b1"] == "blob" and stored["b2"] == "text"  # SQLite kept them as they came
    return path


def warning_count(stderr: str) -> int:
    """The count of the one `skipped N malformed row(s)` warning (0 when there is none)."""
    lines = stderr.splitlines()
    assert len(lines) <= 1, stderr
    if not lines:
        return 0
    assert lines[0].startswith("tasklog: warning: skipped "), lines[0]
    return int(lines[0].split()[3])


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_every_command_skips_and_counts_bad_rows(hostile_db: Path, command: tuple[str, ...]) -> None:
    result = run_cli(*command, "-r", str(hostile_db))
    assert "unexpected" not in result.stderr and "Traceback" not in result.stderr
    skipped = warning_count(result.stderr)
    if command[0] in ("ls", "runs", "runtimes", "tasks") and "-S" not in command:
        assert skipped >= len(BAD) - 1  # each bad core value (a NULL task or created may be a SQL filter's)
    if command[0] == "timeline":  # only the named task's history is read
        assert skipped >= sum(row[0] == "good" for row in BAD) > 0
    if "all" in command:
        assert skipped == len(BAD) + len(BAD_EXTRAS)


@pytest.mark.parametrize("command", [c for c in COMMANDS if c[0] not in ("info", "check")], ids=" ".join)
def test_strict_fails_naming_the_row(hostile_db: Path, command: tuple[str, ...]) -> None:
    if command == ("tail", "-n", "3"):
        command = ("tail", "-n", "100")
    result = run_cli(*command, "-r", str(hostile_db), "--strict", expect=3)
    assert_one_error_line(result, "malformed row in", "rowid ")


def test_the_warning_and_the_error_name_what_is_wrong(hostile_db: Path) -> None:
    strict = run_cli("ls", "-r", str(hostile_db), "--strict", expect=3)
    assert_one_error_line(strict, "rowid 3: created is not a time: bytes b'\\x00\\xff'")
    skipped = run_cli("ls", "-r", str(hostile_db), "--fields", "run_id")
    assert (
        "(e.g. rowid 3: created is not a time: bytes b'\\x00\\xff'; --strict fails on them)" in skipped.stderr
    )
    records = skipped.stdout.split()
    assert records[:2] == ["r1", "r1"]
    assert set(records) <= {"r1", *(f"b{n}" for n in range(10, 14))}


def test_info_counts_tasks_that_are_text(hostile_db: Path) -> None:
    info = json.loads(run_cli("info", "-r", str(hostile_db), "-o", "json").stdout)
    assert info["tasks"] == {"good": 2 + 4}
    assert info["first"] == "2026-11-18T11:06:40.000000+00:00"


def broken_database(path: Path, damage: str) -> Path:
    """A real SQLite file of 3000 rows with one kind of damage: a page of the table, the table's root
    page, or the schema."""
    with sqlite3.connect(path) as connection:
        connection.execute(
            "CREATE TABLE tasks (id INTEGER PRIMARY KEY, task_name TEXT, action TEXT, created REAL,"
            " run_id TEXT, message TEXT)"
        )
        connection.executemany(
            "INSERT INTO tasks (task_name, action, created, run_id, message) VALUES (?, ?, ?, ?, ?)",
            [(f"t{n % 7}", "run" if n % 2 == 0 else "success", 1795000000.0 + n, f"r{n // 2}", "x" * 50)
             for n in range(3000)],
        )  # fmt: skip
    page, size = 4096, path.stat().st_size
    with path.open("r+b") as file:
        if damage == "table page":
            file.seek(page * (size // page // 2))
            file.write(b"\xde\xad\xbe\xef" * 1024)
        elif damage == "root page":
            file.seek(page)
            file.write(b"\x0d\x00" + b"\xff" * (page - 2))
        else:
            file.seek(100)
            file.write(b"\xff" * 3000)
    return path


@pytest.mark.parametrize("damage", ["table page", "root page", "schema"])
@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_a_broken_file_is_one_cannot_read_line(tmp_path: Path, damage: str, command: tuple[str, ...]) -> None:
    path = broken_database(tmp_path / "broken.db", damage)
    if damage == "table page" and command[0] == "tail":
        return  # the last rows are intact there: `tail` reads only them, and rightly succeeds
    result = run_cli(*command, "-r", str(path), expect=3)
    if damage == "table page":  # rows before the damage may have been printed: the error still ends it
        result = dataclasses.replace(result, stdout="")
    assert_one_error_line(result, "cannot read", "malformed")


def follow_for_a_moment(path: Path, backlog: int) -> subprocess.CompletedProcess[str]:
    """`tail -f` until it printed `backlog` lines (whatever the machine's load), a moment more, then Ctrl-C."""
    follower = subprocess.Popen(
        [sys.executable, "-m", "tasklog_cli", "tail", "-f", "-n", "50", "--interval", "0.05", "-o", "jsonl",
         "-r", str(path)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert follower.stdout is not None
    guard = threading.Timer(30, follower.kill)  # a follower that prints less must not hang the suite
    guard.start()
    printed = "".join(follower.stdout.readline() for _ in range(backlog))
    guard.cancel()
    time.sleep(0.5)
    if follower.poll() is None:
        follower.send_signal(signal.SIGINT)
    out, err = follower.communicate(timeout=20)
    return subprocess.CompletedProcess(follower.args, follower.returncode, printed + out, err)


def test_tail_f_on_bad_rows_and_broken_files(hostile_db: Path, tmp_path: Path) -> None:
    hostile = follow_for_a_moment(hostile_db, backlog=len(GOOD))
    assert (
        hostile.returncode == 0 and "Traceback" not in hostile.stderr and "unexpected" not in hostile.stderr
    )
    assert len(hostile.stdout.splitlines()) == len(GOOD)  # jsonl: every column, so every bad row skipped
    broken = subprocess.run(  # a follower that cannot read ends by itself, however long it takes to start
        [sys.executable, "-m", "tasklog_cli", "tail", "-f", "-n", "50", "--interval", "0.05", "-o", "jsonl",
         "-r", str(broken_database(tmp_path / "broken.db", "schema"))],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert broken.returncode == 3 and broken.stdout == ""
    assert broken.stderr.splitlines() == [broken.stderr.strip()]
    assert broken.stderr.startswith("tasklog: error: cannot read")


@pytest.mark.services
def test_postgresql_nan_and_infinity_in_created() -> None:
    """PostgreSQL's double precision holds NaN and ±Infinity: such a row costs itself, in the database's
    own statistics too (the task is paired in Python instead)."""
    engine = reachable(SERVERS["postgresql"])
    name = f"tasklog_nan_{uuid.uuid4().hex[:8]}"
    with engine.begin() as connection:
        connection.execute(sa.text(
            f"CREATE TABLE {name} (id SERIAL PRIMARY KEY, task_name TEXT, action TEXT, created DOUBLE PRECISION,"
            " run_id TEXT)"
        ))  # fmt: skip
        connection.execute(
            sa.text(f"INSERT INTO {name} (task_name, action, created, run_id) VALUES (:t, :a, :c, :r)"),
            [
                {"t": "t", "a": "run", "c": 10.0, "r": "1"},
                {"t": "t", "a": "success", "c": 12.0, "r": "1"},
                {"t": "t", "a": "run", "c": 20.0, "r": "2"},
                {"t": "t", "a": "success", "c": float("inf"), "r": "2"},
                {"t": "t", "a": "run", "c": float("nan"), "r": "3"},
                {"t": "u", "a": "run", "c": float("-inf"), "r": "4"},
            ],
        )
    spec = f"{SERVERS['postgresql']}#{name}"
    try:
        for command in COMMANDS:
            if command[0] != "timeline":
                result = run_cli(*command, "-r", spec, expect=1 if "-S" in command else 0)
                assert "unexpected" not in result.stderr and "Traceback" not in result.stderr
        runtimes = json.loads(run_cli("runtimes", "-r", spec, "-o", "json").stdout)
        assert [(row["task_name"], row["runs"], row["success"], row["running"]) for row in runtimes] == [
            ("t", 2, 1, 1)
        ]
        strict = run_cli("ls", "-r", spec, "--strict", expect=3)
        assert_one_error_line(strict, "id 4: inf is not a time")
        info = json.loads(run_cli("info", "-r", spec, "-o", "json").stdout)
        assert info["last"] == "1970-01-01T00:00:20.000000+00:00"
    finally:
        with engine.begin() as connection:
            connection.execute(sa.text(f"DROP TABLE {name}"))
        engine.dispose()


def test_the_last_n_are_the_last_n_good_rows(hostile_db: Path) -> None:
    """The newest rows are all bad when every column is read: `-n 2` still finds the last two good ones
    (a LIMIT the bad rows filled is read past)."""
    last = json.loads(run_cli("ls", "-r", str(hostile_db), "-n", "2", "-o", "json").stdout)
    assert [row["run_id"] for row in last] == ["r1", "r1"]
    assert warning_count(run_cli("ls", "-r", str(hostile_db), "-n", "2", "-o", "json").stderr) == len(
        BAD
    ) + len(BAD_EXTRAS)
