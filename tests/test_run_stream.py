"""Streamed pairing (issue #14 items 1-2): records in store order through a bounded reorder buffer give
exactly the runs of sorting each task's whole history; a record later than the buffer allows re-pairs
its task exactly; the run commands answer the same from the stream on real files and tables."""

import csv
import random
import sqlite3
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import timedelta
from pathlib import Path

import pytest
from conftest import run_cli
from hypothesis import given, settings
from hypothesis import strategies as st

from tasklog_cli.models import Record
from tasklog_cli.runs import (
    ALL_TASKS,
    REORDER_HORIZON,
    LateRecord,
    Run,
    consume_runs,
    pair_runs,
    pair_task,
    stream_runs,
)

T = 1_800_000_000.0
ACTIONS = ("run", "run", "run", "success", "fail", "terminate", "inaction", "crash")


def by_task(runs: Iterable[Run]) -> dict[str, list[Run]]:
    """Each task's runs in the order they came."""
    grouped: dict[str, list[Run]] = defaultdict(list)
    for run in runs:
        grouped[run.task_name].append(run)
    return dict(grouped)


def reference(records: Sequence[Record], window: timedelta = timedelta(minutes=10)) -> dict[str, list[Run]]:
    """Every task's whole history sorted, then paired: the rules' reference."""
    return by_task(pair_runs(records, window))


@st.composite
def histories(draw: st.DrawFn) -> tuple[list[Record], float]:
    """Records of a few tasks (ids or none, every action, equal times), in a store order that is created
    order with some records shifted later by up to a horizon."""
    horizon = draw(st.sampled_from([0.0, 3.0, 30.0]))
    count = draw(st.integers(0, 60))
    records = []
    created = T
    for _ in range(count):
        created += draw(st.sampled_from([0.0, 0.5, 1.0, 4.0, 700.0]))
        task = draw(st.sampled_from(["a", "b", "c"]))
        run_id = draw(st.sampled_from([None, "1", "2", "3"]))
        records.append(Record(created, task, draw(st.sampled_from(ACTIONS)), run_id))
    delays = [draw(st.sampled_from([0.0, 0.0, 0.0, horizon / 2, horizon])) for _ in records]
    order = sorted(range(len(records)), key=lambda at: (records[at].created + delays[at], at))
    return [records[at] for at in order], horizon


@settings(max_examples=400)
@given(histories())
def test_the_stream_pairs_like_sorting_the_whole_history(history: tuple[list[Record], float]) -> None:
    records, horizon = history
    assert by_task(stream_runs(records, horizon=horizon)) == reference(records)


@settings(max_examples=200)
@given(histories(), st.sampled_from([timedelta(0), timedelta(seconds=2), timedelta(hours=1)]))
def test_late_records_are_paired_exactly_whatever_the_horizon(
    history: tuple[list[Record], float], window: timedelta
) -> None:
    """With no reorder buffer at all, every late record sends its task to exact pairing: same runs."""
    records, _ = history
    found = consume_runs(lambda exact: stream_runs(records, window, horizon=0.0, exact=exact), list)
    assert by_task(found) == reference(records, window)


def test_a_record_older_than_the_horizon_raises_late_record_and_exact_tasks_are_gathered() -> None:
    records = [Record(T + 1000, "a", "run", "1"), Record(T + 1001, "a", "success", "1")]
    late = [
        *records,
        Record(T + 1100, "a", "run", "2"),
        Record(T, "a", "run", "0"),
        Record(T + 2000, "a", "success", "0"),
    ]
    with pytest.raises(LateRecord) as raised:
        list(stream_runs(late, horizon=10.0))
    assert raised.value.task_name == "a"
    assert list(stream_runs(late, horizon=10.0, exact={"a"})) == pair_task(late)
    assert list(stream_runs(late, horizon=10.0, exact=ALL_TASKS)) == pair_task(late)
    assert list(stream_runs(late, horizon=2000.0)) == pair_task(late)  # within the horizon: reordered


def test_runs_wait_for_an_earlier_open_run_and_come_by_start() -> None:
    """A long run closes after shorter runs that started later: the stream still gives them by start."""
    records = [
        Record(T, "a", "run", "long"), Record(T + 1, "a", "run", "x"), Record(T + 2, "a", "success", "x"),
        Record(T + 3, "a", "run", "y"), Record(T + 4, "a", "fail", "y"), Record(T + 9, "a", "success", "long"),
        Record(T + 10, "a", "run", "z"),
    ]  # fmt: skip
    streamed = list(stream_runs(records, horizon=None))
    assert [run.run_id for run in streamed] == ["long", "x", "y", "z"]
    assert streamed == pair_task(records)


