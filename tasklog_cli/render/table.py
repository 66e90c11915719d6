"""Tables for people: columns planned from the first rows to fit the width, then streamed line by line."""

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from tasklog_cli.render.display import Display, OutputFormat, Row, Writer
from tasklog_cli.render.layout import NUMBER_COLUMNS, TIME_COLUMNS, Want, plan, want
from tasklog_cli.render.lines import Painter, Segment, cut, cut_left, fit, gapped
from tasklog_cli.render.safe import visible
from tasklog_cli.render.text import (
    OUTCOME_STYLES,
    SHORTER_PRECISION,
    human_value,
    precision_of,
    relative_text,
    sparkline,
    time_text,
    zone_label,
)

STYLED_COLUMNS = frozenset({"action", "outcome", "last_outcome", "streak"})
PERCENT_COLUMNS = frozenset({"success_rate"})
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
# The short headers also name their fields in --fields.
FIELD_ALIASES = {header: name for name, header in TABLE_HEADERS.items() if " " not in header}
SAMPLE_ROWS = 500  # rows a table reads before it plans its columns and starts printing
GAP = 2
TIME_WIDTHS = {"ms": 23, "s": 19, "min": 16, "day": 10}


def resolve_aliases(names: Iterable[str], available: Sequence[str]) -> list[str]:
    """Field names with the table's short headers (`ok`, `took`) read as the fields they head."""
    return [FIELD_ALIASES.get(name, name) if name not in available else name for name in names]


Texter = Callable[[Any], str]


class Column:
    """One column of a table: how its values read, its header, whether it aligns right, its style."""

    def __init__(self, name: str, sample: Sequence[Any], display: Display) -> None:
        self.name = name
        self.right = name in NUMBER_COLUMNS
        self.precision = ""
        moments = [value for value in sample if isinstance(value, datetime)]
        header = TABLE_HEADERS.get(name, name)
        if name in TIME_COLUMNS and moments and not (display.now and name != "bucket"):
            self.precision = _bucket_precision(moments) if name == "bucket" else precision_of(moments)
            if name not in ("created", "bucket"):
                self.precision = "s"  # runs and statistics: milliseconds are noise
            label = zone_label(moments, display.zone)
            header = f"{header} ({label})" if label else header
        self.header = header
        self.display = display

    def texter(self) -> Texter:
        """The function that turns one of this column's values into its (uncut) text."""
        zone, name = self.display.zone, self.name
        if self.precision:
            precision = self.precision
            return lambda value: time_text(value, zone, precision) if isinstance(value, datetime) else ""
        now = self.display.now
        if now is not None and name in TIME_COLUMNS:
            return lambda value: relative_text(value, now) if isinstance(value, datetime) else ""
        if name in PERCENT_COLUMNS:
            return lambda value: (
                f"{value:.0%}" if isinstance(value, float) else human_value(value, zone, name)
            )
        if name == "recent":
            return lambda value: sparkline(value or ())
        if name == "outcomes":
            return lambda value: "■" * len(value or ())
        return lambda value: human_value(value, zone, name)

    def want(self, natural: int) -> Want:
        """What this column wants, given the width of its widest text."""
        from rich.cells import cell_len

        return want(
            self.name, TIME_WIDTHS[self.precision] if self.precision else natural, cell_len(self.header)
        )

    def shorten(self, width: int) -> None:
        """Show times to a lesser precision until they fit `width` (never below minutes)."""
        while self.precision in SHORTER_PRECISION and TIME_WIDTHS[self.precision] > width:
            self.precision = SHORTER_PRECISION[self.precision]

    def segments(self, value: Any, text: str, width: int, *, last: bool) -> list[Segment]:
        """The cell as styled segments exactly `width` cells wide (the last column unpadded)."""
        if self.name == "outcomes":
            latest = list(value or ())[-width:] if width > 0 else []
            return [("■", OUTCOME_STYLES.get(outcome, "")) for outcome in latest]
        if self.name == "recent":
            return [(cut_left(text, width), "cyan")]
        shown = fit(text, width, right=self.right, pad=not last or self.right)
        if self.name in STYLED_COLUMNS and value is not None:
            return [(shown, OUTCOME_STYLES.get(str(value).split(" ")[0], ""))]
        return [(shown, "")]


