"""The baseline of issue #14: a bare csv.reader loop that pairs each `run` with its finish by task and run
id and prints, per task, the counts by outcome and the min / p50 / p95 / max / mean duration."""

import csv
import sys
from collections import defaultdict


def percentile(ordered: list[float], fraction: float) -> float:
    position = fraction * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def main(path: str) -> None:
    open_runs: dict[tuple[str, str], float] = {}
    durations: dict[str, list[float]] = defaultdict(list)
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    with open(path, newline="", encoding="utf-8") as file:
        rows = csv.reader(file)
        header = next(rows)
        task_at, action_at, created_at, run_at = (
            header.index(name) for name in ("task_name", "action", "created", "run_id")
        )
        for row in rows:
            task, action, created, run_id = row[task_at], row[action_at], float(row[created_at]), row[run_at]
            if action == "run":
                open_runs[(task, run_id)] = created
                counts[task]["runs"] += 1
            else:
                start = open_runs.pop((task, run_id), None)
                if start is not None:
                    durations[task].append(created - start)
                    counts[task][action] += 1
    print("task_name", "runs", "success", "fail", "terminate", "inaction", "min", "p50", "p95", "max", "mean",
          sep="\t")  # fmt: skip
    for task in sorted(counts):
        ordered = sorted(durations[task])
        tally = counts[task]
        print(task, tally["runs"], tally["success"], tally["fail"], tally["terminate"], tally["inaction"],
              ordered[0], percentile(ordered, 0.5), percentile(ordered, 0.95), ordered[-1],
              sum(ordered) / len(ordered), sep="\t")  # fmt: skip


if __name__ == "__main__":
    main(sys.argv[1])
