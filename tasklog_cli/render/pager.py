"""Output longer than the screen goes through a pager: held until it overflows a screen, then streamed."""

import contextlib
import shlex
import subprocess
from collections.abc import Mapping
from typing import IO, TextIO

from tasklog_cli.render.display import Output


def pager_command(variables: Mapping[str, str]) -> list[str]:
    """`$TASKLOG_PAGER`, else `$PAGER`, else `less`; empty (or `cat`) means no pager."""
    chosen = variables.get("TASKLOG_PAGER", variables.get("PAGER", "less"))
    try:
        words = shlex.split(chosen)
    except ValueError:
        return []
    return [] if not words or words == ["cat"] else words


class PagedOutput(Output):
    """Holds what is written until it is more than a screen (`rows` lines of `columns` cells), then
    starts the pager and streams the rest into it; short output goes straight to the terminal."""

    def __init__(
        self, terminal: TextIO, command: list[str], variables: Mapping[str, str], *, rows: int, columns: int
    ) -> None:
        self.terminal = terminal
        self.command = command
        self.variables = dict(variables)
        self.variables.setdefault("LESS", "FRSX")
        self.room = max(rows - 1, 1)
        self.columns = max(columns, 1)
        self.held: list[str] = []
        self.lines = 0
        self.pager: subprocess.Popen[str] | None = None
        self.target: IO[str] | None = None  # where text goes once the screen has overflowed

    def write(self, text: str) -> int:
        """Hold or pass on some text."""
        if self.target is not None:
            return self.target.write(text)
        self.held.append(text)
        self.lines += sum(len(line) // self.columns + 1 for line in text.split("\n")) - 1
        if self.lines > self.room:
            self.start()
        return len(text)

    def start(self) -> None:
        """Start the pager (or, when it cannot start, the terminal) and give it what was held."""
        try:
            self.pager = subprocess.Popen(
                self.command, stdin=subprocess.PIPE, stdout=self.terminal, text=True, encoding="utf-8",
                errors="replace", env=self.variables,
            )  # fmt: skip
        except OSError:
            self.target = self.terminal
        else:
            assert self.pager.stdin is not None
            self.target = self.pager.stdin
        held, self.held = "".join(self.held), []
        self.target.write(held)

    def flush(self) -> None:
        """Pass on what was written (held text stays held until the screen overflows or it closes)."""
        if self.target is not None:
            self.target.flush()

    def close(self) -> None:
        """Write what is held, or end the pager's input and wait until the user quits it."""
        if self.target is None:
            self.terminal.write("".join(self.held))
            self.held = []
            self.terminal.flush()
            self.target = self.terminal
            return
        if self.pager is None:
            self.terminal.flush()
            return
        with contextlib.suppress(BrokenPipeError):  # the user quit before the end
            self.target.close()
        while True:
            try:
                self.pager.wait()
                return
            except KeyboardInterrupt:  # Ctrl-C in the pager is for the pager (less keeps running)
                continue
