"""`tail -f` for people: one line per record as it comes, in columns that widen for longer values."""

from collections.abc import Sequence

from rich.cells import cell_len

from tasklog_cli.render.display import Display, Row
from tasklog_cli.render.layout import plan
from tasklog_cli.render.lines import Painter, Segment, cut, fit, gapped
from tasklog_cli.render.table import GAP, Column
from tasklog_cli.render.text import one_line

ERROR_ACTIONS = frozenset({"fail", "crash"})


class LineStream:
    """Prints each record at once: a column widens (while the line has room) when a longer value comes,
    the last column takes the rest of the line, and a failure's exception shows on a line under it."""

    def __init__(self, columns: Sequence[str], display: Display, sample: Sequence[Row]) -> None:
        self.display = display
        self.painter = Painter(display.color)
        self.count = 0
        self.columns = [Column(name, [row.get(name) for row in sample], display) for name in columns]
        self.texters = [column.texter() for column in self.columns]
        self.naturals = [
            max([cell_len(column.header), *(cell_len(texter(row.get(column.name))) for row in sample)])
            for column, texter in zip(self.columns, self.texters, strict=True)
        ]
        self.kept = list(range(len(self.columns)))
        self.widths: list[int] = []
        self.replan(first=True)
        last = len(self.kept) - 1
        header = [
            (fit(self.columns[p].header, width, pad=index < last), "bold")
            for index, (p, width) in enumerate(zip(self.kept, self.widths, strict=True))
        ]
        self.print(self.painter.line(gapped(header, GAP)))

    def replan(self, *, first: bool = False) -> None:
        """Widths for the columns kept, from the widest value seen of each; none narrows but the last."""
        wants = [self.columns[p].want(self.naturals[p]) for p in self.kept]
        widths = plan(wants, self.display.width, GAP)
        if first:
            self.kept = [p for p, width in zip(self.kept, widths, strict=True) if width is not None]
            wants = [self.columns[p].want(self.naturals[p]) for p in self.kept]
            widths = plan(wants, self.display.width, GAP)
        if any(width is None for width in widths):
            return  # a longer value does not fit: the columns stay as they were and it is cut
        planned = [width for width in widths if width is not None]
        if not first:
            planned[:-1] = [max(new, old) for new, old in zip(planned[:-1], self.widths[:-1], strict=True)]
        self.widths = planned
        for p, width in zip(self.kept, self.widths, strict=True):
            self.columns[p].shorten(width)
        self.texters = [column.texter() for column in self.columns]

    def write(self, row: Row) -> None:
        """Print one record's line (and its error) at once."""
        values = [row.get(column.name) for column in self.columns]
        texts = [self.texters[p](values[p]) for p in range(len(self.columns))]
        grown = False
        for p in self.kept:
            width = cell_len(texts[p])
            if width > self.naturals[p]:
                self.naturals[p] = width
                grown = True
        if grown:
            self.replan()
            texts = [self.texters[p](values[p]) for p in range(len(self.columns))]
        segments: list[Segment] = []
        used = 0
        last = len(self.kept) - 1
        for index, (p, width) in enumerate(zip(self.kept, self.widths, strict=True)):
            if index:
                segments.append((" " * GAP, ""))
                used += GAP
            room = width
            if index == last and self.display.width is not None:
                room = max(width, self.display.width - used)
            segments.extend(self.columns[p].segments(values[p], texts[p], room, last=index == last))
            used += room
        lines = [self.painter.line(segments)]
        error = one_line(str(row.get("exc_text") or ""), "exc_text")
        if error and row.get("action") in ERROR_ACTIONS:
            indent = "    "
            shown = f"↳ {error}"
            if self.display.width is not None:
                shown = cut(shown, self.display.width - len(indent))
            lines.append(self.painter.line([(indent, ""), (shown, "red")]))
        self.print("\n".join(lines))
        self.count += 1

    def print(self, text: str) -> None:
        """Write a line and flush it: a followed record shows up as soon as it is written."""
        self.display.stdout.write(text + "\n")
        self.display.stdout.flush()

    def close(self) -> None:
        """Flush what is left."""
        self.display.stdout.flush()
