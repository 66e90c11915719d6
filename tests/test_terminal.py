"""Tables in a real pseudo-terminal of a fixed size: width, colour and the terminal-only defaults."""

import fcntl
import os
import pty
import re
import struct
import subprocess
import sys
import termios

from conftest import ROCKETRY

ANSI = re.compile(r"\x1b\[[0-9;]*m")


def run_in_terminal(*args: str, columns: int = 80, env: dict[str, str] | None = None) -> str:
    """Run tasklog with stdout on a pty of `columns` x 24 and return what it printed."""
    controller, terminal = pty.openpty()
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))
    environment = {
        key: value for key, value in os.environ.items() if key not in ("COLUMNS", "LINES", "NO_COLOR")
    }
    environment.update({"TERM": "xterm-256color", "TZ": "UTC", **(env or {})})
    process = subprocess.Popen(
        [sys.executable, "-m", "tasklog_cli", *args], stdout=terminal, stderr=subprocess.PIPE, env=environment
    )
    os.close(terminal)
    chunks = []
    while True:
        try:
            chunk = os.read(controller, 65536)
        except OSError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    process.wait(timeout=30)
    os.close(controller)
    assert process.returncode == 0, process.stderr.read() if process.stderr else ""
    return b"".join(chunks).decode("utf-8").replace("\r\n", "\n")


def test_table_is_the_default_on_a_terminal_and_fits_its_width() -> None:
    out = run_in_terminal("ls", "-r", str(ROCKETRY / "task_run.csv"), "-n", "8", columns=90)
    plain = ANSI.sub("", out)
    lines = [line for line in plain.splitlines() if line.strip()]
    assert lines[0].split() == ["created", "task_name", "action", "run_id", "message"]
    assert len(lines) == 2 + 8
    assert all(len(line) <= 90 for line in plain.splitlines())
    assert "\x1b[" in out  # coloured actions


def test_colour_can_be_refused() -> None:
    source = str(ROCKETRY / "task_run.csv")
    assert "\x1b[" not in run_in_terminal("ls", "-r", source, "-n", "3", "--color", "never")
    assert "\x1b[" not in run_in_terminal("ls", "-r", source, "-n", "3", env={"NO_COLOR": "1"})
    narrow = ANSI.sub("", run_in_terminal("ls", "-r", source, "-n", "3", columns=50))
    assert all(len(line) <= 50 for line in narrow.splitlines())
    assert "action" in narrow


def test_machine_formats_never_colour_even_on_a_terminal() -> None:
    out = run_in_terminal(
        "ls", "-r", str(ROCKETRY / "task_run.csv"), "-n", "3", "-o", "jsonl", "--color", "always"
    )
    assert "\x1b[" not in out
    assert len(out.splitlines()) == 3
