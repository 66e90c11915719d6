"""Write N synthetic Rocketry-shaped records (MinimalRunRecord columns) to a CSV file and a SQLite table."""

import argparse
import csv
import random
import sqlite3
from collections.abc import Iterator
from pathlib import Path

COLUMNS = ("task_name", "action", "created", "run_id")
TASKS = [f"task_{number:02d}" for number in range(20)] + ['say "hi", wörld', "nightly_report"]
START = 1_763_700_000.0


def synthetic_records(count: int, seed: int = 7) -> Iterator[tuple[str, str, float, str]]:
    """Runs of random tasks: a `run`, then a finish (mostly success), every run with a uuid-like id."""
    rng = random.Random(seed)
    created = START
    written = 0
    while written < count:
        task = rng.choice(TASKS)
        run_id = f"{rng.getrandbits(64):016x}"
        created += rng.uniform(0.001, 2.0)
        yield task, "run", round(created, 6), run_id
        finish = rng.choices(["success", "fail", "terminate", "inaction"], weights=[90, 7, 2, 1])[0]
        created += rng.uniform(0.001, 5.0)
        yield task, finish, round(created, 6), run_id
        written += 2


def write_csv(path: Path, count: int) -> None:
    """Write the records as Red Bird's CSVFileRepo does: a header, CRLF line ends, minimal quoting."""
    with path.open("w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(COLUMNS)
        writer.writerows(synthetic_records(count))


def write_sqlite(path: Path, count: int) -> None:
    """Write the records to a `tasks` table with an integer primary key, as a user would declare it."""
    path.unlink(missing_ok=True)
    with sqlite3.connect(path) as connection:
        connection.execute(
            "CREATE TABLE tasks"
            " (id INTEGER PRIMARY KEY, task_name TEXT, action TEXT, created FLOAT, run_id TEXT)"
        )
        connection.executemany(
            "INSERT INTO tasks (task_name, action, created, run_id) VALUES (?, ?, ?, ?)",
            synthetic_records(count),
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("count", type=int, nargs="?", default=1_000_000)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "data")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    write_csv(args.out / f"records_{args.count}.csv", args.count)
    write_sqlite(args.out / f"records_{args.count}.db", args.count)
    print(f"wrote {args.count} records to {args.out}")


if __name__ == "__main__":
    main()
