"""The process's streams, terminal, variables and clock, read once, so commands never read `sys` or `os`."""

import os
import shutil
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TextIO


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Environment:
    """What a command may know of the world it runs in; tests build one to run commands in-process."""

    stdout: TextIO
    stderr: TextIO
    stdin: TextIO
    is_terminal: bool
    columns: int | None
    rows: int | None = None
    variables: Mapping[str, str] = field(default_factory=dict)
    clock: Callable[[], datetime] = _now
    sleep: Callable[[float], None] = time.sleep

    @classmethod
    def of_process(cls) -> "Environment":
        """This process's environment."""
        is_terminal = sys.stdout.isatty()
        columns = os.environ.get("COLUMNS", "")
        size = shutil.get_terminal_size()
        width = size.columns if is_terminal else int(columns) if columns.isdigit() else None
        rows = size.lines if is_terminal else None
        return cls(sys.stdout, sys.stderr, sys.stdin, is_terminal, width, rows, dict(os.environ))

    def color(self, choice: str) -> bool:
        """Whether tables are coloured: always, never, or (auto) on a terminal or under FORCE_COLOR,
        unless NO_COLOR."""
        if choice == "auto":
            return not self.variables.get("NO_COLOR") and (
                self.is_terminal or bool(self.variables.get("FORCE_COLOR"))
            )
        return choice == "always"
