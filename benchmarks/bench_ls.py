"""Issue #2 figures in one run: `tasklog ls --task X --action fail` on 1,000,000 CSV records against
Red Bird's CSVFileRepo and a bare csv.reader loop, peak memory of `ls -n 10`, and start-up time."""

import argparse
import subprocess
import sys

from timing import best_time, data_file

TASK = "task_07"

REDBIRD_SCRIPT = """
import sys, typing
from tasklog_cli.sources.redbird import load_redbird
import pydantic.v1 as pydantic
redbird = load_redbird()
class MinimalRunRecord(pydantic.BaseModel):  # Rocketry's MinimalRunRecord shape
    task_name: str
    action: str
    created: float
    run_id: typing.Optional[str]
repo = redbird.repos.CSVFileRepo(filename=sys.argv[1], model=MinimalRunRecord)
print(len(repo.filter_by(task_name=sys.argv[2], action="fail").all()))
"""

CSV_READER_SCRIPT = """
import csv, sys
with open(sys.argv[1], newline="", encoding="utf-8") as file:
    rows = csv.reader(file)
    header = next(rows)
    task_at, action_at = header.index("task_name"), header.index("action")
    print(sum(1 for row in rows if row[task_at] == sys.argv[2] and row[action_at] == "fail"))
"""


def peak_memory_mb(command: list[str]) -> float:
    """Peak resident memory of a command in MB (a child process reports its own children's peak)."""
    probe = (
        "import resource, subprocess, sys; "
        "subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, check=True); "
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe, *command], capture_output=True, text=True, check=True
    )
    return int(result.stdout) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    data = data_file(args.records, ".csv")
    tasklog = [sys.executable, "-m", "tasklog_cli"]
    python = sys.executable

    ours, our_out = best_time(
        [*tasklog, "ls", "-r", str(data), "--task", TASK, "--action", "fail"], args.repeat
    )
    bare, bare_out = best_time([python, "-c", CSV_READER_SCRIPT, str(data), TASK], args.repeat)
    redbird, redbird_out = best_time([python, "-c", REDBIRD_SCRIPT, str(data), TASK], 1)
    matches = len(our_out.splitlines())
    assert matches == int(bare_out) == int(redbird_out), (matches, bare_out, redbird_out)

    memory = peak_memory_mb([*tasklog, "ls", "-r", str(data), "-n", "10"])
    tail_time, _ = best_time([*tasklog, "ls", "-r", str(data), "-n", "10"], args.repeat)
    bare_start, _ = best_time([python, "-c", "pass"], 10)
    help_start, _ = best_time([*tasklog, "--help"], 10)
    small = data_file(1000, ".csv")
    small_ls, _ = best_time([*tasklog, "ls", "-r", str(small), "-n", "10"], 10)

    print(f"records: {args.records:,} ({data.stat().st_size / 1e6:.0f} MB CSV), {matches} matching")
    print(
        f"ls --task {TASK} --action fail   tasklog {ours:.3f} s | Red Bird CSVFileRepo {redbird:.3f} s | "
        f"csv.reader loop {bare:.3f} s"
    )
    print(f"  speed-up over Red Bird: {redbird / ours:.1f}x (goal >= 10x)")
    print(f"  ratio to csv.reader loop: {ours / bare:.2f}x (goal <= 2x)")
    print(f"ls -n 10: {tail_time:.3f} s, peak memory {memory:.0f} MB (goal < 100 MB)")
    print(
        f"start-up: python -c pass {bare_start * 1000:.0f} ms | tasklog --help {help_start * 1000:.0f} ms "
        f"(+{(help_start - bare_start) * 1000:.0f} ms, goal <= +200 ms) | ls -n 10 on 1,000 records "
        f"{small_ls * 1000:.0f} ms (+{(small_ls - bare_start) * 1000:.0f} ms)"
    )


if __name__ == "__main__":
    main()
