"""One golden file per output format at a fixed width, no colour, TZ=UTC; one table in a zone with DST."""

import time
from pathlib import Path

import pytest
from conftest import ROCKETRY, assert_golden, run_cli

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
