"""`runs` without a limit sorts through temporary files: the order is the order of an in-memory sort, ties
included, forwards and reversed, from a full read and from the run index, and no temporary file is left."""

import csv
import os
import random
from collections.abc import Iterator
from contextlib import suppress
from itertools import pairwise
from pathlib import Path

import pytest

from tasklog_cli import spill
from tasklog_cli.api import open_repo
from tasklog_cli.results import Run


def open_files() -> set[str]:
    """What this process has open (a deleted temporary file reads `/tmp/#123 (deleted)`)."""
    found = set()
    for fd in os.listdir("/proc/self/fd"):
        with suppress(FileNotFoundError):  # the listing's own descriptor
            found.add(os.readlink(f"/proc/self/fd/{fd}"))
    return found


@pytest.mark.parametrize("count", [0, 1, 6, 7, 8, 14, 15, 100])
@pytest.mark.parametrize("reverse", [False, True])
def test_sort_spilling_is_a_sort(monkeypatch: pytest.MonkeyPatch, count: int, reverse: bool) -> None:
    monkeypatch.setattr(spill, "CHUNK", 7)
    monkeypatch.setattr(spill, "BLOCK", 3)
    rng = random.Random(count)
    items = [(rng.randint(0, 5), rng.choice("ab"), number) for number in range(count)]
    before = open_files()
    merged = spill.sort_spilling(iter(items), reverse=reverse)
    if count > 7:  # more than a chunk: spilled to files that exist until the merge ends
        assert len(open_files() - before) == count // 7
    assert list(merged) == sorted(items, reverse=reverse)
    assert open_files() == before


def test_an_abandoned_merge_removes_its_files(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(spill, "CHUNK", 4)
    before = open_files()
    merged = spill.sort_spilling(range(20, 0, -1))
    assert next(merged) == 1 and len(open_files() - before) == 5
    merged.close()  # type: ignore[attr-defined]
    assert open_files() == before


def test_a_failing_input_removes_its_files(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(spill, "CHUNK", 4)
    before = open_files()

    def failing() -> Iterator[int]:
        yield from range(10)
        raise RuntimeError("the store went away")

    with pytest.raises(RuntimeError):
        spill.sort_spilling(failing())
    assert open_files() == before


def write_store(path: Path) -> Path:
    """Three tasks starting at the same moments (ties across tasks), runs finishing out of order, runs
    left open, repeated run ids."""
    rng = random.Random(14)
    rows = []
    for number in range(120):
        start = 1_790_000_000.0 + 60 * (number // 3)
        for task in ("alpha", "beta", "gamma"):
            run_id = f"{task}-{number % 4}"
            rows.append((start, task, "run", run_id))
            if rng.random() < 0.9:
                rows.append((start + rng.uniform(1, 300), task, rng.choice(["success", "fail"]), run_id))
    rows.sort()
    with path.open("w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(["created", "task_name", "action", "run_id"])
        writer.writerows(rows)
    return path


@pytest.mark.parametrize("index", [False, True])
def test_spilled_runs_are_the_in_memory_order(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, index: bool
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    store = str(write_store(tmp_path / "tasks.csv"))

    def runs(**options: object) -> list[Run]:
        with open_repo(store, index=index) as repo:
            return repo.runs(**options)  # type: ignore[arg-type]

    in_memory, newest_first = runs(), runs(reverse=True)
    failed = runs(failed=True, task=["beta", "gamma"])
    assert len(in_memory) > 300 and newest_first == in_memory[::-1]
    assert any(a.start == b.start for a, b in pairwise(in_memory))  # ties exist
    monkeypatch.setattr(spill, "CHUNK", 16)
    monkeypatch.setattr(spill, "BLOCK", 5)
    before = open_files()
    assert runs() == in_memory
    assert runs(reverse=True) == newest_first
    assert runs(failed=True, task=["beta", "gamma"]) == failed
    assert open_files() == before
