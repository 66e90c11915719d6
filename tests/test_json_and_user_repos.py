"""JSON dumps in both styles, JSON lines, JSONDirectoryRepo folders and `module:attr` Red Bird repos."""

import json
import sys
from collections import Counter
from pathlib import Path

import pytest
from conftest import ROCKETRY, assert_one_error_line, run_cli

from tasklog_cli.sources.redbird import load_redbird


def ls_jsonl(*args: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in run_cli("ls", *args, "-o", "jsonl").stdout.splitlines()]


def test_memory_dump_reads_like_the_csv_of_the_same_history() -> None:
    dump = json.loads((ROCKETRY / "memory.json").read_text("utf-8"))
    records = ls_jsonl("-r", str(ROCKETRY / "memory.json"))
    assert Counter((row["task_name"], row["action"]) for row in records) == Counter(
        (item["task_name"], item["action"]) for item in dump
    )
    finished = next(row for row in records if row["end"] is not None)
    assert str(finished["end"]).endswith("+00:00")


def test_pydantic_json_style_and_json_lines(tmp_path: Path) -> None:
    items = [
        {"task_name": "a", "action": "run", "created": 1_763_700_000.5, "start": "2026-11-21T05:20:00.500000",
         "end": None, "runtime": None, "message": "m", "exc_text": None, "run_id": "1"},
        {"task_name": "a", "action": "success", "created": 1_763_700_001.5, "start": "2026-11-21T05:20:00.500000",
         "end": "2026-11-21T05:20:01.500000", "runtime": 1.0, "message": "m", "exc_text": None, "run_id": "1"},
    ]  # fmt: skip
    (tmp_path / "pydantic.json").write_text(json.dumps(items))
    (tmp_path / "lines.jsonl").write_text("\n".join(json.dumps(item) for item in items) + "\n")
    for name in ("pydantic.json", "lines.jsonl"):
        rows = ls_jsonl("-r", str(tmp_path / name), "--utc")
        assert [row["action"] for row in rows] == ["run", "success"]
        assert rows[1]["runtime"] == 1.0
        assert rows[1]["end"] == "2026-11-21T05:20:01.500000+00:00"


def test_json_lines_with_a_broken_line_is_skipped_and_counted(tmp_path: Path) -> None:
    path = tmp_path / "log.jsonl"
    path.write_text('{"task_name": "a", "action": "run", "created": 1}\n{oops\n')
    result = run_cli("ls", "-r", str(path), "-o", "jsonl")
    assert len(result.stdout.splitlines()) == 1
    assert "skipped 1 malformed row" in result.stderr


def test_json_directory_written_by_red_bird(tmp_path: Path) -> None:
    redbird = load_redbird()
    folder = tmp_path / "repo"
    repo = redbird.repos.JSONDirectoryRepo(path=folder, id_field="id", model=dict)
    repo.create()
    for number, (action, created) in enumerate([("success", 3.0), ("run", 1.0), ("fail", 2.0)]):
        repo.add({"id": f"r{number}", "task_name": "t", "action": action, "created": created, "run_id": None})
    rows = ls_jsonl("-r", str(folder))
    assert [row["action"] for row in rows] == ["run", "fail", "success"]  # created order
    assert rows[0]["id"] == "r1"
    empty = tmp_path / "empty"
    empty.mkdir()
    assert_one_error_line(run_cli("ls", "-r", str(empty), expect=3), "no *.json")


def test_module_attr_repo_from_user_code(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "myrepos.py").write_text(
        "from tasklog_cli.sources.redbird import load_redbird\n"
        "redbird = load_redbird()\n"
        "ITEMS = [dict(task_name='a', action='run', created=1.0), dict(task_name='a', action='fail', created=2.0),\n"
        "         dict(task_name='b', action='run', created=3.0)]\n"
        "repo = redbird.repos.MemoryRepo(collection=ITEMS, model=dict)\n"
        "def make():\n"
        "    return redbird.repos.MemoryRepo(collection=list(ITEMS), model=dict)\n"
    )
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        assert [row["action"] for row in ls_jsonl("-r", "myrepos:repo", "-t", "a")] == ["run", "fail"]
        assert len(ls_jsonl("-r", "myrepos:make", "-S", "@2")) == 2
        assert_one_error_line(run_cli("ls", "-r", "myrepos:nothing", expect=3), "myrepos:nothing")
    finally:
        sys.modules.pop("myrepos", None)


def test_level_filter_on_log_records() -> None:
    path = str(ROCKETRY / "run.csv")
    every = ls_jsonl("-r", path, "--fields", "levelname")
    errors = ls_jsonl("-r", path, "--level", "error", "--fields", "levelname")
    assert len(errors) == sum(row["levelname"] in ("ERROR", "CRITICAL") for row in every)
    assert errors
    assert_one_error_line(
        run_cli("ls", "-r", str(ROCKETRY / "minimal.csv"), "--level", "info", expect=2), "levelname"
    )
    assert_one_error_line(run_cli("ls", "-r", path, "--level", "loud", expect=2), "loud")
