"""Tables for people, drawn with Rich (imported here only): columns that fit the width, coloured cells."""

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from tasklog_cli.render.display import Display, OutputFormat, Row, Writer
from tasklog_cli.render.text import OUTCOME_STYLES, human_time, human_value, sparkline
from tasklog_cli.times import Zone

STYLED_COLUMNS = frozenset({"action", "outcome", "last_outcome", "streak"})
PERCENT_COLUMNS = frozenset({"success_rate"})
FLEXIBLE_COLUMNS = frozenset({"message", "exc_text", "msg", "formatted_message", "error", "pathname"})
ID_COLUMNS = frozenset({"run_id", "id", "task_id"})
TIME_COLUMNS = frozenset({"created", "start", "end", "last_start", "bucket"})
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


def console(display: Display) -> Any:
    """A Rich console writing to the display's stream, as wide as it is, coloured if it may be."""
    from rich.console import Console

    return Console(
        file=display.stdout,
        width=display.width or (None if display.is_terminal else 100_000),
        color_system="auto" if display.color else None,
        force_terminal=display.color or display.is_terminal,
        highlight=False,
        soft_wrap=False,
    )


def cell(name: str, value: Any, zone: Zone, width: int | None = None) -> Any:
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
    return Text(human_value(value, zone, name), style=style)


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


class Table(OutputFormat):
    """A Rich table that fits the width: long text columns give way first and are cut with `…`."""

    name = "table"

    def __init__(self, columns: Sequence[str], out: Writer, display: Display) -> None:
        super().__init__(columns, out, display)
        self.values: list[list[Any]] = []

    def write(self, row: Row) -> None:
        """Take one row (the table is drawn when it closes, as wide as its cells need)."""
        self.values.append([row.get(name) for name in self.columns])
        self.count += 1

    def close(self) -> None:
        """Draw the table."""
        from rich import box
        from rich.table import Table as RichTable

        if not self.values:
            return
        out = console(self.display)
        zone = self.display.zone
        headers = [TABLE_HEADERS.get(name, name) for name in self.columns]
        natural = [
            max(len(header), *(cell(name, row[position], zone).cell_len for row in self.values))
            for position, (name, header) in enumerate(zip(self.columns, headers, strict=True))
        ]
        keep, widths = fit_columns(self.columns, natural, out.width, gap=3, edges=2)
        table = RichTable(box=box.SIMPLE_HEAD, pad_edge=False, header_style="bold")
        for position, width in zip(keep, widths, strict=True):
            table.add_column(headers[position], no_wrap=True, overflow="ellipsis", width=width)
        for row in self.values:
            table.add_row(
                *(cell(self.columns[p], row[p], zone, width) for p, width in zip(keep, widths, strict=True))
            )
        out.print(table)

    @classmethod
    def write_facts(cls, facts: Mapping[str, Any], out: Writer, display: Display) -> None:
        """Key/value facts as a two-column grid."""
        from rich.table import Table as RichTable

        from tasklog_cli.render.machine import flat_text

        grid = RichTable.grid(padding=(0, 2))
        grid.add_column(style="bold")
        grid.add_column(overflow="fold")
        for key, value in facts.items():
            grid.add_row(key, flat_text(value))
        console(display).print(grid)


class LineStream:
    """`tail -f` as a table: one coloured line per record, columns as wide as the first records need."""

    def __init__(self, columns: Sequence[str], display: Display, sample: Sequence[Row]) -> None:
        self.console = console(display)
        self.zone = display.zone
        self.count = 0
        natural = [
            max(len(name), 8, *(cell(name, row.get(name), self.zone).cell_len for row in sample))
            for name in columns
        ]
        keep, widths = fit_columns(columns, natural, self.console.width, gap=2, edges=0)
        self.layout = [(columns[p], width) for p, width in zip(keep, widths, strict=True)]
        header = "  ".join(TABLE_HEADERS.get(name, name)[:width].ljust(width) for name, width in self.layout)
        self.console.print(header.rstrip(), style="bold", no_wrap=True, crop=True)

    def write(self, row: Row) -> None:
        """Print one record's line at once."""
        from rich.text import Text

        line = Text()
        for position, (name, width) in enumerate(self.layout):
            text = cell(name, row.get(name), self.zone, width)
            text.truncate(width, overflow="ellipsis", pad=position < len(self.layout) - 1)
            line.append_text(text)
            if position < len(self.layout) - 1:
                line.append("  ")
        self.console.print(line, no_wrap=True, crop=True)
        self.console.file.flush()
        self.count += 1

    def close(self) -> None:
        """Flush what is left."""
        self.console.file.flush()
