"""Issue #4 figures in one run: `tasklog tail -n 10` on 1,000 and on 1,000,000 records (CSV and SQLite;
goal: under 0.2 s more on the large store), and the write-to-print latency of `tail -f --interval 0.5`
(CSV and SQLite; goal: no more than the interval plus 100 ms)."""

import argparse
import csv
import io
import json
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

from timing import best_time, data_file

TASKLOG = [sys.executable, "-m", "tasklog_cli"]
SMALL, LARGE = 1_000, 1_000_000
COLUMNS = ("task_name", "action", "created", "run_id")


def tail_n(repeat: int) -> None:
    print(f"tail -n 10, best of {repeat} whole-process runs (goal: large - small < 0.2 s)")
    for label, suffix in (("CSV", ".csv"), ("SQLite", ".db")):
        small, large = data_file(SMALL, suffix), data_file(LARGE, suffix)
        small_time = best_time([*TASKLOG, "tail", "-n", "10", "-r", str(small)], repeat)[0]
        large_time = best_time([*TASKLOG, "tail", "-n", "10", "-r", str(large)], repeat)[0]
        verdict = "ok" if large_time - small_time < 0.2 else "OVER"
        print(
            f"  {label:<6}  {SMALL:>9,} records {small_time * 1000:6.0f} ms | {LARGE:,} records "
            f"({large.stat().st_size / 1e6:.0f} MB) {large_time * 1000:6.0f} ms | "
            f"difference {(large_time - small_time) * 1000:+5.0f} ms  {verdict}"
        )


class Reader:
    """A `tail -f` process; a thread notes when each record's line arrives (by run_id)."""

    def __init__(self, path: Path, interval: float) -> None:
        command = [
            *TASKLOG,
            "tail",
            "-f",
            "-n",
            "0",
            "--interval",
            str(interval),
            "-o",
            "jsonl",
            "-r",
            str(path),
        ]
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.arrived: dict[str, float] = {}
        self.event = threading.Condition()
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in iter(self.process.stdout.readline, b""):
            now = time.monotonic()
            with self.event:
                self.arrived[json.loads(line)["run_id"]] = now
                self.event.notify_all()

    def wait_for(self, run_id: str, timeout: float = 10.0) -> float:
        with self.event:
            if not self.event.wait_for(lambda: run_id in self.arrived, timeout=timeout):
                raise TimeoutError(f"{run_id} never arrived")
            return self.arrived[run_id]

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


@contextmanager
def csv_store(folder: Path) -> Iterator[tuple[Path, Callable[[str], None]]]:
    """A CSV log and a writer appending one row the way Red Bird's CSVFileRepo does (open, write, close)."""
    path = folder / "log.csv"
    with path.open("w", newline="", encoding="utf-8") as file:
        csv.writer(file).writerow(COLUMNS)

    def write(run_id: str) -> None:
        buffer = io.StringIO()
        csv.writer(buffer).writerow(("bench ✓", "run", repr(time.time()), run_id))
        with path.open("a", newline="", encoding="utf-8") as file:
            file.write(buffer.getvalue())

    yield path, write


@contextmanager
def sqlite_store(folder: Path) -> Iterator[tuple[Path, Callable[[str], None]]]:
    """A SQLite table with an integer key and a writer committing one row at a time."""
    path = folder / "log.db"
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute(
        "CREATE TABLE tasks (id INTEGER PRIMARY KEY, task_name TEXT, action TEXT, created FLOAT, run_id TEXT)"
    )

    def write(run_id: str) -> None:
        connection.execute(
            "INSERT INTO tasks (task_name, action, created, run_id) VALUES (?, ?, ?, ?)",
            ("bench ✓", "run", time.time(), run_id),
        )

    try:
        yield path, write
    finally:
        connection.close()


Store = Callable[[Path], AbstractContextManager[tuple[Path, Callable[[str], None]]]]


def latencies(store: Store, interval: float, records: int) -> list[float]:
    """Write `records` records at random moments of the poll cycle; how long each took to be printed."""
    rng = random.Random(4)
    with tempfile.TemporaryDirectory() as folder, store(Path(folder)) as (path, write):
        reader = Reader(path, interval)
        try:
            for attempt in range(60):  # until it is started and polling (-n 0: earlier rows are not shown)
                write(f"warm-up {attempt}")
                try:
                    reader.wait_for(f"warm-up {attempt}", timeout=0.5 + interval)
                    break
                except TimeoutError:
                    continue
            else:
                raise TimeoutError("tail -f printed nothing in 60 tries")
            found = []
            for number in range(records):
                time.sleep(rng.uniform(0, interval))
                run_id = f"r{number}"
                written = time.monotonic()
                write(run_id)
                found.append(reader.wait_for(run_id) - written)
            return found
        finally:
            reader.stop()


def follow_latency(interval: float, records: int) -> None:
    goal = interval + 0.1
    print(
        f"tail -f --interval {interval}: write-to-print latency over {records} records (goal <= {goal:.1f} s)"
    )
    stores: tuple[tuple[str, Store], ...] = (("CSV", csv_store), ("SQLite", sqlite_store))
    for label, store in stores:
        found = latencies(store, interval, records)
        verdict = "ok" if max(found) <= goal else "OVER"
        median, longest, shortest = (
            value * 1000 for value in (statistics.median(found), max(found), min(found))
        )
        print(
            f"  {label:<6}  median {median:4.0f} ms, max {longest:4.0f} ms, min {shortest:4.0f} ms {verdict}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--interval", type=float, default=0.5)
    parser.add_argument("--records", type=int, default=20)
    args = parser.parse_args()
    tail_n(args.repeat)
    follow_latency(args.interval, args.records)


if __name__ == "__main__":
    main()
