"""Runs (DESIGN §3-§5): the pairing rules one by one, an independent pairing of the real Rocketry fixtures
compared with the CLI, the run commands' selection and fields, and golden files for people."""

import csv
import json
import re
import sqlite3
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
from conftest import ROCKETRY, assert_golden, assert_one_error_line, run_cli
from hypothesis import given
from hypothesis import strategies as st

from tasklog_cli.models import Record
from tasklog_cli.query import Query
from tasklog_cli.runs import Run, pair_runs, pair_task, run_selector
from tasklog_cli.statistics import nth_of_two, percentile, runtime_stats, streak, success_rate

RUN_FIELDS = ["task_name", "run_id", "start", "end", "duration", "outcome", "attempt"]
RUNTIME_FIELDS = [
    "task_name", "runs", "success", "fail", "terminate", "inaction", "crash", "running", "success_rate",
    "min", "p50", "p95", "max", "mean", "last_start", "last_outcome",
]  # fmt: skip
TASK_FIELDS = ["task_name", "runs", "last_start", "last_outcome", "last_duration", "success_rate", "streak"]
ISO_UTC = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00")
TOLERANCE = 0.002  # seconds
TASK_RUN = ROCKETRY / "task_run.csv"
FIXED_WIDTH = {"COLUMNS": "100"}


def rec(created: float, action: str, run_id: str | None = None, task: str = "t", **extra: Any) -> Record:
    return Record(created=created, task_name=task, action=action, run_id=run_id, extra=extra)


def shape(runs: Iterable[Run]) -> list[tuple[float | None, float | None, str, str | None, int]]:
    """What a run is, compactly: start, end, outcome, run id, attempt."""
    return [(run.start, run.end, run.outcome, run.run_id, run.attempt) for run in runs]


def jsonl(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines()]


def iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="microseconds")


# --- §4 rule 2: run ids ---------------------------------------------------------------------------------


def test_a_finish_closes_the_open_run_with_its_run_id_not_the_oldest() -> None:
    runs = pair_task([rec(0, "run", "a"), rec(1, "run", "b"), rec(3, "success", "b"), rec(7, "fail", "a")])
    assert shape(runs) == [(0, 7, "fail", "a", 1), (1, 3, "success", "b", 1)]
    assert [run.duration for run in runs] == [7, 2]


def test_a_reused_run_id_pairs_with_the_latest_earlier_run_of_that_id() -> None:
    records = [
        rec(0, "run", "1"), rec(1, "run", "2"), rec(5, "success", "1"), rec(6, "run", "1"),
        rec(6.5, "success", "2"), rec(11, "success", "1"),
    ]  # fmt: skip
    assert shape(pair_task(records)) == [
        (0, 5, "success", "1", 1), (1, 6.5, "success", "2", 1), (6, 11, "success", "1", 1),
    ]  # fmt: skip


def test_with_two_open_runs_of_one_id_the_most_recent_is_closed() -> None:
    runs = pair_task([rec(0, "run", "1"), rec(10, "run", "1"), rec(12, "success", "1")])
    assert shape(runs) == [(0, None, "running", "1", 1), (10, 12, "success", "1", 1)]
    assert runs[1].duration == 2


def test_ids_restart_at_1_after_a_kill_without_crash_row() -> None:
    # Run 1 is killed with ids "2" and "3" in flight and no crash row; run 2 reuses "1", "2", "3".
    records = [
        rec(0, "run", "1"), rec(1, "run", "2"), rec(2, "run", "3"), rec(5, "success", "1"),
        rec(100, "run", "1"), rec(101, "run", "2"), rec(102, "run", "3"),
        rec(105, "success", "1"), rec(106, "success", "2"), rec(107.5, "success", "3"),
    ]  # fmt: skip
    assert shape(pair_task(records)) == [
        (0, 5, "success", "1", 1), (1, None, "running", "2", 1), (2, None, "running", "3", 1),
        (100, 105, "success", "1", 1), (101, 106, "success", "2", 1), (102, 107.5, "success", "3", 1),
    ]  # fmt: skip


def test_ids_restart_at_1_after_a_crash_row() -> None:
    records = [
        rec(0, "run", "1"), rec(1, "run", "2"), rec(50, "crash"),
        rec(51, "run", "1"), rec(52, "run", "2"), rec(56, "success", "2"), rec(57, "success", "1"),
    ]  # fmt: skip
    runs = pair_task(records)
    assert [(run.start, run.outcome, run.run_id) for run in runs] == [
        (0, "crash", "1"), (1, "crash", "2"), (51, "success", "1"), (52, "success", "2"),
    ]  # fmt: skip
    assert [run.duration for run in runs] == [None, None, 6, 4]


def test_a_finish_whose_id_has_no_open_run_does_not_steal_another_run() -> None:
    runs = pair_task([rec(0, "run", "a"), rec(3, "success", "b")])
    assert shape(runs) == [(0, None, "running", "a", 1), (None, 3, "success", "b", 1)]


# --- §4 rule 2: no run ids ------------------------------------------------------------------------------


def test_without_run_ids_a_finish_closes_the_oldest_open_run() -> None:
    runs = pair_task([rec(0, "run"), rec(1, "run"), rec(5, "success"), rec(7, "fail")])
    assert shape(runs) == [(0, 5, "success", None, 1), (1, 7, "fail", None, 1)]
    assert [run.duration for run in runs] == [5, 6]


def test_without_run_ids_a_second_run_while_one_is_open_opens_another() -> None:
    runs = pair_task([rec(0, "run"), rec(1, "run"), rec(2, "run"), rec(4, "inaction")])
    assert shape(runs) == [
        (0, 4, "inaction", None, 1), (1, None, "running", None, 1), (2, None, "running", None, 1),
    ]  # fmt: skip


# --- §4 rule 1: created order, ties in store order ------------------------------------------------------


def test_records_are_paired_in_created_order_not_store_order() -> None:
    # The fail row arrives late in the store (process tasks); file order would pair it with the second run.
    store_order = [rec(0, "run"), rec(10, "run"), rec(12, "success"), rec(4, "fail")]
    runs = pair_task(store_order)
    assert shape(runs) == [(0, 4, "fail", None, 1), (10, 12, "success", None, 2)]
    assert [run.duration for run in runs] == [4, 2]


