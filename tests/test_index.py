"""The run index: every answer it gives is the answer of a full read, on every file store kind, after
appends, records arriving late (by seconds, and by more than the index's horizon) and rewrites; a broken,
unwritable or busy cache never fails a command.

The stores are written by the writers users have: Red Bird's CSVFileRepo and JSONDirectoryRepo, MemoryRepo
dumps (a JSON array rewritten whole, or JSON lines appended), and a SQLite table filled by sqlite3.
"""

import csv
import json
import os
import random
import sqlite3
import stat
import subprocess
import sys
from collections.abc import Callable, Iterator, Mapping
from dataclasses import fields, is_dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from conftest import run_cli

from tasklog_cli.api import Repo, open_choice
from tasklog_cli.config import choose_repo, load_config
from tasklog_cli.index.history import HORIZON_SECONDS
from tasklog_cli.sources.redbird import load_redbird

START = 1_790_000_000.0
NOW = datetime.fromtimestamp(START + 12 * 3600, UTC)
COLUMNS = ["task_name", "action", "created", "run_id"]
Item = dict[str, Any]


def history(seed: int, hours: float = 8.0) -> list[Item]:
    """Records as Rocketry writes them, in file order: tasks that always succeed, fail and retry, overlap
    with repeating run ids, log no run id, are closed by crash rows, start with a finish whose run was cut
    off; finishes of process tasks arrive a few seconds late; some runs are still open at the end."""
    rng = random.Random(seed)
    timed: list[tuple[float, int, Item]] = []

    def add(task: str, action: str, created: float, run_id: str | None, delay: float = 0.0) -> None:
        item = {"task_name": task, "action": action, "created": round(created, 6), "run_id": run_id}
        timed.append((created + delay, len(timed), item))

    add("cut_off", "success", START - 5, "0")
    for task, every in (("steady", 97), ("flaky", 131), ("multi", 173), ("no_id", 211), ("crashy", 307)):
        moment, number = START + rng.uniform(0, every), 0
        while moment < START + hours * 3600:
            number += 1
            run_id = {"multi": str(number % 3), "no_id": None}.get(task, f"{task}-{number}")
            duration = rng.uniform(0.5, 40)
            outcome = rng.choices(["success", "fail", "terminate", "inaction"], [70, 20, 5, 5])[0]
            if task == "steady":
                outcome = "success"
            add(task, "run", moment, run_id)
            if task == "crashy" and rng.random() < 0.3:
                add(task, "crash", moment + duration, None)
            elif moment + duration < START + hours * 3600 - 60:
                add(task, outcome, moment + duration, run_id, rng.uniform(0, 5) if task == "multi" else 0)
            retry = outcome in ("fail", "terminate") and task == "flaky"
            moment += rng.uniform(20, 60) if retry else rng.uniform(every / 2, every * 1.5)
    return [item for _, _, item in sorted(timed, key=lambda entry: entry[:2])]


