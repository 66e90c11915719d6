"""`tasklog ui` as a user runs it: in a real pseudo-terminal, quitting with q and Ctrl-C; Textual loads
only for `ui`; without a terminal it is one error line."""

import contextlib
import fcntl
import os
import pty
import select
import struct
import subprocess
import sys
import termios
import time

import pytest
from conftest import ROCKETRY, assert_one_error_line, run_cli

DEADLINE = 60.0  # seconds a step may take on a loaded machine before the test gives up


class Terminal:
    """A tasklog process on a pty of a given size: what it drew so far, keys to send, its exit code."""

    def __init__(self, *args: str, columns: int = 80, lines: int = 24) -> None:
        self.controller, terminal = pty.openpty()
        fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", lines, columns, 0, 0))
        environment = {key: value for key, value in os.environ.items() if key not in ("COLUMNS", "LINES")}
        environment.update({"TERM": "xterm-256color", "TZ": "UTC"})
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tasklog_cli", *args],
            stdin=terminal, stdout=terminal, stderr=terminal, env=environment, start_new_session=True,
        )  # fmt: skip
        os.close(terminal)
        self.output = b""

    def read_until(self, text: str) -> None:
        """Read what the app draws until `text` shows up."""
        ends = time.monotonic() + DEADLINE
        while text.encode() not in self.output:
            assert time.monotonic() < ends, f"{text!r} never appeared: {self.output[-2000:]!r}"
            ready, _, _ = select.select([self.controller], [], [], 0.2)
            if ready:
                try:
                    self.output += os.read(self.controller, 65536)
                except OSError:
                    break

    def send(self, keys: bytes) -> None:
        os.write(self.controller, keys)

    def exit_code(self) -> int:
        """Wait for the process to end (draining what it writes), then close the pty."""
        ends = time.monotonic() + DEADLINE
        while self.process.poll() is None and time.monotonic() < ends:
            ready, _, _ = select.select([self.controller], [], [], 0.2)
            if ready:
                with contextlib.suppress(OSError):
                    self.output += os.read(self.controller, 65536)
        code = self.process.wait(timeout=5)
        os.close(self.controller)
        return code


@pytest.mark.parametrize("key", [b"q", b"\x03"], ids=["q", "ctrl-c"])
def test_the_dashboard_runs_in_a_real_terminal_and_quits_with_exit_0(key: bytes) -> None:
    terminal = Terminal("ui", "-r", "demo")
    terminal.read_until("import_orders")
    terminal.send(b"\r")  # the worst task's runs
    terminal.read_until("runs of import_orders")
    terminal.send(key)
    assert terminal.exit_code() == 0
    assert b"Traceback" not in terminal.output
    assert (
        terminal.output.endswith(b"\x1b[?1049l") or b"\x1b[?1049l" in terminal.output[-400:]
    )  # screen given back


def test_other_commands_never_import_textual() -> None:
    program = (
        "import sys\n"
        "from tasklog_cli.cli import run\n"
        "from tasklog_cli.environment import Environment\n"
        "import io\n"
        "for args in (['--help'], ['ls', '-r', 'demo', '-n', '2'], ['tasks', '-r', 'demo'], ['ui', '--help']):\n"
        "    env = Environment(io.StringIO(), io.StringIO(), io.StringIO(), False, 80)\n"
        "    run(args, env)\n"
        "print(sorted(name for name in sys.modules if name.split('.')[0] == 'textual'))\n"
    )
    out = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, check=True)
    assert out.stdout.splitlines()[-1] == "[]", out.stderr


def test_without_a_terminal_ui_is_one_error_line_and_exit_2() -> None:
    result = run_cli("ui", "-r", str(ROCKETRY / "task_run.csv"), expect=2)
    assert_one_error_line(result, "ui needs a terminal")
    assert_one_error_line(run_cli("ui", "-r", "-", expect=2), "other than standard input")


def test_a_missing_store_or_a_bad_filter_fails_before_the_screen_opens(tmp_path: object) -> None:
    assert_one_error_line(run_cli("ui", "-r", "/nonexistent/logs.csv", expect=3), "/nonexistent/logs.csv")
    terminal = Terminal("ui", "-r", "demo", "-w", "nope = 1")
    assert terminal.exit_code() == 2
    assert b"tasklog: error: " in terminal.output and b"nope" in terminal.output
    assert b"\x1b[?1049h" not in terminal.output  # the screen never switched