def test_late_rows_with_run_ids_pair_the_same_in_any_store_order() -> None:
    records = [rec(0, "run", "x"), rec(1, "run", "y"), rec(3, "success", "y"), rec(2, "success", "x")]
    assert shape(pair_task(records)) == shape(pair_task(reversed(records)))
    assert shape(pair_task(records)) == [(0, 2, "success", "x", 1), (1, 3, "success", "y", 1)]


def test_equal_created_times_keep_store_order() -> None:
    run_first = pair_task([rec(5, "run"), rec(5, "success")])
    assert shape(run_first) == [(5, 5, "success", None, 1)]
    assert run_first[0].duration == 0
    finish_first = pair_task([rec(5, "success"), rec(5, "run")])
    assert sorted(shape(finish_first), key=str) == sorted(
        [(None, 5, "success", None, 1), (5, None, "running", None, 1)], key=str
    )


def test_pair_runs_pairs_each_task_alone_and_orders_tasks_by_name() -> None:
    records = [
        rec(0, "run", task="b"), rec(1, "run", task="a"), rec(2, "success", task="a"),
        rec(3, "crash", task="a"), rec(4, "fail", task="b"),
    ]  # fmt: skip
    runs = list(pair_runs(records))
    assert [(run.task_name, run.start, run.end, run.outcome) for run in runs] == [
        ("a", 1, 2, "success"), ("a", None, None, "crash"), ("b", 0, 4, "fail"),
    ]  # fmt: skip


# --- §4 rules 3 and 4: crash, running, finish without a run ---------------------------------------------


def test_a_crash_closes_every_open_run_of_its_task_with_no_end_and_no_duration() -> None:
    records = [
        rec(0, "run", "1"), rec(1, "run", "2"), rec(2, "run", task="other"), rec(9, "crash"),
    ]  # fmt: skip
    runs = list(pair_runs(records))
    crashed = [run for run in runs if run.task_name == "t"]
    assert shape(crashed) == [(0, None, "crash", "1", 1), (1, None, "crash", "2", 1)]
    assert all(run.duration is None for run in crashed)
    assert all(run.records[-1] == rec(9, "crash") for run in crashed)
    assert [run.outcome for run in runs if run.task_name == "other"] == ["running"]


def test_a_crash_with_no_open_run_becomes_a_run_with_no_start() -> None:
    runs = pair_task([rec(0, "run"), rec(1, "success"), rec(8, "crash")])
    assert shape(runs) == [(0, 1, "success", None, 1), (None, None, "crash", None, 1)]
    assert runs[1].moment == 8
    assert runs[1].duration is None


def test_a_finish_with_no_open_run_becomes_a_run_with_no_start() -> None:
    for action in ("success", "fail", "terminate", "inaction"):
        runs = pair_task([rec(3, action, "z")])
        assert shape(runs) == [(None, 3, action, "z", 1)]
        assert runs[0].duration is None
        assert runs[0].moment == 3


def test_history_cut_off_at_both_ends_drops_nothing() -> None:
    records = [
        rec(1, "fail"),
        rec(2, "success"),
        rec(3, "run"),
        rec(4, "crash"),
        rec(5, "crash"),
        rec(6, "run"),
    ]
    runs = pair_task(records)
    assert [(run.start, run.outcome) for run in runs] == [
        (None, "fail"), (None, "success"), (3, "crash"), (None, "crash"), (6, "running"),
    ]  # fmt: skip
    assert sum(len(run.records) for run in runs) == len(records)


def test_a_run_open_at_the_end_is_running() -> None:
    runs = pair_task([rec(0, "run", "a"), rec(1, "success", "a"), rec(2, "run", "b")])
    assert runs[-1].outcome == "running"
    assert runs[-1].end is None
    assert runs[-1].duration is None
    assert runs[-1].moment == 2


# --- §4 rule 5: durations -------------------------------------------------------------------------------


def test_duration_is_finish_created_minus_run_created_never_runtime_or_start() -> None:
    wrong_start = datetime(2026, 11, 21, 21, 0, tzinfo=UTC)
    records = [
        rec(1000.25, "run", "m", start=wrong_start, runtime=None),
        rec(1012.75, "success", "m", start=wrong_start, end=wrong_start, runtime=timedelta(microseconds=13)),
    ]
    (run,) = pair_task(records)
    assert run.duration == pytest.approx(12.5)
    assert (run.start, run.end) == (1000.25, 1012.75)


def test_crashed_and_running_runs_have_no_duration() -> None:
    runs = pair_task([rec(0, "run"), rec(5, "crash"), rec(6, "run")])
    assert [(run.outcome, run.duration) for run in runs] == [("crash", None), ("running", None)]


# --- §4 rule 6: attempts --------------------------------------------------------------------------------


def attempts(records: Sequence[Record], window: timedelta | None = None) -> list[tuple[str, int]]:
    runs = pair_task(records) if window is None else pair_task(records, window)
    return [(run.outcome, run.attempt) for run in runs]


def test_runs_after_failures_within_the_window_continue_the_chain() -> None:
    records = [
        rec(0, "run"), rec(1, "fail"), rec(60, "run"), rec(61, "terminate"), rec(120, "run"), rec(121, "fail"),
        rec(180, "run"), rec(181, "success"), rec(240, "run"), rec(241, "fail"),
    ]  # fmt: skip
    assert attempts(records) == [("fail", 1), ("terminate", 2), ("fail", 3), ("success", 4), ("fail", 1)]


def test_a_run_after_the_window_starts_a_new_chain() -> None:
    assert attempts([rec(0, "run"), rec(1, "fail"), rec(700, "run"), rec(701, "fail")]) == [
        ("fail", 1), ("fail", 1),
    ]  # fmt: skip


def test_the_window_is_measured_from_the_previous_finish_not_its_start() -> None:
    # 650 s after the failed run started, but 50 s after it finished.
    assert attempts([rec(0, "run"), rec(600, "fail"), rec(650, "run"), rec(651, "success")]) == [
        ("fail", 1), ("success", 2),
    ]  # fmt: skip


