"""The Python API: the README's example runs, and every call answers as the CLI's -o jsonl does."""

import json
import re
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from conftest import DATA, ROCKETRY, run_cli

from tasklog_cli.api import open_repo
from tasklog_cli.errors import SourceError, UsageError
from tasklog_cli.render.text import machine_value

README = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
STORES = [
    ROCKETRY / "task_run.csv",
    ROCKETRY / "task_run.db",
    ROCKETRY / "memory.json",
    DATA / "taskflow" / "taskflow.db",
]


def test_the_readme_example_runs(capsys: pytest.CaptureFixture[str]) -> None:
    section = README.split("## Python API", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert code is not None
    scope: dict[str, Any] = {}
    exec(compile(code.group(1), "README.md", "exec"), scope)
    printed = capsys.readouterr().out.splitlines()
    assert printed and all(line.startswith("fetch_") for line in printed)
    assert scope["health"] and all(" x" in streak for streak in scope["health"].values())


def as_json(value: Any, names: tuple[str, ...]) -> dict[str, Any]:
    return {name: machine_value(value.get(name)) for name in names}


def jsonl(*args: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in run_cli(*args, "-o", "jsonl").stdout.splitlines()]


@pytest.mark.parametrize("store", STORES, ids=lambda path: path.name)
def test_every_call_answers_as_the_cli(store: Path, tmp_path: Path) -> None:
    copy = tmp_path / store.name  # SQLite may leave -wal/-shm files beside what it reads
    shutil.copyfile(store, copy)
    spec = str(copy)
    with open_repo(spec) as repo:
        records = list(repo.records(last=40))
        assert records
        expected_records = jsonl("ls", "-r", spec, "-n", "40")
        assert [
            as_json(record, tuple(row)) for record, row in zip(records, expected_records, strict=True)
        ] == (expected_records)
        runs = repo.runs()
        assert runs
        assert [
            as_json(run, tuple(row)) for run, row in zip(runs, jsonl("runs", "-r", spec), strict=True)
        ] == (jsonl("runs", "-r", spec))
        for call, command in ((repo.runtimes, "runtimes"), (repo.tasks, "tasks")):
            rows = jsonl(command, "-r", spec)
            found = call()
            assert len(found) == len(rows) > 0
            assert [as_json(item, tuple(row)) for item, row in zip(found, rows, strict=True)] == rows
        name = runs[-1].task_name
        timeline = repo.timeline(name)
        machine = jsonl("timeline", "-r", spec, name, "--fields", "all")
        flat = [(item.number, record) for task in timeline for item in task.runs for record in item.records]
        assert len(flat) == len(machine) > 0
        for (number, record), row in zip(flat, machine, strict=True):
            assert row["run"] == number
            assert as_json(record, tuple(name for name in row if name not in ("run", "attempt"))) == {
                key: value for key, value in row.items() if key not in ("run", "attempt")
            }


def test_filters_take_strings_sequences_datetimes_and_epochs() -> None:
    with open_repo(str(ROCKETRY / "task_run.csv")) as repo:
        since = repo.records()
        first = next(since).created
        by_text = list(repo.records(since=first.isoformat(), task=["timeout_thread", "timeout_async"]))
        by_datetime = list(repo.records(since=first, task=("timeout_thread", "timeout_async")))
        by_epoch = list(repo.records(since=first.timestamp(), task=["timeout_thread", "timeout_async"]))
        assert by_text == by_datetime == by_epoch != []
        assert list(repo.records(task="timeout_*")) != by_text  # a glob: timeout_process too
        assert all(record.created.tzinfo is UTC for record in by_text)
        assert list(repo.records(until=datetime(2000, 1, 1, tzinfo=UTC))) == []
        assert list(repo.records(last=0)) == [] and repo.runs(last=0) == []


def test_records_carry_the_store_columns_read_only() -> None:
    with open_repo(str(ROCKETRY / "task_run.csv")) as repo:
        record = next(repo.records(action="fail"))
        assert "exc_text" in record.fields and record.get("exc_text") == record.fields["exc_text"]
        with pytest.raises(TypeError):
            record.fields["exc_text"] = "changed"  # type: ignore[index]


def test_errors_are_the_tasklog_error_classes(tmp_path: Path) -> None:
    with pytest.raises(SourceError) as missing:
        open_repo(str(tmp_path / "nope.csv"))
    assert missing.value.exit_code == 3
    with open_repo("demo") as repo, pytest.raises(UsageError) as usage:
        repo.runs(outcome="bogus")
    assert usage.value.exit_code == 2
