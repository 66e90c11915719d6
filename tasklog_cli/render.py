"""Every output format in one dispatch; the only module that imports Rich (lazily, for tables)."""

import csv
import json
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, TextIO

from tasklog_cli.times import Zone, human_duration, in_zone, iso_utc

OUTCOME_STYLES = {
    "success": "green",
    "fail": "red",
    "crash": "red",
    "terminate": "yellow",
    "inaction": "yellow",
    "run": "cyan",
    "running": "cyan",
}
# fastapi-taskflow statuses that say no more than the outcome; the others (cancelled, ...) are shown.
PLAIN_STATUSES = ("success", "failed")
STYLED_COLUMNS = frozenset({"action", "outcome", "last_outcome", "streak"})
PERCENT_COLUMNS = frozenset({"success_rate"})
FLEXIBLE_COLUMNS = frozenset({"message", "exc_text", "msg", "formatted_message", "error", "pathname"})
ID_COLUMNS = frozenset({"run_id", "id", "task_id"})
TIME_COLUMNS = frozenset({"created", "start", "end", "last_start", "bucket"})
_PLAIN_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


class Format(StrEnum):
    """The output formats of `-o/--format`."""

    TABLE = "table"
    PLAIN = "plain"
    TSV = "tsv"
    CSV = "csv"
    JSON = "json"
    JSONL = "jsonl"


@dataclass(frozen=True)
class Display:
    """Where and how output goes: the stream, whether it is a terminal, width, colour and zone."""

    stdout: TextIO
    is_terminal: bool
    width: int | None
    color: bool
    zone: Zone


def default_format(requested: Format | None, display: Display) -> Format:
    """The format asked for, else `table` on a terminal and `plain` in a pipe."""
    if requested is not None:
        return requested
    return Format.TABLE if display.is_terminal else Format.PLAIN


def machine_value(value: Any) -> Any:
    """A value as machine formats carry it: UTC ISO times, durations in seconds."""
    if isinstance(value, datetime):
        return iso_utc(value)
    if isinstance(value, timedelta):
        return value.total_seconds()
    return value


def _text(value: Any) -> str:
    if type(value) is str:
        return value
    value = machine_value(value)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


SPARK_BLOCKS = "▁▂▃▄▅▆▇█"


def sparkline(values: Sequence[float]) -> str:
    """Values as block heights between their minimum and maximum."""
    if not values:
        return ""
    low, high = min(values), max(values)
    scale = (len(SPARK_BLOCKS) - 1) / (high - low) if high > low else 0
    return "".join(SPARK_BLOCKS[round((value - low) * scale)] for value in values)


def _cell(name: str, value: Any, zone: Zone, width: int | None = None) -> Any:
    """A table cell: coloured outcomes, percentages, sparklines, outcome strips, times as wide as fits."""
    from rich.text import Text

    if isinstance(value, datetime):
        return Text(human_time(value, zone, width))
    if name == "outcomes":
        return Text.assemble(*(("■", OUTCOME_STYLES.get(outcome, "")) for outcome in value))
    if name == "recent":
        return Text(sparkline(value), style="cyan")
    if name in PERCENT_COLUMNS and isinstance(value, float):
        return Text(f"{value:.0%}")
    style = OUTCOME_STYLES.get(str(value).split(" ")[0], "") if name in STYLED_COLUMNS else ""
    return Text(human_value(value, zone), style=style)


# Local time as a table shows it, from the fullest form to the shortest, the longest that fits is used.
TIME_FORMATS = (
    "%Y-%m-%d %H:%M:%S.%f",
    "%m-%d %H:%M:%S.%f",
    "%Y-%m-%d %H:%M:%S",
    "%m-%d %H:%M:%S",
    "%H:%M:%S",
)


def human_time(moment: datetime, zone: Zone, width: int | None = None) -> str:
    """Local time to the millisecond, shortened (year, then milliseconds, then the date) to fit `width`."""
    local = in_zone(moment, zone)
    text = ""
    for pattern in TIME_FORMATS:
        text = local.strftime(pattern)
        text = text[:-3] if pattern.endswith("%f") else text
        if width is None or len(text) <= width:
            break
    return text