def test_the_window_after_a_crash_is_measured_from_the_crash_record() -> None:
    records = [rec(0, "run"), rec(500, "crash"), rec(1050, "run"), rec(1060, "success")]
    assert attempts(records) == [("crash", 1), ("success", 2)]
    late = [rec(0, "run"), rec(500, "crash"), rec(1150, "run"), rec(1160, "success")]
    assert attempts(late) == [("crash", 1), ("success", 1)]


def test_a_run_after_a_crash_without_open_run_continues_the_chain() -> None:
    assert attempts([rec(500, "crash"), rec(510, "run"), rec(511, "success")]) == [
        ("crash", 1),
        ("success", 2),
    ]


@pytest.mark.parametrize("outcome", ["success", "inaction"])
def test_success_and_inaction_end_a_chain(outcome: str) -> None:
    records = [rec(0, "run"), rec(1, "fail"), rec(2, "run"), rec(3, outcome), rec(4, "run"), rec(5, "fail")]
    assert attempts(records) == [("fail", 1), (outcome, 2), ("fail", 1)]


def test_a_custom_retry_window() -> None:
    records = [
        rec(0, "run"),
        rec(1, "fail"),
        rec(21, "run"),
        rec(22, "fail"),
        rec(62, "run"),
        rec(63, "fail"),
    ]
    assert attempts(records, timedelta(seconds=30)) == [("fail", 1), ("fail", 2), ("fail", 1)]
    assert attempts(records, timedelta(seconds=10)) == [("fail", 1), ("fail", 1), ("fail", 1)]
    assert attempts(records) == [("fail", 1), ("fail", 2), ("fail", 3)]


# --- §4 rule 8: statistics ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "values", [[4.0], [1.0, 3.0], [0.5, 2.0, 10.0], [1.0, 2.0, 3.0, 4.0], [7.0, 1.5, 3.25, 9.0, 2.0]]
)
def test_percentile_p50_is_statistics_median(values: list[float]) -> None:
    assert percentile(sorted(values), 0.5) == pytest.approx(statistics.median(values))


@given(
    st.lists(st.floats(0, 100, allow_nan=False), max_size=40),
    st.lists(st.floats(0, 100, allow_nan=False), max_size=40),
    st.floats(0, 1),
)
def test_a_percentile_of_two_sorted_lists_is_that_of_their_merge(
    first: list[float], second: list[float], fraction: float
) -> None:
    """The run index keeps a task's durations in a large sorted array and a few more: the same exact
    percentile as one sorted list, value for value."""
    merged = sorted(first + second)
    assert percentile(sorted(first), fraction, sorted(second)) == percentile(merged, fraction)
    for index in range(len(merged)):
        assert nth_of_two(sorted(first), sorted(second), index) == merged[index]


def test_percentile_p95_interpolates_linearly() -> None:
    # position 0.95 * (n - 1) between the sorted values, as SQL percentile_cont.
    assert percentile([1.0, 2.0, 3.0, 4.0], 0.95) == pytest.approx(3.0 + 0.85 * (4.0 - 3.0))  # position 2.85
    assert percentile([0.5, 2.0, 10.0], 0.95) == pytest.approx(2.0 + 0.9 * (10.0 - 2.0))  # position 1.9
    values = [float(value) for value in range(1, 21)]  # position 18.05
    assert percentile(values, 0.95) == pytest.approx(19.0 + 0.05 * 1.0)
    assert percentile([4.0], 0.95) == 4.0
    assert percentile([1.0, 9.0], 0.0) == 1.0
    assert percentile([1.0, 9.0], 1.0) == 9.0
    assert percentile([], 0.5) is None


def test_success_rate_counts_success_against_fail_terminate_crash_only() -> None:
    outcomes = [
        "success",
        "success",
        "fail",
        "terminate",
        "crash",
        "inaction",
        "inaction",
        "running",
        "success",
    ]
    assert success_rate(outcomes) == pytest.approx(3 / 6)
    assert success_rate(["inaction", "running"]) is None
    assert success_rate([]) is None
    assert success_rate(["crash"]) == 0.0
    assert success_rate(["success", "inaction"]) == 1.0


def test_streak_is_the_latest_outcome_and_its_run_length() -> None:
    def runs_of(*outcomes: str) -> list[Run]:
        return [Run("t", None, float(i), float(i) + 1, outcome) for i, outcome in enumerate(outcomes)]

    assert streak(runs_of("success", "fail", "success", "fail", "fail", "fail")) == "fail x3"
    assert streak(runs_of("fail", "success")) == "success x1"
    assert streak(runs_of("inaction", "inaction", "running")) == "running x1"  # as last_outcome says
    assert streak(runs_of("success", "running", "running")) == "running x2"
    assert streak(runs_of("success", "running", "success")) == "success x2"  # a run never closed, earlier
    assert streak(runs_of("running")) == "running x1"
    assert streak([]) == ""


def test_runtime_stats_counts_every_outcome_and_times_finished_runs_only() -> None:
    records = [
        rec(0, "run"), rec(2, "success"), rec(10, "run"), rec(14, "fail"), rec(20, "run"), rec(21, "inaction"),
        rec(30, "run"), rec(38, "terminate"), rec(40, "run"), rec(99, "crash"), rec(100, "run"),
    ]  # fmt: skip
    stats = runtime_stats(pair_task(records))
    durations = [2.0, 4.0, 1.0, 8.0]
    assert {key: stats[key] for key in ("runs", "success", "fail", "terminate", "inaction", "crash", "running")} == {
        "runs": 6, "success": 1, "fail": 1, "terminate": 1, "inaction": 1, "crash": 1, "running": 1,
    }  # fmt: skip
    assert stats["success_rate"] == pytest.approx(1 / 4)
    assert stats["min"] == 1.0
    assert stats["max"] == 8.0
    assert stats["p50"] == pytest.approx(statistics.median(durations))
    assert stats["p95"] == pytest.approx(4.0 + 0.85 * (8.0 - 4.0))
    assert stats["mean"] == pytest.approx(statistics.mean(durations))
    assert (stats["last_start"], stats["last_outcome"]) == (100, "running")


# --- §3 run selection (pure) ----------------------------------------------------------------------------


def test_run_selector_selects_by_start_or_by_finish_when_the_start_is_unknown() -> None:
    runs = pair_task([rec(5, "fail", message="early"), rec(10, "run"), rec(50, "success"), rec(60, "run")])
    window = run_selector(Query(since=7, until=20))
    assert [run.start for run in runs if window(run)] == [10]
    orphan = run_selector(Query(since=5, until=6))
    assert [(run.start, run.end) for run in runs if orphan(run)] == [(None, 5)]
    assert [run.start for run in runs if run_selector(Query(since=55))(run)] == [60]


