"""Issue #12: what a person waits for on a terminal. tasklog runs on a pseudo-terminal (120 x 40, no pager)
and the script times the first line on screen and the whole output, against `-o plain` on the same pty."""

import os
import pty
import select
import struct
import subprocess
import sys
import time
from fcntl import ioctl
from termios import TIOCSWINSZ

from timing import data_file

REPEAT = 3


def on_pty(command: list[str]) -> tuple[float, float, int]:
    """Seconds to the first byte and to the end of a command whose stdout is a 120 x 40 pty; lines shown."""
    controller, terminal = pty.openpty()
    ioctl(terminal, TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    env = {**os.environ, "TASKLOG_PAGER": "", "TERM": "xterm-256color"}
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=terminal, stderr=subprocess.DEVNULL, env=env)
    os.close(terminal)
    first, lines = 0.0, 0
    while True:
        ready, _, _ = select.select([controller], [], [], 60)
        if not ready:
            break
        try:
            chunk = os.read(controller, 1 << 20)
        except OSError:
            break
        if not chunk:
            break
        first = first or time.perf_counter() - started
        lines += chunk.count(b"\n")
    process.wait()
    os.close(controller)
    return first, time.perf_counter() - started, lines


def best(command: list[str]) -> tuple[float, float, int]:
    """The best of REPEAT runs, by total time."""
    return min((on_pty(command) for _ in range(REPEAT)), key=lambda result: result[1])


def main() -> None:
    csv_path = data_file(100_000, ".csv")
    tasklog = [sys.executable, "-m", "tasklog_cli"]
    cases = [
        ("ls, 100k records", ["ls", "-r", str(csv_path)]),
        ("runs, 50k runs", ["runs", "-r", str(csv_path)]),
        ("ls -n 20", ["ls", "-r", str(csv_path), "-n", "20"]),
    ]
    print("| what | table: first line | table: all | plain: all | table / plain |")
    print("|---|---|---|---|---|")
    for label, args in cases:
        first, total, _ = best([*tasklog, *args])
        _, plain, _ = best([*tasklog, *args, "-o", "plain"])
        print(f"| {label} | {first:.2f} s | {total:.2f} s | {plain:.2f} s | {total / plain:.2f}x |")
    started = time.perf_counter()
    head = subprocess.run(
        f"{sys.executable} -m tasklog_cli ls -r {csv_path} -o table | head -3",
        shell=True, capture_output=True, check=True,
    )  # fmt: skip
    print(f"| `ls -o table \\| head -3`, 100k records | | {time.perf_counter() - started:.2f} s | | |")
    assert head.stdout.count(b"\n") == 3


if __name__ == "__main__":
    main()