def human_value(value: Any, zone: Zone) -> str:
    """A value as a table shows it: local time to the millisecond, human durations, one line."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return human_time(value, zone)
    if isinstance(value, timedelta):
        return human_duration(value.total_seconds())
    if isinstance(value, float):
        return f"{value:.6g}"
    text = str(value)
    first, newline, _ = text.strip().partition("\n")
    return first + " …" if newline else first


class BatchedWriter:
    """Collects small writes and passes them on in batches (stdout may be unbuffered: PYTHONUNBUFFERED)."""

    def __init__(self, out: TextIO, batch: int = 256) -> None:
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


def render(
    rows: Iterable[Mapping[str, Any]],
    columns: Sequence[str],
    fmt: Format,
    display: Display,
    *,
    empty_note: str = "no matching records",
) -> int:
    """Write rows in a format; machine formats stream in small batches. Returns how many rows were written."""
    if fmt is Format.TABLE:
        return _render_table(rows, columns, display, empty_note)
    out = BatchedWriter(display.stdout)
    try:
        count = _render_machine(rows, columns, fmt, out)
    except BaseException:
        if not out.sent:
            out.parts.clear()  # an error before anything went out leaves stdout empty
        raise
    finally:
        out.flush()
    return count


def _render_machine(rows: Iterable[Mapping[str, Any]], columns: Sequence[str], fmt: Format, out: Any) -> int:
    """The five machine formats: no Rich, no colour, one row at a time."""
    stream = MachineStream(fmt, columns, out)
    for row in rows:
        stream.write(row)
    stream.close()
    return stream.count


class MachineStream:
    """Rows in one machine format, one at a time: the header, the rows, the end of a JSON array."""

    def __init__(self, fmt: Format, columns: Sequence[str], out: Any) -> None:
        self.fmt = fmt
        self.out = out
        self.count = 0
        self.write_row = _row_writer(fmt, columns, out)
        if fmt in (Format.CSV, Format.TSV):
            self.write_row(dict(zip(columns, columns, strict=True)))
        if fmt is Format.JSON:
            out.write("[")

    def write(self, row: Mapping[str, Any]) -> None:
        if self.fmt is Format.JSON:
            self.out.write(",\n" if self.count else "\n")
        self.write_row(row)
        self.count += 1

    def close(self) -> None:
        if self.fmt is Format.JSON:
            self.out.write("\n]\n" if self.count else "]\n")


class LineStream:
    """`tail -f` as a table: one coloured line per record, columns as wide as the first records need."""

    def __init__(self, columns: Sequence[str], display: Display, sample: Sequence[Mapping[str, Any]]) -> None:
        self.console = _console(display)
        self.zone = display.zone
        self.count = 0
        natural = [
            max(len(name), 8, *(_cell(name, row.get(name), self.zone).cell_len for row in sample))
            for name in columns
        ]
        keep, widths = fit_columns(columns, natural, self.console.width, gap=2, edges=0)
        self.layout = [(columns[p], width) for p, width in zip(keep, widths, strict=True)]
        header = "  ".join(TABLE_HEADERS.get(name, name)[:width].ljust(width) for name, width in self.layout)
        self.console.print(header.rstrip(), style="bold", no_wrap=True, crop=True)

    def write(self, row: Mapping[str, Any]) -> None:
        from rich.text import Text

        line = Text()
        for position, (name, width) in enumerate(self.layout):
            cell = _cell(name, row.get(name), self.zone, width)
            cell.truncate(width, overflow="ellipsis", pad=position < len(self.layout) - 1)
            line.append_text(cell)
            if position < len(self.layout) - 1:
                line.append("  ")
        self.console.print(line, no_wrap=True, crop=True)
        self.console.file.flush()
        self.count += 1

    def close(self) -> None:
        self.console.file.flush()


class FlushingWriter:
    """Passes every write on at once: a followed record shows up as soon as it is written."""

    def __init__(self, out: TextIO) -> None:
        self.out = out

    def write(self, text: str) -> None:
        self.out.write(text)
        self.out.flush()


def follow_stream(
    columns: Sequence[str], fmt: Format, display: Display, sample: Sequence[Mapping[str, Any]]
) -> "MachineStream | LineStream":
    """Where `tail -f` writes: table lines for people, else a machine format flushed per record."""
    if fmt is Format.TABLE:
        return LineStream(columns, display, sample)
    return MachineStream(fmt, columns, FlushingWriter(display.stdout))


def _row_writer(fmt: Format, columns: Sequence[str], out: Any) -> Callable[[Mapping[str, Any]], None]:
    """A function writing one row in a machine format."""
    if fmt is Format.CSV:
        writer = csv.writer(out, lineterminator="\n")
        return lambda row: writer.writerow([_text(row.get(name)) for name in columns])
    if fmt in (Format.JSON, Format.JSONL):
        ending = "" if fmt is Format.JSON else "\n"
        return lambda row: out.write(_json({name: row.get(name) for name in columns}) + ending)
    return lambda row: out.write(
        "\t".join(_text(row.get(name)).translate(_PLAIN_ESCAPES) for name in columns) + "\n"
    )


def _json(row: Mapping[str, Any]) -> str:
    return json.dumps(
        {name: machine_value(value) for name, value in row.items()}, ensure_ascii=False, default=str
    )


def _console(display: Display) -> Any:
    from rich.console import Console

    return Console(
        file=display.stdout,
        width=display.width or (None if display.is_terminal else 100_000),
        color_system="auto" if display.color else None,
        force_terminal=display.color or display.is_terminal,
        highlight=False,
        soft_wrap=False,
    )


# Which columns give way in turn, and how narrow each may get: long text, ids, long text again, times,
# counts and the like, and task names last.
_SHRINK_STEPS = ((0, 30), (1, 8), (0, 10), (2, 14), (3, 6), (4, 8), (2, 8))
# Shorter headers where a table is tight; machine formats keep the field names.
TABLE_HEADERS = {
    "success": "ok",
    "success_rate": "ok%",
    "terminate": "term",
    "inaction": "inact",
    "last_start": "last start",
    "last_outcome": "last",
    "last_duration": "took",
}


def fit_columns(
    names: Sequence[str], natural: Sequence[int], width: int, *, gap: int, edges: int
) -> tuple[list[int], list[int]]:
    """Which columns to show and how wide, in `width` with `gap` between columns: when even the
    narrowest layout does not fit, long text columns go, so the others stay readable."""
    tiers = [_shrink_tier(name) for name in names]
    keep = list(range(len(names)))
    while True:
        room = width - gap * (len(keep) - 1) - edges
        widths = fit_widths([natural[p] for p in keep], [tiers[p] for p in keep], room)
        narrower = [p for p in keep if tiers[p]]
        if sum(widths) <= room or not narrower or len(narrower) == len(keep):
            return keep, widths
        keep = narrower


def _shrink_tier(name: str) -> int:
    if name in FLEXIBLE_COLUMNS:
        return 0
    if name in ID_COLUMNS:
        return 1
    if name in TIME_COLUMNS:
        return 2
    return 4 if name == "task_name" else 3


def fit_widths(natural: Sequence[int], tiers: Sequence[int], room: int) -> list[int]:
    """Widths within `room`: long text gives way first, then ids, then the rest; the widest of a tier
    loses a column at a time, so columns of one tier share the loss; none vanish."""
    widths = list(natural)
    for tier, floor in _SHRINK_STEPS:
        while sum(widths) > room:
            candidates = [
                position
                for position, width in enumerate(widths)
                if tiers[position] == tier and width > min(floor, natural[position])
            ]
            if not candidates:
                break
            widths[max(candidates, key=lambda position: widths[position])] -= 1
    return widths


def _render_table(
    rows: Iterable[Mapping[str, Any]], columns: Sequence[str], display: Display, empty_note: str
) -> int:
    """A Rich table that fits the width: long text columns give way first and are cut with `…`."""
    from rich import box
    from rich.table import Table

    values = [[row.get(name) for name in columns] for row in rows]
    if not values:
        print(empty_note, file=sys.stderr)
        return 0
    console = _console(display)
    names = list(columns)
    headers = [TABLE_HEADERS.get(name, name) for name in names]
    natural = [
        max(len(header), *(_cell(name, row[position], display.zone).cell_len for row in values))
        for position, (name, header) in enumerate(zip(names, headers, strict=True))
    ]
    keep, widths = fit_columns(names, natural, console.width, gap=3, edges=2)
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, header_style="bold")
    for position, width in zip(keep, widths, strict=True):
        table.add_column(headers[position], no_wrap=True, overflow="ellipsis", width=width)
    for row in values:
        table.add_row(
            *(_cell(names[p], row[p], display.zone, width) for p, width in zip(keep, widths, strict=True))
        )
    console.print(table)
    return len(values)


def render_mapping(facts: Mapping[str, Any], fmt: Format, display: Display) -> None:
    """Write key/value facts (as `info` reports them) in a format."""
    out = display.stdout
    if fmt in (Format.JSON, Format.JSONL):
        out.write(
            json.dumps(
                facts, ensure_ascii=False, default=machine_value, indent=2 if fmt is Format.JSON else None
            )
        )
        out.write("\n")
        return
    flat = {key: _flat(value, fmt) for key, value in facts.items()}
    if fmt is Format.TABLE:
        from rich.table import Table

        grid = Table.grid(padding=(0, 2))
        grid.add_column(style="bold")
        grid.add_column(overflow="fold")
        for key, value in flat.items():
            grid.add_row(key, value)
        _console(display).print(grid)
        return
    if fmt is Format.CSV:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["key", "value"])
        writer.writerows(flat.items())
        return
    if fmt is Format.TSV:
        out.write("key\tvalue\n")
    for key, value in flat.items():
        out.write(f"{key}\t{value.translate(_PLAIN_ESCAPES)}\n")


def _flat(value: Any, fmt: Format) -> str:
    """One line of text for a fact: lists joined, nested mappings as `key=value`."""
    if isinstance(value, Mapping):
        return ", ".join(f"{key}={_flat(item, fmt)}" for key, item in value.items())
    if isinstance(value, list | tuple):
        return ", ".join(_flat(item, fmt) for item in value)
    return _text(value)


@dataclass(frozen=True)
class TimelineRun:
    """One run as the human timeline shows it: its number in its task's history and what happened."""

    number: int
    attempt: int
    start: datetime | None
    outcome: str
    duration: timedelta | None
    run_id: str | None
    records: Sequence[Mapping[str, Any]]
    status: str | None = None