def test_run_selector_by_run_id_outcome_and_any_record() -> None:
    records = [
        rec(0, "run", "a", message="starting"), rec(1, "fail", "a", message="boom", exc_text="ValueError: disk"),
        rec(2, "run", "b", message="starting"), rec(3, "success", "b", message="ok"),
    ]  # fmt: skip
    runs = pair_task(records)
    assert [run.run_id for run in runs if run_selector(Query(run_ids=("b",)))(run)] == ["b"]
    assert [run.run_id for run in runs if run_selector(Query(grep="disk"))(run)] == ["a"]
    assert [run.run_id for run in runs if run_selector(Query(grep="starting"))(run)] == ["a", "b"]
    assert [run.run_id for run in runs if run_selector(Query(), {"success", "running"})(run)] == ["b"]


# --- An independent pairing of the real fixtures (DESIGN §4 only, no tasklog code) ----------------------


@dataclass(frozen=True)
class PlainRun:
    outcome: str
    start: float | None
    end: float | None

    @property
    def duration(self) -> float | None:
        if self.start is None or self.end is None or self.outcome in ("crash", "running"):
            return None
        return self.end - self.start


Row = tuple[str, str, float, str | None]  # task_name, action, created, run_id


def independent_pairing(rows: Sequence[Row]) -> dict[str, list[PlainRun]]:
    """DESIGN §4 rules 1-5 written from the text alone."""
    per_task: dict[str, list[tuple[float, int, str, str | None]]] = defaultdict(list)
    for index, (task, action, created, run_id) in enumerate(rows):
        per_task[task].append((created, index, action, run_id))
    paired: dict[str, list[PlainRun]] = {}
    for task, items in per_task.items():
        items.sort(key=lambda item: (item[0], item[1]))
        open_runs: list[tuple[float, str | None]] = []
        runs: list[PlainRun] = []
        for created, _, action, run_id in items:
            if action == "run":
                open_runs.append((created, run_id))
            elif action == "crash":
                runs.extend(PlainRun("crash", start, None) for start, _ in open_runs)
                if not open_runs:
                    runs.append(PlainRun("crash", None, None))
                open_runs = []
            else:
                if run_id is None:
                    found = 0 if open_runs else None
                else:
                    same = [i for i, (_, open_id) in enumerate(open_runs) if open_id == run_id]
                    found = same[-1] if same else None
                if found is None:
                    runs.append(PlainRun(action, None, created))
                else:
                    start, _ = open_runs.pop(found)
                    runs.append(PlainRun(action, start, created))
        runs.extend(PlainRun("running", start, None) for start, _ in open_runs)
        paired[task] = runs
    return paired


def read_csv(path: Path) -> list[Row]:
    with path.open(newline="", encoding="utf-8") as file:
        return [
            (row["task_name"], row["action"], float(row["created"]), row.get("run_id") or None)
            for row in csv.DictReader(file)
        ]


def read_sqlite(path: Path, table: str) -> list[Row]:
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        cursor = connection.execute(f"SELECT task_name, action, created, run_id FROM {table} ORDER BY rowid")
        return [(str(task), str(action), float(created), run_id) for task, action, created, run_id in cursor]
    finally:
        connection.close()


def read_json(path: Path) -> list[Row]:
    items = json.loads(path.read_text(encoding="utf-8"))
    return [(item["task_name"], item["action"], float(item["created"]), item.get("run_id")) for item in items]


FIXTURES = {
    "task_run.csv": lambda: read_csv(ROCKETRY / "task_run.csv"),
    "minimal_run.csv": lambda: read_csv(ROCKETRY / "minimal_run.csv"),
    "minimal.csv": lambda: read_csv(ROCKETRY / "minimal.csv"),
    "run.csv": lambda: read_csv(ROCKETRY / "run.csv"),
    "task_run.db": lambda: read_sqlite(ROCKETRY / "task_run.db", "tasks"),
    "minimal.db": lambda: read_sqlite(ROCKETRY / "minimal.db", "logs"),
    "memory.json": lambda: read_json(ROCKETRY / "memory.json"),
}


def durations_of(values: Iterable[float | None]) -> list[float]:
    return sorted(value for value in values if value is not None)


def test_the_independent_pairing_sees_what_the_fixture_readme_describes() -> None:
    rows = FIXTURES["task_run.csv"]()
    paired = independent_pairing(rows)
    assert [run.outcome for run in paired["long_running"]] == ["crash"]
    assert paired["long_running"][0].start is not None
    assert Counter(run.outcome for run in paired["multilaunch_increment"])["running"] >= 1
    assert {run.outcome for run in paired["nothing_to_do"]} == {"inaction"}
    assert all(run.start is not None for runs in paired.values() for run in runs)
    # Rocketry's runtime is in the wrong unit: a blocking_main run takes about 1.5 s, not microseconds.
    assert all(1.0 < (run.duration or 0) < 3.0 for run in paired["blocking_main"] if run.outcome == "success")
    # memory.json starts at run 2: its crash rows have no run to close.
    memory = independent_pairing(FIXTURES["memory.json"]())
    crash_rows = sum(action == "crash" for _, action, _, _ in FIXTURES["memory.json"]())
    unknown_start = [run for runs in memory.values() for run in runs if run.start is None]
    assert crash_rows > 0
    assert [run.outcome for run in unknown_start] == ["crash"] * crash_rows


def assert_same_durations(label: str, ours: list[float], theirs: list[float]) -> None:
    assert len(ours) == len(theirs), label
    if ours:
        for name, mine, cli in (
            ("min", ours[0], theirs[0]),
            ("median", statistics.median(ours), statistics.median(theirs)),
            ("max", ours[-1], theirs[-1]),
        ):
            assert abs(mine - cli) <= TOLERANCE, (label, name, mine, cli)