def _bucket_precision(moments: Sequence[datetime]) -> str:
    return "min" if any(moment.hour or moment.minute for moment in moments) else "day"


class Table(OutputFormat):
    """A table that fits the width: the first rows decide the columns, the rest stream through them;
    numbers are never cut, text gives way with `…`, and whole columns go when even that is not enough."""

    name = "table"

    def __init__(self, columns: Sequence[str], out: Writer, display: Display) -> None:
        super().__init__(columns, out, display)
        self.sample: list[list[Any]] = []
        self.layout: list[tuple[int, Column, Texter, int]] | None = None
        self.painter = Painter(display.color)

    def write(self, row: Row) -> None:
        """Take one row: held until the columns are planned, then printed at once."""
        values = [row.get(name) for name in self.columns]
        self.count += 1
        if self.layout is None:
            self.sample.append(values)
            if len(self.sample) >= SAMPLE_ROWS:
                self.start()
        else:
            self.out.write(self.line(values) + "\n")

    def close(self) -> None:
        """Print what is held."""
        if self.layout is None and self.sample:
            self.start()

    def start(self) -> None:
        """Plan the columns from the rows held, print the header and those rows."""
        from rich.cells import cell_len

        planned = [
            Column(name, [row[position] for row in self.sample], self.display)
            for position, name in enumerate(self.columns)
        ]
        texters = [column.texter() for column in planned]
        wants = [
            column.want(max((cell_len(texter(row[position])) for row in self.sample), default=0))
            for position, (column, texter) in enumerate(zip(planned, texters, strict=True))
        ]
        widths = plan(wants, self.display.width, GAP)
        layout = []
        for position, (column, width) in enumerate(zip(planned, widths, strict=True)):
            if width is not None:
                column.shorten(width)
                layout.append((position, column, column.texter(), width))
        self.layout = layout
        self.out.write(self.header_lines())
        for values in self.sample:
            self.out.write(self.line(values) + "\n")
        self.sample = []

    def header_lines(self) -> str:
        """The header line (bold) and a rule under each column."""
        assert self.layout is not None
        last = len(self.layout) - 1
        names = [
            (fit(column.header, width, right=column.right, pad=index < last or column.right), "bold")
            for index, (_, column, _, width) in enumerate(self.layout)
        ]
        rules = [("─" * width, "") for _, _, _, width in self.layout]
        return self.painter.line(gapped(names, GAP)) + "\n" + self.painter.line(gapped(rules, GAP)) + "\n"

    def line(self, values: Sequence[Any]) -> str:
        """One row's line."""
        assert self.layout is not None
        segments: list[Segment] = []
        last = len(self.layout) - 1
        for index, (position, column, texter, width) in enumerate(self.layout):
            if index:
                segments.append((" " * GAP, ""))
            value = values[position]
            segments.extend(column.segments(value, texter(value), width, last=index == last))
        return self.painter.line(segments)

    @classmethod
    def write_facts(cls, facts: Mapping[str, Any], out: Writer, display: Display) -> None:
        """Key/value facts as two columns, long values wrapped, a mapping's items one per line."""
        import textwrap

        painter = Painter(display.color)
        key_width = max((len(key) for key in facts), default=0)
        room = max(20, (display.width or 100_000) - key_width - GAP)
        for key, value in facts.items():
            lines = []
            for item in _fact_lines(value, display):
                lines.extend(textwrap.wrap(item, room, break_on_hyphens=False) or [""])
            for number, text in enumerate(lines or [""]):
                label = (key if number == 0 else "").ljust(key_width)
                out.write(painter.line([(label, "bold"), (" " * GAP, ""), (cut(text, room), "")]) + "\n")


def _fact_lines(value: Any, display: Display) -> list[str]:
    if isinstance(value, Mapping):
        width = max((len(visible(str(name))) for name in value), default=0)
        return [f"{visible(str(name)).ljust(width)}  {item}" for name, item in value.items()]
    if isinstance(value, datetime):
        return [f"{time_text(value, display.zone, 'ms')} {zone_label([value], display.zone)}"]
    if isinstance(value, list | tuple):
        from tasklog_cli.render.machine import flat_text

        return [visible(flat_text(value))]
    return [human_value(value, display.zone)]