def render_timeline(
    tasks: Sequence[tuple[str, int, Sequence[TimelineRun]]], fmt: Format, display: Display, *, full: bool
) -> int:
    """The human timeline: per task a heading, per run a header line, its records, and retry separators."""
    from rich.text import Text

    lines: list[Text] = []
    shown = 0
    for task_name, total, runs in tasks:
        if lines:
            lines.append(Text(""))
        lines.append(Text.assemble((task_name, "bold"), f"  {len(runs)} of {total} runs"))
        previous: TimelineRun | None = None
        for run in runs:
            # A store that logs attempts within its runs (fastapi-taskflow) retries inside a run, not across.
            logged = any(isinstance(record.get("attempt"), int) for record in run.records)
            if previous is not None and run.attempt == previous.attempt + 1 and not logged:
                lines.append(Text(f"  --- Retry {run.attempt - 1} ---", style="yellow"))
            lines.append(_run_header(run, display.zone))
            lines.extend(_record_lines(run, display.zone, full=full))
            previous = run
            shown += 1
    if fmt is Format.TABLE:
        console = _console(display)
        for line in lines:
            console.print(line, overflow="ellipsis", no_wrap=not full, crop=not full)
    else:
        display.stdout.write("".join(line.plain + "\n" for line in lines))
    return shown