@pytest.mark.parametrize("fixture", list(FIXTURES))
def test_runs_agree_with_an_independent_pairing(fixture: str) -> None:
    expected = independent_pairing(FIXTURES[fixture]())
    cli_rows = jsonl(run_cli("runs", "-r", str(ROCKETRY / fixture), "-o", "jsonl").stdout)
    got: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in cli_rows:
        got[row["task_name"]].append(row)
    assert sorted(got) == sorted(expected)
    for task, runs in expected.items():
        assert Counter(row["outcome"] for row in got[task]) == Counter(run.outcome for run in runs), task
        assert sum(row["start"] is None for row in got[task]) == sum(run.start is None for run in runs), task
        for outcome in {run.outcome for run in runs}:
            assert_same_durations(
                f"{fixture} {task} {outcome}",
                durations_of(run.duration for run in runs if run.outcome == outcome),
                durations_of(row["duration"] for row in got[task] if row["outcome"] == outcome),
            )
        assert all(row["duration"] is None for row in got[task] if row["outcome"] in ("crash", "running"))


@pytest.mark.parametrize("fixture", ["task_run.csv", "minimal.csv", "task_run.db", "memory.json"])
def test_runtimes_agree_with_an_independent_pairing(fixture: str) -> None:
    expected = independent_pairing(FIXTURES[fixture]())
    rows = json.loads(run_cli("runtimes", "-r", str(ROCKETRY / fixture), "-o", "json").stdout)
    assert [row["task_name"] for row in rows] == sorted(expected)
    for row in rows:
        runs = expected[row["task_name"]]
        counts = Counter(run.outcome for run in runs)
        assert row["runs"] == len(runs)
        for outcome in ("success", "fail", "terminate", "inaction", "crash", "running"):
            assert row[outcome] == counts[outcome], (row["task_name"], outcome)
        failures = counts["fail"] + counts["terminate"] + counts["crash"]
        if counts["success"] + failures:
            assert row["success_rate"] == pytest.approx(counts["success"] / (counts["success"] + failures))
        else:
            assert row["success_rate"] is None
        durations = durations_of(run.duration for run in runs)
        if durations:
            assert abs(row["min"] - durations[0]) <= TOLERANCE
            assert abs(row["p50"] - statistics.median(durations)) <= TOLERANCE
            assert abs(row["max"] - durations[-1]) <= TOLERANCE
            assert row["min"] <= row["p50"] <= row["p95"] <= row["max"]
        else:
            assert (row["min"], row["p50"], row["p95"], row["max"], row["mean"]) == (None,) * 5


# --- CLI: runs ------------------------------------------------------------------------------------------

T = 1_800_000_000.0  # 2027-01-15T08:00:00Z