class Store:
    """A store of one kind that can be appended to and rewritten as its writer would."""

    def __init__(self, kind: str, folder: Path) -> None:
        self.kind = kind
        self.items: list[Item] = []
        suffix = {"csv": ".csv", "json": ".json", "jsonl": ".jsonl", "sqlite": ".db", "jsondir": ""}[kind]
        self.path = folder / f"log{suffix}"
        redbird = load_redbird()
        if kind == "csv":
            self.repo = redbird.repos.CSVFileRepo(filename=self.path, fieldnames=COLUMNS)
        elif kind == "jsondir":
            self.repo = redbird.repos.JSONDirectoryRepo(path=self.path, id_field="id", model=dict)
            self.repo.create()
        elif kind == "sqlite":
            with sqlite3.connect(self.path) as connection:
                connection.execute(
                    "CREATE TABLE tasks (id INTEGER PRIMARY KEY, task_name TEXT, action TEXT, created FLOAT,"
                    " run_id TEXT)"
                )

    def append(self, items: list[Item]) -> None:
        """Write records after those written before."""
        if self.kind == "csv":
            for item in items:
                self.repo.add(item)
        elif self.kind == "jsondir":
            for number, item in enumerate(items, start=len(self.items)):
                self.repo.add({"id": f"r{number:06d}", **item})
        elif self.kind == "sqlite":
            with sqlite3.connect(self.path) as connection:
                connection.executemany(
                    "INSERT INTO tasks (task_name, action, created, run_id) VALUES (?, ?, ?, ?)",
                    [[item[name] for name in COLUMNS] for item in items],
                )
        elif self.kind == "jsonl":
            with self.path.open("a", encoding="utf-8") as file:
                file.writelines(json.dumps(item) + "\n" for item in items)
        self.items += items
        if self.kind == "json":
            self.path.write_text(json.dumps(self.items, default=str), "utf-8")

    def rewrite(self, items: list[Item]) -> None:
        """Replace every record (a new file, or a table emptied and filled again)."""
        if self.kind == "csv":
            self.path.unlink()
            self.repo = load_redbird().repos.CSVFileRepo(filename=self.path, fieldnames=COLUMNS)
        elif self.kind == "jsondir":
            for file in self.path.glob("*.json"):
                file.unlink()
        elif self.kind == "sqlite":
            with sqlite3.connect(self.path) as connection:
                connection.execute("DELETE FROM tasks")
        elif self.kind == "jsonl":
            self.path.unlink()
        self.items = []
        self.append(items)


def opened(path: Path, *, index: bool, variables: dict[str, str] | None = None) -> Repo:
    choice = choose_repo(str(path), None, load_config())
    return open_choice(choice, clock=lambda: NOW, index=index, variables=variables or dict(os.environ))


def plain(value: Any) -> Any:
    """Results as comparable plain values."""
    if isinstance(value, list | tuple | Iterator):
        return [plain(item) for item in value]
    if is_dataclass(value) and not isinstance(value, type):
        return {item.name: plain(getattr(value, item.name)) for item in fields(value)}
    if isinstance(value, Mapping):
        return {key: plain(item) for key, item in value.items()}
    return value


def answers(repo: Repo) -> dict[str, Any]:
    """Every answer the index gives (and those it leaves to a full read), as plain values."""
    since, until = START + 3 * 3600, START + 5 * 3600
    calls: dict[str, Callable[[], Any]] = {
        "tasks": repo.tasks,
        "tasks glob": lambda: repo.tasks(task="*i*"),
        "tasks window": lambda: repo.tasks(since=since, until=until),
        "runtimes": repo.runtimes,
        "runtimes recent": lambda: repo.runtimes(recent=True),
        "runtimes by hour": lambda: repo.runtimes(by="hour"),
        "runtimes task": lambda: repo.runtimes(task=["flaky", "no_id"]),
        "runtimes no retries": lambda: repo.runtimes(retry_window="0s"),
        "check": lambda: repo.check(max_age="5m", max_failures=1, max_duration="20s"),
        "check named": lambda: repo.check(task=["flaky", "absent"], max_failures=2, max_age="1h"),
        "check window": lambda: repo.check(since=since, max_failures=1, max_duration="30s"),
        "runs": repo.runs,
        "runs last": lambda: repo.runs(last=7),
        "runs last 0": lambda: repo.runs(last=0),
        "runs last failed": lambda: repo.runs(last=5, failed=True),
        "runs last running": lambda: repo.runs(last=3, running=True),
        "runs last task": lambda: repo.runs(last=4, task="multi", run_id="1"),
        "runs window": lambda: repo.runs(since=since, until=until, last=9),
        "timeline": lambda: repo.timeline("flaky", last=3),
        "ls since": lambda: list(repo.records(since=until)),
        "ls since task": lambda: list(repo.records(since=since, task="crashy", action="crash")),
        "info": repo.info,
    }
    found = {name: plain(call()) for name, call in calls.items()}
    found["info"].pop("details", None)
    found["skipped"] = (repo.skipped, repo.first_malformed)
    return found


