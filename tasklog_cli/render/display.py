"""Where and how human output goes."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar, Protocol

from tasklog_cli.times import Zone


class Output(Protocol):
    """Where output goes: a stream, or a pager in front of one."""

    def write(self, text: str, /) -> Any: ...

    def flush(self) -> None: ...


@dataclass(frozen=True)
class Display:
    """The output stream, whether it is a terminal, its width, whether to colour, the display zone, and
    the choices of `--no-headers` (`headers`) and `--relative` (`now`: tables show times as "5m ago")."""

    stdout: Output
    is_terminal: bool
    width: int | None
    color: bool
    zone: Zone
    headers: bool = True
    now: datetime | None = None


class Row(Protocol):
    """An output row: a mapping, or a result value, read by field name."""

    def get(self, name: str, /) -> Any: ...


class Writer(Protocol):
    """Where text goes."""

    def write(self, text: str, /) -> Any: ...


class OutputFormat:
    """One `-o` format: takes rows one at a time and ends the output; facts (`info`) in one go."""

    name: ClassVar[str]
    every_column: ClassVar[bool] = False  # json and jsonl print every column unless --fields says

    def __init__(self, columns: Sequence[str], out: Writer, display: Display) -> None:
        self.columns = list(columns)
        self.out = out
        self.display = display
        self.count = 0

    def write(self, row: Row) -> None:
        """Write one row."""
        raise NotImplementedError

    def close(self) -> None:
        """End the output."""

    @classmethod
    def write_facts(cls, facts: Mapping[str, Any], out: Writer, display: Display) -> None:
        """Key/value facts, as `info` reports them."""
        raise NotImplementedError