def write_log(path: Path, rows: Sequence[tuple[str, str, float, str | None, str, str]]) -> str:
    """A small TaskRunRecord-like CSV as Red Bird writes it (CRLF, quoting, empty = None)."""
    with path.open("w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(["task_name", "action", "created", "run_id", "message", "exc_text"])
        writer.writerows(
            [task, action, repr(created), run_id or "", message, exc]
            for task, action, created, run_id, message, exc in rows
        )
    return str(path)


@pytest.fixture
def small_log(tmp_path: Path) -> str:
    def row(
        task: str, action: str, offset: float, run_id: str | None, exc: str = ""
    ) -> tuple[str, str, float, str | None, str, str]:
        return (task, action, T + offset, run_id, f"Task '{task}' status: '{action}'", exc)

    trace = 'Traceback (most recent call last):\n  File "job.py", line 3\nValueError: disk full'
    return write_log(
        tmp_path / "small.csv",
        [
            row("job", "run", 0, "r1"),
            row("other", "fail", 50, "o1", "Traceback (most recent call last):\nKeyError: 'x'"),
            row("other", "run", 60, "o2"),
            row("job", "success", 100, "r1"),
            row("job", "run", 200, "r2"),
            row("job", "fail", 230, "r2", trace),
            row("job", "run", 300, "r3"),
            row("job", "success", 310, "r3"),
            row("other", "crash", 500, None),
            row("job", "run", 4000, "r4"),
        ],
    )


def runs_of(*args: str, expect: int = 0) -> list[dict[str, Any]]:
    return jsonl(run_cli("runs", *args, "-o", "jsonl", expect=expect).stdout)


def test_runs_fields_are_the_documented_ones_with_iso_utc_times_and_seconds(small_log: str) -> None:
    rows = runs_of("-r", small_log)
    assert all(list(row) == RUN_FIELDS for row in rows)
    assert rows[0] == {
        "task_name": "job", "run_id": "r1", "start": iso(T), "end": iso(T + 100), "duration": 100.0,
        "outcome": "success", "attempt": 1,
    }  # fmt: skip
    assert all(ISO_UTC.fullmatch(row[name]) for row in rows for name in ("start", "end") if row[name])
    # o2 starts 10 s after the orphan fail o1 finished: it continues that retry chain.
    assert [(row["run_id"], row["outcome"], row["duration"], row["attempt"]) for row in rows] == [
        ("r1", "success", 100.0, 1), ("o1", "fail", None, 1), ("o2", "crash", None, 2),
        ("r2", "fail", 30.0, 1), ("r3", "success", 10.0, 2), ("r4", "running", None, 1),
    ]  # fmt: skip
    header, *lines = run_cli("runs", "-r", small_log, "-o", "tsv").stdout.splitlines()
    assert header.split("\t") == RUN_FIELDS
    assert lines[0].split("\t") == ["job", "r1", iso(T), iso(T + 100), "100.0", "success", "1"]
    plain = run_cli("runs", "-r", small_log, "-o", "plain").stdout.splitlines()
    assert plain == lines


def test_runs_outcome_running_failed_and_last(small_log: str) -> None:
    def ids(*args: str, expect: int = 0) -> list[str | None]:
        return [row["run_id"] for row in runs_of("-r", small_log, *args, expect=expect)]

    assert ids("--outcome", "success") == ["r1", "r3"]
    assert ids("--outcome", "success", "--outcome", "running") == ["r1", "r3", "r4"]
    assert ids("--running") == ["r4"]
    assert ids("--failed") == ["o1", "o2", "r2"]
    assert ids("--failed", "-n", "2") == ["o2", "r2"]
    assert ids("-n", "1") == ["r4"]
    assert ids("-n", "100") == ["r1", "o1", "o2", "r2", "r3", "r4"]
    assert ids("--outcome", "inaction", expect=1) == []


def test_runs_are_selected_by_start_and_keep_their_finish_after_until(small_log: str) -> None:
    before = runs_of("-r", small_log, "--until", f"@{T + 50}")
    assert [(row["run_id"], row["end"], row["duration"]) for row in before] == [("r1", iso(T + 100), 100.0)]
    # The orphan fail (start unknown) is selected by its finish; r1 started before --since so it is out.
    after = runs_of("-r", small_log, "--since", f"@{T + 50}", "--until", f"@{T + 250}")
    assert [row["run_id"] for row in after] == ["o1", "o2", "r2"]
    assert [
        row["run_id"] for row in runs_of("-r", small_log, "--since", f"@{T + 51}", "--until", f"@{T + 61}")
    ] == ["o2"]


def test_runs_selection_never_cuts_the_history_used_for_pairing_and_attempts(small_log: str) -> None:
    (r3,) = runs_of("-r", small_log, "--since", f"@{T + 250}", "--outcome", "success")
    assert (r3["run_id"], r3["attempt"], r3["duration"]) == ("r3", 2, 10.0)
    (by_id,) = runs_of("-r", small_log, "--run-id", "r3")
    assert by_id == r3
    assert [row["run_id"] for row in runs_of("-r", small_log, "--run-id", "r2", "--run-id", "r4")] == [
        "r2",
        "r4",
    ]


def test_runs_grep_matches_a_run_when_any_of_its_records_matches(small_log: str) -> None:
    assert [row["run_id"] for row in runs_of("-r", small_log, "--grep", "disk full")] == ["r2"]
    assert [row["run_id"] for row in runs_of("-r", small_log, "--grep", "status: 'success'")] == ["r1", "r3"]
    assert [row["run_id"] for row in runs_of("-r", small_log, "--grep", "STATUS: 'CRASH'", "-i")] == ["o2"]


def test_runs_task_globs_on_the_fixture() -> None:
    def tasks(*patterns: str) -> Counter[str]:
        args = [arg for pattern in patterns for arg in ("-t", pattern)]
        return Counter(row["task_name"] for row in runs_of("-r", str(TASK_RUN), *args))

    expected = {task: len(runs) for task, runs in independent_pairing(read_csv(TASK_RUN)).items()}
    assert tasks("multilaunch_*") == {
        name: expected[name] for name in ("multilaunch_increment", "multilaunch_uuid")
    }
    assert tasks("timeout_[pt]*", "succeeds") == {
        name: expected[name] for name in ("timeout_process", "timeout_thread", "succeeds")
    }  # fmt: skip
    assert tasks('fails, "loudly" ✗') == {'fails, "loudly" ✗': expected['fails, "loudly" ✗']}
    assert tasks("*wörld*") == {'say "hi", wörld ✓': expected['say "hi", wörld ✓']}


def test_runs_grep_and_run_id_on_the_fixture() -> None:
    rows = read_csv(TASK_RUN)
    timeouted = runs_of("-r", str(TASK_RUN), "--grep", "timeouted")
    assert {row["task_name"] for row in timeouted} == {"timeout_process"}
    assert len(timeouted) == sum(
        task == "timeout_process" and action == "terminate" for task, action, _, _ in rows
    )
    # multilaunch_increment's ids 1, 2, 3 are reused: every run with id "1", also across the restart.
    ones = runs_of("-r", str(TASK_RUN), "-t", "multilaunch_increment", "--run-id", "1")
    assert len(ones) == sum(
        task == "multilaunch_increment" and action == "run" and run_id == "1"
        for task, action, _, run_id in rows
    )
    assert all(row["run_id"] == "1" for row in ones)
    assert all(4.5 < row["duration"] < 6.0 for row in ones if row["outcome"] == "success")
    # A retry of flaky_retry picked by its run id keeps the attempt it has in the whole history.
    flaky_ids = [run_id for task, action, _, run_id in rows if task == "flaky_retry" and action == "run"]
    (second,) = runs_of("-r", str(TASK_RUN), "--run-id", str(flaky_ids[1]))
    assert (second["task_name"], second["outcome"], second["attempt"]) == ("flaky_retry", "fail", 2)


def test_runs_crash_rows_and_runs_left_open_on_the_fixture() -> None:
    crashed = runs_of("-r", str(TASK_RUN), "--outcome", "crash")
    assert sorted(row["task_name"] for row in crashed) == ["blocking_main", "long_running", "timeout_thread"]
    assert all(row["start"] and row["end"] is None and row["duration"] is None for row in crashed)
    running = runs_of("-r", str(TASK_RUN), "--running")
    assert {row["task_name"] for row in running} == {"multilaunch_increment", "multilaunch_uuid"}
    assert sorted(row["run_id"] for row in running if row["task_name"] == "multilaunch_increment") == [
        "2",
        "3",
    ]


# --- CLI: runtimes and tasks ----------------------------------------------------------------------------


def test_runtimes_fields(small_log: str) -> None:
    header = run_cli("runtimes", "-r", small_log, "-o", "tsv").stdout.splitlines()[0]
    assert header.split("\t") == RUNTIME_FIELDS
    rows = json.loads(run_cli("runtimes", "-r", small_log, "-o", "json").stdout)
    assert [list(row) for row in rows] == [RUNTIME_FIELDS, RUNTIME_FIELDS]
    job = rows[0]
    assert {name: job[name] for name in RUNTIME_FIELDS} == {
        "task_name": "job", "runs": 4, "success": 2, "fail": 1, "terminate": 0, "inaction": 0, "crash": 0,
        "running": 1, "success_rate": pytest.approx(2 / 3), "min": 10.0, "p50": 30.0,
        "p95": pytest.approx(30.0 + 0.9 * 70.0), "max": 100.0, "mean": pytest.approx(140 / 3),
        "last_start": iso(T + 4000), "last_outcome": "running",
    }  # fmt: skip
    other = rows[1]
    assert (other["task_name"], other["runs"], other["fail"], other["crash"], other["min"]) == (
        "other",
        2,
        1,
        1,
        None,
    )


def test_runtimes_by_hour_and_day_add_a_bucket(small_log: str) -> None:
    by_hour = json.loads(run_cli("runtimes", "-r", small_log, "--by", "hour", "-o", "json").stdout)
    assert all(list(row) == ["task_name", "bucket", *RUNTIME_FIELDS[1:]] for row in by_hour)
    hour = datetime.fromtimestamp(T, UTC)
    assert [(row["task_name"], datetime.fromisoformat(row["bucket"]), row["runs"]) for row in by_hour] == [
        ("job", hour, 3), ("job", hour + timedelta(hours=1), 1), ("other", hour, 2),
    ]  # fmt: skip
    header = run_cli("runtimes", "-r", small_log, "--by", "day", "-o", "tsv").stdout.splitlines()[0]
    assert header.split("\t") == ["task_name", "bucket", *RUNTIME_FIELDS[1:]]
    by_day = json.loads(run_cli("runtimes", "-r", small_log, "--by", "day", "-o", "json").stdout)
    day = hour.replace(hour=0)
    assert [(row["task_name"], datetime.fromisoformat(row["bucket"]), row["runs"]) for row in by_day] == [
        ("job", day, 4), ("other", day, 2),
    ]  # fmt: skip


def test_tasks_fields(small_log: str) -> None:
    header = run_cli("tasks", "-r", small_log, "-o", "tsv").stdout.splitlines()[0]
    assert header.split("\t") == TASK_FIELDS
    rows = json.loads(run_cli("tasks", "-r", small_log, "-o", "json").stdout)
    assert rows == [
        {"task_name": "job", "runs": 4, "last_start": iso(T + 4000), "last_outcome": "running",
         "last_duration": None, "success_rate": pytest.approx(2 / 3), "streak": "running x1"},
        {"task_name": "other", "runs": 2, "last_start": iso(T + 60), "last_outcome": "crash",
         "last_duration": None, "success_rate": 0.0, "streak": "crash x1"},
    ]  # fmt: skip


def test_tasks_on_the_fixture_agree_with_the_independent_pairing() -> None:
    expected = independent_pairing(read_csv(TASK_RUN))
    rows = json.loads(run_cli("tasks", "-r", str(TASK_RUN), "-o", "json").stdout)
    assert [row["task_name"] for row in rows] == sorted(expected)
    for row in rows:
        # Every start is known in task_run.csv.
        runs = sorted(expected[row["task_name"]], key=lambda run: run.start or 0.0)
        # The latest run's outcome; runs left running earlier do not break a streak of finished runs.
        latest_running = runs[-1].outcome == "running"
        finished = [run.outcome for run in runs if latest_running or run.outcome != "running"]
        count = next(
            (i for i, outcome in enumerate(reversed(finished)) if outcome != finished[-1]), len(finished)
        )
        assert row["runs"] == len(runs)
        assert row["streak"] == f"{finished[-1]} x{count}", row
        assert row["last_start"] == iso(runs[-1].start or 0.0)
        assert row["last_outcome"] == runs[-1].outcome
    assert {row["task_name"]: row["streak"] for row in rows}['fails, "loudly" ✗'] == "fail x9"


@pytest.mark.parametrize(
    ("option", "value", "expected"),
    [("--grep", "timeouted", ["timeout_process"]), ("--run-id", "1", ["multilaunch_increment"]),
     ("--where", "action=crash", ["blocking_main", "long_running", "timeout_thread"])],
)  # fmt: skip
def test_tasks_selects_runs_with_the_options_of_every_run_command(
    option: str, value: str, expected: list[str]
) -> None:
    # DESIGN §3: for run commands (runs, runtimes, timeline, tasks, check) --run-id, --where and --grep select runs.
    rows = json.loads(run_cli("tasks", "-r", str(TASK_RUN), option, value, "-o", "json").stdout)
    assert [row["task_name"] for row in rows] == expected


# --- CLI: timeline --------------------------------------------------------------------------------------

RUN_HEADER = re.compile(
    r"  (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}|\(start unknown\)).*  attempt (\d+)  run #(\d+)"
)


def test_timeline_retry_separators_sit_exactly_between_attempts_of_one_chain() -> None:
    attempts_by_cli = [row["attempt"] for row in runs_of("-r", str(TASK_RUN), "-t", "flaky_retry")]
    lines = run_cli("timeline", "flaky_retry", "-r", str(TASK_RUN), "-o", "plain").stdout.splitlines()
    assert lines[0] == f"flaky_retry  {len(attempts_by_cli)} of {len(attempts_by_cli)} runs"
    headers = [(index, RUN_HEADER.match(line)) for index, line in enumerate(lines)]
    found = [(index, int(match.group(2)), int(match.group(3))) for index, match in headers if match]
    assert [attempt for _, attempt, _ in found] == attempts_by_cli
    assert [number for _, _, number in found] == list(range(1, len(found) + 1))
    separators = [index for index, line in enumerate(lines) if line.strip().startswith("--- Retry")]
    expected = []
    for (_, previous, _), (index, attempt, _) in pairwise(found):
        if attempt == previous + 1:
            expected.append(index - 1)
            assert lines[index - 1] == f"  --- Retry {previous} (inferred) ---"
    assert separators == expected
    # flaky_retry fails, then is retried at once twice: each chain holds at least 3 consecutive attempts.
    assert [line for line in lines if line.strip() == "--- Retry 2 (inferred) ---"]


def test_timeline_last_n_runs() -> None:
    lines = run_cli(
        "timeline", "flaky_retry", "-r", str(TASK_RUN), "-n", "2", "-o", "plain"
    ).stdout.splitlines()
    total = len(runs_of("-r", str(TASK_RUN), "-t", "flaky_retry"))
    assert lines[0] == f"flaky_retry  2 of {total} runs"
    numbers = [int(match.group(3)) for line in lines if (match := RUN_HEADER.match(line))]
    assert numbers == [total - 1, total]


def test_timeline_shows_the_last_traceback_line_unless_full() -> None:
    task = 'fails, "loudly" ✗'
    short = run_cli("timeline", task, "-r", str(TASK_RUN), "-n", "1", "-o", "plain").stdout
    full = run_cli("timeline", task, "-r", str(TASK_RUN), "-n", "1", "--full", "-o", "plain").stdout
    last_line = """ValueError: bad row 'x,"y",z': expected "a,b", got 3 fields, ünïcödé"""
    assert last_line in short
    assert "Traceback (most recent call last):" not in short
    assert "Traceback (most recent call last):" in full
    assert last_line in full
    assert len(full.splitlines()) == len(short.splitlines()) + 11  # a 12-line traceback


def test_timeline_machine_rows_have_run_and_attempt_and_no_separators() -> None:
    rows = jsonl(run_cli("timeline", "flaky_retry", "-r", str(TASK_RUN), "-o", "jsonl").stdout)
    records = [row for row in read_csv(TASK_RUN) if row[0] == "flaky_retry"]
    assert len(rows) == len(records)
    assert all({"run", "attempt", "created", "task_name", "action", "run_id"} <= set(row) for row in rows)
    assert {row["action"] for row in rows} <= {"run", "success", "fail"}
    runs = runs_of("-r", str(TASK_RUN), "-t", "flaky_retry")
    by_number = dict(enumerate(runs, start=1))
    for row in rows:
        assert row["attempt"] == by_number[row["run"]]["attempt"]
        assert row["run_id"] == by_number[row["run"]]["run_id"]
    tsv = run_cli("timeline", "flaky_retry", "-r", str(TASK_RUN), "-o", "tsv").stdout.splitlines()
    assert tsv[0].split("\t")[:2] == ["run", "attempt"]
    assert not any("Retry" in line for line in tsv)


# --- CLI: exit codes ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "command", [["runs"], ["runtimes"], ["tasks"], ["timeline", "no_such_task"]], ids=lambda c: c[0]
)
def test_nothing_matched_exits_1(command: list[str]) -> None:
    args = [*command, "-r", str(TASK_RUN)]
    if command[0] != "timeline":
        args += ["-t", "no_such_task"]
    result = run_cli(*args, "-o", "plain", expect=1)
    assert result.stdout == ""
    assert run_cli(*args, "-o", "json", expect=1).stdout.strip() == "[]"


