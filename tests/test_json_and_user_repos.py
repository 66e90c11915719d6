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


# --- hostile values and broken files (issue #11.9, #13) -------------------------------------------------

GOOD = {"task_name": "a", "action": "run", "created": 1_763_700_000.5, "run_id": "1"}


@pytest.mark.parametrize(
    "created",
    ["NaN", "Infinity", "-Infinity", '"soon"', '{"at": 1}', "null", "[1]", "true", "1e400", "1e300", '""'],
)
@pytest.mark.parametrize("style", ["array", "lines"])
def test_a_json_record_whose_created_is_no_time_costs_its_row(
    tmp_path: Path, created: str, style: str
) -> None:
    bad = json.dumps({**GOOD, "run_id": "2"}).replace("1763700000.5", created)
    good = json.dumps(GOOD)
    path = tmp_path / ("log.json" if style == "array" else "log.jsonl")
    path.write_text(f"[{good}, {bad}]" if style == "array" else f"{good}\n\n{bad}\n", "utf-8")
    for command in (("ls",), ("tail", "-n", "5"), ("runs",), ("tasks",), ("runtimes",)):
        result = run_cli(*command, "-r", str(path), "-o", "jsonl")
        assert len(result.stdout.splitlines()) == 1, (command, result.stdout)
        where = "index 1" if style == "array" else "line 3"
        assert result.stderr.startswith(f"tasklog: warning: skipped 1 malformed row(s) in {path} (e.g. ")
        assert where in result.stderr, result.stderr
    strict = run_cli("ls", "-r", str(path), "--strict", expect=3)
    assert_one_error_line(strict, f"malformed row in {path}", where)


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        ('[{"task_name": "a", "action": "run", "created": 1}', "not valid JSON"),
        ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
        ('["task_name"]', "no task_name/action/created"),
        ("[1, 2, 3]", "not a task log"),
        ('{"a": 1}', "not a task log"),
        ("[" + "1" * 5000 + "]", "not valid JSON"),
        ("  \n ", "empty"),
    ],
)
def test_a_broken_json_file_is_one_error_line(tmp_path: Path, content: str, fragment: str) -> None:
    path = tmp_path / "log.json"
    path.write_text(content, "utf-8")
    assert_one_error_line(run_cli("ls", "-r", str(path), expect=3), str(path), fragment)


def test_a_json_file_that_is_not_utf8_is_one_cannot_read_line(tmp_path: Path) -> None:
    path = tmp_path / "log.json"
    path.write_bytes(b'[{"task_name": "\xff\xfe"}]')
    assert_one_error_line(run_cli("ls", "-r", str(path), expect=3), f"cannot read {path}", "not UTF-8")


def test_json_lines_split_only_at_line_feeds(tmp_path: Path) -> None:
    """U+2028, U+0085 and a lone CR inside a string are no line ends (str.splitlines would cut there)."""
    items = [{**GOOD, "message": "one\u2028two\x85three\rfour"}, {**GOOD, "run_id": "2", "message": "\u2029"}]
    path = tmp_path / "log.jsonl"
    path.write_text("".join(json.dumps(item, ensure_ascii=False) + "\n" for item in items), "utf-8")
    result = run_cli("ls", "-r", str(path), "-o", "jsonl", "--fields", "message")
    assert [json.loads(line)["message"] for line in result.stdout.split("\n") if line] == [
        item["message"] for item in items
    ]
    assert result.stderr == ""


def test_a_json_folder_names_the_file_of_a_malformed_record(tmp_path: Path) -> None:
    folder = tmp_path / "repo"
    folder.mkdir()
    (folder / "a.json").write_text(json.dumps(GOOD), "utf-8")
    (folder / "b.json").write_text(json.dumps({**GOOD, "created": float("nan")}), "utf-8")
    (folder / "c.json").write_text("{broken", "utf-8")
    result = run_cli("ls", "-r", str(folder), "-o", "jsonl")
    assert len(result.stdout.splitlines()) == 1
    assert "skipped 2 malformed row(s)" in result.stderr
    assert_one_error_line(run_cli("ls", "-r", str(folder), "--strict", expect=3), "file ")


@pytest.mark.parametrize("created", ["nan", "inf", "-inf", "1e400", "NaN"])
def test_a_csv_row_whose_created_is_no_time_costs_its_row_and_names_its_line(
    tmp_path: Path, created: str
) -> None:
    path = tmp_path / "log.csv"
    path.write_text(
        f'task_name,action,created,exc_text\r\na,run,1,"two\nlines"\r\nb,run,{created},\r\nc,run,3,\r\n',
        "utf-8",
    )
    for command in (("ls",), ("tail", "-n", "5"), ("runs",), ("tasks",)):
        result = run_cli(*command, "-r", str(path), "-o", "jsonl")
        assert len(result.stdout.splitlines()) == 2, (command, result.stdout)
        assert "(e.g. " in result.stderr and "line 4, " in result.stderr, result.stderr
    assert_one_error_line(run_cli("ls", "-r", str(path), "--strict", expect=3), f"{path}", "line 4, ")