def test_records_out_of_created_order_for_sql_histories_fall_back_to_exact_pairing() -> None:
    """horizon=None trusts created order per task (a database's ORDER BY); a row that breaks it (text
    `created` in SQLite sorts after numbers) is late, never silently paired out of order."""
    records = [Record(T + 5, "a", "success", "1"), Record(T, "a", "run", "1")]
    with pytest.raises(LateRecord):
        list(stream_runs(records, horizon=None))
    found = consume_runs(lambda exact: stream_runs(records, horizon=None, exact=exact), list)
    assert found == pair_task(records)


def write_csv(path: Path, rows: Iterable[tuple[str, str, float, str]], *, malformed: bool = False) -> str:
    """A MinimalRunRecord CSV as Red Bird's CSVFileRepo writes it (CRLF, minimal quoting)."""
    with path.open("w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(["task_name", "action", "created", "run_id"])
        if malformed:
            writer.writerow(["broken", "run", "not a time", "x"])
        writer.writerows((task, action, repr(created), run_id) for task, action, created, run_id in rows)
    return str(path)


def busy_history(seed: int = 3) -> list[tuple[str, str, float, str]]:
    """A few hundred runs of three tasks with overlapping runs, failures and retries."""
    rng = random.Random(seed)
    rows = []
    created = T
    for number in range(300):
        task = rng.choice(["a", "b", 'quoted "c", d'])
        created += rng.uniform(0.0, 30.0)
        finish = created + rng.choice([0.0, 1.0, 40.0, 400.0])
        rows.append((task, "run", created, str(number % 7)))
        rows.append((task, rng.choice(["success", "fail", "fail", "terminate"]), finish, str(number % 7)))
    return sorted(rows, key=lambda row: row[2])


RUN_COMMANDS = [
    ["runs", "-o", "jsonl"],
    ["runs", "-n", "5", "-o", "jsonl"],
    ["runtimes", "-o", "jsonl"],
    ["runtimes", "--by", "hour", "-o", "jsonl"],
    ["tasks", "-o", "jsonl"],
    ["timeline", "a", "-n", "3", "-o", "jsonl", "--fields", "run,attempt,created,action,run_id"],
    ["check", "--max-failures", "2", "--max-duration", "1m", "-o", "jsonl"],
]


def outputs(store: str) -> list[tuple[int, str, str]]:
    found = []
    for command in RUN_COMMANDS:
        result = run_cli(*command, "-r", store, expect=1 if command[0] == "check" else 0)
        found.append((result.exit_code, result.stdout, result.stderr))
    return found


def test_a_csv_with_records_hours_late_answers_as_the_sorted_file_does(tmp_path: Path) -> None:
    """Records written up to two hours late (past the reorder horizon) send their tasks to exact pairing;
    the malformed row is still counted once."""
    rows = busy_history()
    late = [row for row in rows if row[0] == "b"][5:15]
    assert rows[-1][2] - late[-1][2] > 3 * REORDER_HORIZON
    shuffled = [row for row in rows if row not in late] + late  # ten records of `b` written at the end
    sorted_store = write_csv(tmp_path / "sorted.csv", rows, malformed=True)
    late_store = write_csv(tmp_path / "late.csv", shuffled, malformed=True)
    expected = outputs(sorted_store)
    assert all("skipped 1 malformed row(s)" in stderr for _, _, stderr in expected[:5])  # every task read
    assert [(code, out, err.replace("sorted", "late")) for code, out, err in expected] == outputs(late_store)


def test_sqlite_streams_its_ordered_history_and_answers_as_the_csv_does(tmp_path: Path) -> None:
    rows = busy_history(seed=5)
    csv_store = write_csv(tmp_path / "log.csv", rows)
    database = tmp_path / "log.db"
    with sqlite3.connect(database) as connection:
        connection.execute(
            "CREATE TABLE tasks (id INTEGER PRIMARY KEY, task_name TEXT, action TEXT, created FLOAT, run_id TEXT)"
        )
        connection.executemany(
            "INSERT INTO tasks (task_name, action, created, run_id) VALUES (?, ?, ?, ?)", rows
        )
    connection.close()
    assert [out for _, out, _ in outputs(csv_store)] == [out for _, out, _ in outputs(str(database))]