@pytest.mark.parametrize(
    "command", [["runs"], ["runtimes"], ["tasks"], ["timeline", "flaky_retry"]], ids=lambda c: c[0]
)
def test_bad_retry_window_and_unknown_field_exit_2(command: list[str]) -> None:
    bad_window = run_cli(*command, "-r", str(TASK_RUN), "--retry-window", "soon", expect=2)
    assert_one_error_line(bad_window, "soon")
    bad_field = run_cli(*command, "-r", str(TASK_RUN), "--fields", "task_name,bogus", "-o", "tsv", expect=2)
    assert_one_error_line(bad_field, "bogus")


def test_bad_outcome_exits_2() -> None:
    assert_one_error_line(run_cli("runs", "-r", str(TASK_RUN), "--outcome", "exploded", expect=2), "exploded")


def test_retry_window_option_changes_attempts() -> None:
    wide = [row["attempt"] for row in runs_of("-r", str(TASK_RUN), "-t", "flaky_retry")]
    narrow = [
        row["attempt"] for row in runs_of("-r", str(TASK_RUN), "-t", "flaky_retry", "--retry-window", "5s")
    ]
    assert max(wide) > max(narrow) >= 3  # the immediate retries are within seconds; the 12 s slot is not
    assert narrow.count(1) > wide.count(1)