def _run_header(run: TimelineRun, zone: Zone) -> Any:
    from rich.text import Text

    return Text.assemble(
        "  ",
        (human_value(run.start, zone) if run.start is not None else "(start unknown)".ljust(23), "bold"),
        "  ",
        (run.outcome, OUTCOME_STYLES.get(run.outcome, "")),
        (f" ({run.status})" if run.status not in (None, *PLAIN_STATUSES) else "").ljust(9 - len(run.outcome)),
        f"  {human_value(run.duration, zone) or '-':>8}",
        f"  attempt {run.attempt}",
        f"  run #{run.number}",
        f"  id {run.run_id}" if run.run_id else "",
    )


def _record_lines(run: TimelineRun, zone: Zone, *, full: bool) -> list[Any]:
    from rich.text import Text

    lines = []
    attempt = None
    for record in run.records:
        if isinstance(record.get("attempt"), int):
            if attempt is not None and record["attempt"] != attempt:
                # Every separator between the two attempts: an attempt may have logged nothing.
                retries = range(min(attempt, record["attempt"] - 1), record["attempt"])
                lines.extend(Text(f"      --- Retry {retry} ---", style="yellow") for retry in retries)
            attempt = record["attempt"]
        clock = human_value(record["created"], zone)[11:]
        action = str(record.get("action", ""))
        message, *more = str(record.get("message") or "").splitlines() or [""]
        lines.append(
            Text.assemble(
                f"      {clock}  ",
                (action.ljust(9), OUTCOME_STYLES.get(action, "")),
                f"  {message}{' …' if more and not full else ''}",
            )
        )
        if full:
            lines.extend(Text(" " * 29 + line) for line in more)
        trace = str(record.get("exc_text") or "").rstrip()
        if trace:
            shown = trace.splitlines() if full else trace.splitlines()[-1:]
            lines.extend(Text(" " * 29 + line, style="red") for line in shown)
    return lines
