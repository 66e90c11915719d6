"""Issue #15 figures: how long `tasklog ui` takes to show its first screen with data, in a real pty
(goals: 1.5 s on the demo, 2.5 s on 1,000,000 records), against `python -c pass` and Textual's import."""

import argparse
import fcntl
import os
import pty
import select
import struct
import subprocess
import sys
import termios
import time

from timing import best_time, data_file

TASKLOG = [sys.executable, "-m", "tasklog_cli", "ui"]
LARGE = 1_000_000


def first_screen(spec: str, shows: str, timeout: float = 120.0) -> float:
    """Seconds from starting `tasklog ui -r SPEC` on an 80x24 pty until `shows` (a task name) is drawn."""
    controller, terminal = pty.openpty()
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    environment = {**os.environ, "TERM": "xterm-256color"}
    started = time.perf_counter()
    process = subprocess.Popen([*TASKLOG, "-r", spec], stdin=terminal, stdout=terminal, stderr=terminal,
                               env=environment, start_new_session=True)  # fmt: skip
    os.close(terminal)
    seen = b""
    try:
        while shows.encode() not in seen:
            if time.perf_counter() - started > timeout:
                raise SystemExit(f"{shows!r} never appeared on the screen of {spec}")
            ready, _, _ = select.select([controller], [], [], 0.05)
            if ready:
                seen += os.read(controller, 65536)
        elapsed = time.perf_counter() - started
        os.write(controller, b"q")
        while process.poll() is None:  # drain until it has given the terminal back
            ready, _, _ = select.select([controller], [], [], 0.05)
            if ready:
                try:
                    os.read(controller, 65536)
                except OSError:
                    break
        process.wait(timeout=30)
    finally:
        os.close(controller)
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    repeat = parser.parse_args().repeat
    bare = best_time([sys.executable, "-c", "pass"], 5)[0]
    textual = best_time([sys.executable, "-c", "import textual.app, textual.widgets"], 5)[0]
    print(f"python -c pass: {bare * 1000:.0f} ms; importing Textual: {(textual - bare) * 1000:.0f} ms more")
    cases = [("demo", "demo", "import_orders", 1.5)] + [
        (f"{LARGE:,} records {suffix}", str(data_file(LARGE, suffix)), "task_0", 2.5)
        for suffix in (".csv", ".db")
    ]
    for label, spec, shows, goal in cases:
        best = min(first_screen(spec, shows) for _ in range(repeat))
        verdict = "ok" if best <= goal else "OVER"
        print(f"  first screen, {label:<24} {best:6.2f} s (goal {goal} s)  {verdict}")


if __name__ == "__main__":
    main()