# --- Golden files ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["table", "plain"])
def test_runs_golden(fmt: str) -> None:
    out = run_cli("runs", "-r", str(TASK_RUN), "-t", "timeout_thread", "-t", "long_running", "-t", "flaky_retry",
                  "-n", "8", "-o", fmt, "--color", "never", env=FIXED_WIDTH).stdout  # fmt: skip
    assert_golden(f"runs.{fmt}", out)


def test_runtimes_golden() -> None:
    out = run_cli("runtimes", "-r", str(TASK_RUN), "-o", "table", "--color", "never", env=FIXED_WIDTH).stdout
    assert_golden("runtimes.table", out)


def test_tasks_golden() -> None:
    out = run_cli("tasks", "-r", str(TASK_RUN), "-o", "table", "--color", "never", env=FIXED_WIDTH).stdout
    assert_golden("tasks.table", out)


def test_timeline_golden() -> None:
    out = run_cli("timeline", "flaky_retry", "-r", str(TASK_RUN), "-o", "plain", env=FIXED_WIDTH).stdout
    assert_golden("timeline.plain", out)


def test_timeline_machine_rows_carry_the_store_columns_as_ls_does() -> None:
    rows = jsonl(
        run_cli("timeline", "-r", str(TASK_RUN), "flaky_retry", "-o", "jsonl", "--fields", "all").stdout
    )
    listed = jsonl(run_cli("ls", "-r", str(TASK_RUN), "-t", "flaky_retry", "-o", "jsonl").stdout)
    by_key = {(row["created"], row["action"]): row for row in listed}
    assert len(rows) == len(listed) > 0
    for row in rows:
        record = {key: value for key, value in row.items() if key not in ("run", "attempt")}
        assert record == by_key[(row["created"], row["action"])]
    assert any(row["start"] is not None for row in rows) and any(row["exc_text"] for row in rows)


def test_timeline_keeps_the_order_of_the_tasks_named() -> None:
    def headings(*names: str) -> list[str]:
        out = run_cli("timeline", "-r", str(TASK_RUN), *names, "-n", "1", "-o", "plain").stdout
        return [line.split("  ")[0] for line in out.splitlines() if line and not line.startswith(" ")]

    assert headings("timeout_thread", "flaky_retry") == ["timeout_thread", "flaky_retry"]
    assert headings("flaky_retry", "timeout_thread") == ["flaky_retry", "timeout_thread"]
    assert headings("timeout_*", "flaky_retry") == [
        "timeout_async",
        "timeout_process",
        "timeout_thread",
        "flaky_retry",
    ]


def test_retry_window_0_turns_attempt_inference_off() -> None:
    records = [
        rec(0, "run", "a"),
        rec(0, "fail", "a"),
        rec(0, "run", "b"),
        rec(1, "fail", "b"),
        rec(2, "run", "c"),
    ]
    assert [run.attempt for run in pair_task(records, timedelta(0))] == [1, 1, 1]
    assert [run.attempt for run in pair_task(records, timedelta(minutes=10))] == [1, 2, 3]
    attempts = {
        row["attempt"]
        for row in jsonl(run_cli("runs", "-r", str(TASK_RUN), "--retry-window", "0", "-o", "jsonl").stdout)
    }
    assert attempts == {1}
