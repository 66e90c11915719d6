"""One golden file per output format at a fixed width, tables at several widths, no colour, TZ=UTC; one
table in a zone with DST."""

import io
import time
from pathlib import Path

import pytest
from conftest import ROCKETRY, assert_golden, local_zone, run_cli

from tasklog_cli import cli
from tasklog_cli.environment import Environment

FORMATS = ["table", "plain", "tsv", "csv", "json", "jsonl"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_ls_golden(fmt: str) -> None:
    source = str(ROCKETRY / "task_run.csv")
    out = run_cli("ls", "-r", source, "-t", "fails*", "-t", "timeout_thread", "--head", "6", "-o", fmt,
                  env={"COLUMNS": "100"}).stdout  # fmt: skip
    assert_golden(f"ls.{fmt}", out)


@pytest.mark.parametrize("fmt", ["table", "plain", "json"])
def test_info_golden(fmt: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROCKETRY)  # a relative path: the same output wherever the checkout is
    out = run_cli("info", "-r", "task_run.db", "-o", fmt, env={"COLUMNS": "100"}).stdout
    assert_golden(f"info.{fmt}", out)


def test_table_in_a_zone_across_a_dst_change(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    log = tmp_path / "dst.csv"
    # 2026-10-25: Helsinki falls back from 04:00 EEST to 03:00 EET at 01:00 UTC.
    rows = [("nightly", "run", 1_792_890_000.0 + step * 1800) for step in range(5)]
    log.write_text("task_name,action,created\r\n" + "".join(f"{t},{a},{c}\r\n" for t, a, c in rows))
    monkeypatch.setenv("TZ", "Europe/Helsinki")
    time.tzset()
    table = run_cli("ls", "-r", str(log), "-o", "table", env={"COLUMNS": "80"}).stdout
    utc = run_cli("ls", "-r", str(log), "-o", "table", "--utc", env={"COLUMNS": "80"}).stdout
    assert_golden("ls_dst_helsinki.table", table)
    assert_golden("ls_dst_utc.table", utc)


TABLE_COMMANDS = {
    "ls": ["ls", "-t", "fails*", "-t", "timeout_thread", "--head", "6"],
    "runs": ["runs", "-t", "timeout_thread", "-t", "long_running", "-t", "flaky_retry", "-n", "8"],
    "runtimes": ["runtimes"],
    "tasks": ["tasks"],
}


@pytest.mark.parametrize("width", [60, 80, 100, 120, 200])
@pytest.mark.parametrize("command", TABLE_COMMANDS)
def test_tables_at_several_widths(command: str, width: int) -> None:
    args = [*TABLE_COMMANDS[command], "-r", str(ROCKETRY / "task_run.csv"), "-o", "table"]
    out = run_cli(*args, env={"COLUMNS": str(width)}).stdout
    assert all(len(line) <= width for line in out.splitlines())
    assert_golden(f"{command}_{width}.table", out)


def test_runtimes_as_the_demo_shows_it_on_a_terminal_of_100_columns() -> None:
    """The README's example: the demo's runtimes on a terminal, sparkline and outcome strip included."""
    stdout = io.StringIO()
    env = Environment(stdout, io.StringIO(), io.StringIO(), is_terminal=True, columns=100,
                      variables={"TASKLOG_PAGER": ""})  # fmt: skip
    assert cli.run(["runtimes", "-r", "demo", "--color", "never", "--utc"], env) == 0
    assert_golden("runtimes_demo_100.table", stdout.getvalue())


def test_a_time_column_names_both_zones_across_a_dst_change(tmp_path: Path) -> None:
    log = tmp_path / "dst.csv"
    rows = [("nightly", "run", 1_792_886_400.0 + step * 1800) for step in range(5)]  # from 00:00 UTC
    log.write_text("task_name,action,created\r\n" + "".join(f"{t},{a},{c}\r\n" for t, a, c in rows))
    with local_zone("Europe/Helsinki"):
        table = run_cli("ls", "-r", str(log), "-o", "table").stdout
    assert table.startswith("created (EEST/EET)")
    assert [line[11:16] for line in table.splitlines()[2:]] == ["03:00", "03:30", "03:00", "03:30", "04:00"]
