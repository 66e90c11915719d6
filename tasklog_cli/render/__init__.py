"""Every output format in one registry and one dispatch; Rich is imported only by the table format.

To add a format, write one class (see render/machine.py) and list it in FORMATS.
"""

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from tasklog_cli.errors import UsageError, check_names
from tasklog_cli.render.display import Display, Output, OutputFormat, Row
from tasklog_cli.render.follow_lines import LineStream
from tasklog_cli.render.machine import Csv, Json, JsonLines, Plain, Tsv
from tasklog_cli.render.table import Table, resolve_aliases
from tasklog_cli.render.timeline import write_timeline
from tasklog_cli.results import Timeline

__all__ = [
    "FORMATS",
    "Display",
    "Output",
    "Row",
    "choose_format",
    "follow_stream",
    "render",
    "render_facts",
    "render_timeline",
    "resolve_aliases",
]

FORMATS: dict[str, type[OutputFormat]] = {
    kind.name: kind for kind in (Table, Plain, Tsv, Csv, Json, JsonLines)
}
HUMAN_FORMATS = frozenset({Table.name, Plain.name})  # the formats a timeline is drawn in for people


def choose_format(requested: str | None, display: Display) -> str:
    """The format asked for (checked), else `table` on a terminal and `plain` in a pipe."""
    if requested is None:
        return Table.name if display.is_terminal else Plain.name
    name = requested.lower()
    if name not in FORMATS:
        raise UsageError(f"unknown format {requested!r}: use {', '.join(FORMATS)}")
    return name


def choose_columns(
    requested: str | None, fmt: str, default: Sequence[str], available: Sequence[str]
) -> list[str]:
    """The columns to print: `--fields` (names, the table's short headers, or `all`), else the format's
    default (every column for json/jsonl)."""
    if requested is None:
        return list(available if FORMATS[fmt].every_column else default)
    if requested.strip() == "all":
        return list(available)
    names = resolve_aliases([name.strip() for name in requested.split(",") if name.strip()], available)
    if not names:
        raise UsageError(f"--fields names no field: use A,B or 'all' (fields: {', '.join(available)})")
    check_names(names, available, "--fields")
    return names


class BatchedWriter:
    """Collects small writes and passes them on in batches (stdout may be unbuffered: PYTHONUNBUFFERED)."""

    def __init__(self, out: Output, batch: int = 256) -> None:
        self.out = out
        self.batch = batch
        self.parts: list[str] = []
        self.sent = False

    def write(self, text: str) -> None:
        self.parts.append(text)
        if len(self.parts) >= self.batch:
            self.flush()

    def flush(self) -> None:
        if self.parts:
            self.out.write("".join(self.parts))
            self.parts.clear()
            self.sent = True
        self.out.flush()


class FlushingWriter:
    """Passes every write on at once: a followed record shows up as soon as it is written."""

    def __init__(self, out: Output) -> None:
        self.out = out

    def write(self, text: str) -> None:
        self.out.write(text)
        self.out.flush()


def render(rows: Iterable[Row], columns: Sequence[str], fmt: str, display: Display) -> int:
    """Write rows in a format; machine formats stream in small batches. Returns how many rows were written."""
    out = BatchedWriter(display.stdout)
    try:
        stream = FORMATS[fmt](columns, out, display)
        for row in rows:
            stream.write(row)
        stream.close()
    except BaseException:
        if not out.sent:
            out.parts.clear()  # an error before anything went out leaves stdout empty
        raise
    finally:
        out.flush()
    return stream.count


def render_facts(facts: Mapping[str, Any], fmt: str, display: Display) -> None:
    """Write key/value facts (as `info` reports them) in a format."""
    FORMATS[fmt].write_facts(facts, display.stdout, display)


def render_timeline(timelines: Sequence[Timeline], fmt: str, display: Display, *, full: bool) -> int:
    """The human timeline (table: styled, plain: text); returns how many runs it shows."""
    return write_timeline(timelines, display, styled=fmt == Table.name, full=full)


def follow_stream(
    columns: Sequence[str], fmt: str, display: Display, sample: Sequence[Row]
) -> LineStream | OutputFormat:
    """Where `tail -f` writes: table lines for people, else a machine format flushed per record."""
    if fmt == Table.name:
        return LineStream(columns, display, sample)
    return FORMATS[fmt](columns, FlushingWriter(display.stdout), display)