def assert_same_answers(path: Path, *, indexed: bool = True) -> dict[str, Any]:
    with opened(path, index=False) as repo:
        expected = answers(repo)
    for _ in range(2):  # the first call brings the index up to date, the second reads it as it is
        with opened(path, index=True) as repo:
            assert repo.index is not None
            found = answers(repo)
            answered = bool(repo.index.caches) and None not in repo.index.caches.values()
            assert answered == indexed, "the index answered" if indexed else "a full read answered"
        for name in expected:
            assert found[name] == expected[name], name
    return expected


def index_files() -> list[Path]:
    return sorted((Path(os.environ["XDG_CACHE_HOME"]) / "tasklog" / "index").glob("*.sqlite"))


@pytest.mark.parametrize("kind", ["csv", "json", "jsonl", "jsondir", "sqlite"])
def test_the_index_answers_as_a_full_read_through_appends_late_records_and_rewrites(
    kind: str, tmp_path: Path
) -> None:
    records = history(seed=len(kind))
    store = Store(kind, tmp_path)
    store.append(records[: len(records) // 2])
    assert_same_answers(store.path)
    assert index_files(), "the index was kept"
    for part in (records[len(records) // 2 : -40], records[-40:-1]):
        store.append(part)
        assert_same_answers(store.path)
    latest = max(item["created"] for item in store.items)
    late = {"task_name": "flaky", "action": "fail", "created": latest - HORIZON_SECONDS * 2, "run_id": None}
    store.append([late, records[-1]])
    assert assert_same_answers(store.path)["tasks"]
    store.rewrite(records[:300])
    assert_same_answers(store.path)


def test_appends_are_read_from_the_mark_on(tmp_path: Path) -> None:
    store = Store("csv", tmp_path)
    records = history(seed=1)
    store.append(records[:-10])
    with opened(store.path, index=True) as repo:
        repo.tasks()
    with store.path.open("a", encoding="utf-8") as file:
        file.write("flaky,run,not a time,x\r\n")  # read only if the index reads past its mark
    store.append(records[-10:])
    with opened(store.path, index=True) as repo:
        assert repo.index is not None
        repo.tasks()
        assert repo.skipped == 1
        assert repo.first_malformed is not None and "not a time" in repo.first_malformed
    assert_same_answers(store.path)


def test_a_half_written_last_row_is_read_whole_by_a_full_read(tmp_path: Path) -> None:
    store = Store("csv", tmp_path)
    store.append(history(seed=2))
    assert_same_answers(store.path)
    with store.path.open("a", encoding="utf-8") as file:
        file.write(f"steady,run,{START + 9 * 3600}")
    assert_same_answers(store.path, indexed=False)


def test_the_cli_uses_the_index_unless_told_not_to(tmp_path: Path) -> None:
    store = Store("csv", tmp_path)
    store.append(history(seed=3))
    path = str(store.path)
    bare = run_cli("runtimes", "-r", path, "-o", "jsonl", "--no-index")
    assert not index_files()
    assert run_cli("runtimes", "-r", path, "-o", "jsonl", env={"TASKLOG_NO_INDEX": "1"}).stdout == bare.stdout
    assert not index_files()
    assert run_cli("runtimes", "-r", path, "-o", "jsonl").stdout == bare.stdout
    assert run_cli("runtimes", "-r", path, "-o", "jsonl").stdout == bare.stdout
    assert len(index_files()) == 1
    folder = index_files()[0].parent
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert stat.S_IMODE(index_files()[0].stat().st_mode) == 0o600


def test_a_corrupt_index_is_started_again(tmp_path: Path) -> None:
    store = Store("csv", tmp_path)
    store.append(history(seed=4))
    expected = assert_same_answers(store.path)
    for file in index_files():
        file.write_bytes(b"not a database" * 1000)
    with opened(store.path, index=True) as repo:
        assert plain(repo.tasks()) == expected["tasks"]
        assert plain(repo.runtimes(retry_window="0s")) == expected["runtimes no retries"]
    for file in index_files():
        with sqlite3.connect(file) as connection:
            assert connection.execute("SELECT count(*) FROM tasks").fetchone()[0] > 0


def test_an_index_that_cannot_be_written_falls_back_to_a_full_read(tmp_path: Path) -> None:
    store = Store("sqlite", tmp_path)
    store.append(history(seed=5))
    with opened(store.path, index=False) as repo:
        expected = plain(repo.runtimes())
    blocked = tmp_path / "not a folder"
    blocked.write_text("")
    with opened(store.path, index=True, variables={"XDG_CACHE_HOME": str(blocked)}) as repo:
        assert plain(repo.runtimes()) == expected
    result = run_cli("tasks", "-r", str(store.path), env={"XDG_CACHE_HOME": str(blocked)})
    assert result.stdout and not result.stderr


def test_an_index_locked_by_another_writer_falls_back_to_a_full_read(tmp_path: Path) -> None:
    store = Store("json", tmp_path)
    store.append(history(seed=6))
    expected = assert_same_answers(store.path)
    store.append([{"task_name": "steady", "action": "run", "created": START + 10 * 3600, "run_id": "z"}])
    with sqlite3.connect(index_files()[0], isolation_level=None) as holder:
        holder.execute("BEGIN IMMEDIATE")
        with opened(store.path, index=True) as repo:
            found = plain(repo.runs(last=1))
        holder.execute("ROLLBACK")
    assert found[0]["run_id"] == "z"
    assert expected["runs last"] != found


CHECK = [sys.executable, "-m", "tasklog_cli", "check", "--max-failures", "50", "-o", "jsonl", "-r"]


def full_check(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CHECK, str(path), "--no-index"], capture_output=True, text=True, check=False)


def test_two_checks_at_once_agree_with_a_full_read(tmp_path: Path) -> None:
    store = Store("csv", tmp_path)
    store.append(history(seed=7, hours=30))
    bare = full_check(store.path)
    for _ in range(2):
        running = [
            subprocess.Popen(
                [*CHECK, str(store.path)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
            )
            for _ in range(2)
        ]
        for process in running:
            stdout, stderr = process.communicate(timeout=120)
            assert (process.returncode, stdout, stderr) == (bare.returncode, bare.stdout, bare.stderr)
        store.append(history(seed=8, hours=1)[:50])
        bare = full_check(store.path)


def test_ls_since_on_a_csv_starts_near_the_window(tmp_path: Path) -> None:
    path = tmp_path / "log.csv"
    with path.open("w", newline="", encoding="utf-8") as file:  # as CSVFileRepo writes, faster
        writer = csv.DictWriter(file, COLUMNS)
        writer.writeheader()
        writer.writerows(history(seed=9, hours=400))
    size = path.stat().st_size
    assert size > 3 << 20
    since = START + 399 * 3600
    with opened(path, index=True) as repo:
        assert repo.index is not None
        start = repo.index.window_start(since)
        assert start is not None and start > size * 2 // 3
        with path.open("rb") as file:
            before = file.read(start).decode()
        assert all(float(line.split(",")[2]) < since for line in before.splitlines()[1:])
        found = list(repo.records(since=since))
    with opened(path, index=False) as repo:
        assert found == list(repo.records(since=since)) != []


def test_a_long_lived_repo_sees_what_is_appended_while_it_is_open(tmp_path: Path) -> None:
    """`tasklog ui` keeps one repo open for hours: the index answers what the store holds now."""
    store = Store("csv", tmp_path)
    records = history(seed=3)
    store.append(records[:-20])
    with opened(store.path, index=True) as repo:
        before = plain(repo.tasks())
        store.append(records[-20:])
        after = plain(repo.tasks())
    with opened(store.path, index=False) as full:
        assert after == plain(full.tasks()) != before
