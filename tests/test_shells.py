"""Completion in real shells: install it with `tasklog completion install SHELL`, start the shell in tmux,
type, press TAB, read the screen, run the completed command."""

import csv
import os
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

BASH_COMPLETION = Path("/usr/share/bash-completion/bash_completion")
PROMPT = "READY> "
SCREEN_WAIT_SECONDS = 20.0


def missing(reason: str) -> None:
    """Skip, or fail when TASKLOG_REQUIRE_SERVICES=1 (CI installs the shells: .ci/run)."""
    if os.environ.get("TASKLOG_REQUIRE_SERVICES") == "1":
        pytest.fail(reason)
    pytest.skip(reason)


class Terminal:
    """One shell in a detached tmux session of 120x30."""

    def __init__(self, socket: str, command: list[str], env: dict[str, str], cwd: Path) -> None:
        self.tmux = ["tmux", "-L", socket]
        line = shlex.join(["env", "-i", *(f"{name}={value}" for name, value in env.items()), *command])
        subprocess.run(
            [*self.tmux, "new-session", "-d", "-x", "120", "-y", "30", "-s", "t", "-c", str(cwd), line],
            check=True,
        )

    def screen(self) -> str:
        """What the terminal shows."""
        return subprocess.run(
            [*self.tmux, "capture-pane", "-p", "-t", "t"], capture_output=True, text=True, check=True
        ).stdout

    def wait_for(self, text: str) -> str:
        """The screen once it shows `text` (a failure naming the screen if it never does)."""
        deadline = time.monotonic() + SCREEN_WAIT_SECONDS
        while text not in (screen := self.screen()):
            if time.monotonic() > deadline:
                pytest.fail(f"the screen never showed {text!r}:\n{screen}")
            time.sleep(0.1)
        return screen

    def type(self, *keys: str) -> None:
        """Send keys: literal text, or tmux key names such as Tab and Enter."""
        for key in keys:
            named = key in ("Tab", "Enter", "C-u")
            subprocess.run([*self.tmux, "send-keys", "-t", "t", *(() if named else ("-l",)), key], check=True)

    def close(self) -> None:
        subprocess.run([*self.tmux, "kill-server"], check=False, capture_output=True)


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """A HOME with a `tasklog` of this checkout on PATH and a log whose task names need quoting."""
    folder = tmp_path / "bin"
    folder.mkdir()
    program = folder / "tasklog"
    program.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m tasklog_cli "$@"\n')
    program.chmod(0o755)
    with (tmp_path / "log.csv").open("w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(["task_name", "action", "created", "run_id"])
        writer.writerows([["stuck job", "run", 1.5, "a"], ['say "hi", wörld', "fail", 2.5, "b"]])
    return tmp_path


def start_shell(shell: str, home: Path) -> Iterator[Terminal]:
    """Install completion for `shell` the documented way, then start it interactively."""
    if shutil.which("tmux") is None:
        missing("tmux is not installed")
    if shutil.which(shell) is None:
        missing(f"{shell} is not installed")
    if shell == "bash" and not BASH_COMPLETION.is_file():
        missing("bash-completion is not installed")
    env = {
        "HOME": str(home), "PATH": f"{home / 'bin'}:/usr/bin:/bin", "TERM": "xterm", "LANG": "C.UTF-8",
        "XDG_CACHE_HOME": str(home / "cache"), "XDG_CONFIG_HOME": str(home / ".config"), "SHELL": f"/bin/{shell}",
    }  # fmt: skip
    installed = subprocess.run(
        [str(home / "bin" / "tasklog"), "completion", "install"],
        env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert installed.returncode == 0, installed.stderr
    # What a first TAB's reader leaves in the cache (its time budget is tested in test_completion.py).
    warm = "from tasklog_cli.store_facts import refresh_facts as r; r('log.csv', None); r('demo', None)"
    subprocess.run([sys.executable, "-c", warm], env={**os.environ, **env}, cwd=home, check=True)
    command = [shell, "-i"]
    if shell == "bash":  # what Debian's default ~/.bashrc does, and a plain prompt
        (home / ".bashrc").write_text(f"PS1='{PROMPT}'\n. {BASH_COMPLETION}\n")
    elif shell == "zsh":
        with (home / ".zshrc").open("a") as zshrc:
            zshrc.write(f"PROMPT='{PROMPT}'\n")
    else:
        (home / ".config" / "fish" / "config.fish").write_text(
            f"set fish_greeting\nfunction fish_prompt; printf '{PROMPT}'; end\n"
        )
    terminal = Terminal(f"tasklog-{os.getpid()}-{shell}", command, env, home)
    try:
        terminal.wait_for(PROMPT.strip())  # tmux drops trailing blanks
        yield terminal
    finally:
        terminal.close()


@pytest.fixture(params=["bash", "zsh", "fish"])
def terminal(request: pytest.FixtureRequest, home: Path) -> Iterator[Terminal]:
    yield from start_shell(request.param, home)


def test_a_task_name_with_a_space_completes_to_a_command_that_runs(terminal: Terminal) -> None:
    terminal.type("tasklog ls -r log.csv -o plain -t stu", "Tab")
    terminal.wait_for("-t stuck\\ job")
    terminal.type("Enter")
    terminal.wait_for("1970-01-01T00:00:01.500000+00:00\tstuck job\trun\ta".expandtabs())


def test_a_name_with_quotes_and_a_comma_completes_and_runs(terminal: Terminal) -> None:
    terminal.type("tasklog ls -r log.csv -o plain --fields task_name,action -t sa", "Tab")
    terminal.wait_for("wörld")
    terminal.type("Enter")
    terminal.wait_for('say "hi", wörld')
    screen = terminal.wait_for("fail")
    assert "error" not in screen


def test_fields_complete_after_a_comma(terminal: Terminal) -> None:
    terminal.type("tasklog ls -r log.csv -o plain --fields created,ta", "Tab")
    terminal.wait_for("--fields created,task_name")
    terminal.type("Enter")
    terminal.wait_for("1970-01-01T00:00:02.500000+00:00")


def test_timeline_completes_task_names(terminal: Terminal) -> None:
    terminal.type("tasklog timeline -r demo imp", "Tab")
    terminal.wait_for("timeline -r demo import_orders")
