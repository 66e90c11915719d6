"""The time chart: runs as bars on a time axis, one lane per task (more where its runs overlap)."""

import math
from collections.abc import Sequence
from dataclasses import dataclass

from rich.text import Text

from tasklog_cli.render.safe import visible
from tasklog_cli.render.text import OUTCOME_STYLES
from tasklog_cli.results import Run
from tasklog_cli.times import Zone, in_zone, utc_from_epoch

# Tick steps in seconds, from a second to a week: the smallest that leaves room for a label is used.
TICK_STEPS = (1, 5, 10, 30, 60, 300, 600, 900, 1800, 3600, 3 * 3600, 6 * 3600, 12 * 3600, 86400, 7 * 86400)
LABEL_ROOM = 12
BAR, RETRY_BAR, CRASH, POINT = "█", "▓", "✕", "▏"
MIN_SPAN = 1.0
LEGEND_ENTRIES = (
    (BAR, "green", "success"), (BAR, "red", "fail"), (RETRY_BAR, "red", "retry"), (CRASH, "red", "crash"),
    (BAR, "yellow", "terminate"), (BAR, "cyan", "running"), (POINT, "", "brief"),
)  # fmt: skip
LEGEND = Text("  ").join(Text.assemble((glyph, style), f" {name}") for glyph, style, name in LEGEND_ENTRIES)
CHART_FOOT = 3  # the axis rule, its labels and the legend


@dataclass(frozen=True)
class Window:
    """The stretch of time the chart shows, in epoch seconds."""

    start: float
    end: float

    @property
    def span(self) -> float:
        """How long the window is."""
        return self.end - self.start

    def zoomed(self, factor: float) -> "Window":
        """The window `factor` times as long, around the same middle (never under a second)."""
        middle, half = (self.start + self.end) / 2, max(self.span * factor, MIN_SPAN) / 2
        return Window(middle - half, middle + half)

    def shifted(self, fraction: float) -> "Window":
        """The window moved by a fraction of its length (negative: back in time)."""
        step = self.span * fraction
        return Window(self.start + step, self.end + step)


def run_interval(run: Run, now: float) -> tuple[float, float]:
    """When a run began and ended on the chart: a running run reaches now, one without an end is a point."""
    start = run.start or run.end
    begin = start.timestamp() if start is not None else now
    if run.end is not None:
        return begin, run.end.timestamp()
    return begin, max(begin, now) if run.outcome == "running" else begin


def whole_window(runs: Sequence[Run], now: float) -> Window:
    """A window that holds every run, with a little room on both sides."""
    intervals = [run_interval(run, now) for run in runs]
    if not intervals:
        return Window(now - 3600, now)
    start, end = min(i[0] for i in intervals), max(i[1] for i in intervals)
    margin = max((end - start) * 0.02, MIN_SPAN)
    return Window(start - margin, end + margin)


def lanes(runs: Sequence[Run], now: float) -> list[tuple[str, list[Run]]]:
    """Runs in lanes: per task (by name) as few lanes as hold its runs without overlap, first fit by start."""
    by_task: dict[str, list[Run]] = {}
    for run in sorted(runs, key=lambda item: run_interval(item, now)):
        by_task.setdefault(run.task_name, []).append(run)
    laid: list[tuple[str, list[Run]]] = []
    for task_name in sorted(by_task):
        task_lanes: list[list[Run]] = []
        lane_ends: list[float] = []
        for run in by_task[task_name]:
            begin, end = run_interval(run, now)
            free = next((position for position, last in enumerate(lane_ends) if last <= begin), None)
            if free is None:
                task_lanes.append([])
                lane_ends.append(end)
                free = len(task_lanes) - 1
            task_lanes[free].append(run)
            lane_ends[free] = end
        laid.extend((task_name if position == 0 else "", lane) for position, lane in enumerate(task_lanes))
    return laid


def _column(moment: float, window: Window, width: int) -> float:
    return (moment - window.start) / window.span * width


def draw_lane(lane: Sequence[Run], window: Window, width: int, now: float) -> Text:
    """One lane's bars across `width` cells: colour by outcome, retries shaded, crashes as a cross."""
    cells: list[tuple[str, str]] = [(" ", "")] * width
    for run in lane:
        begin, end = run_interval(run, now)
        if end < window.start or begin > window.end:
            continue
        first = max(0, math.floor(_column(begin, window, width)))
        last = min(width, max(first + 1, math.ceil(_column(end, window, width))))
        style = OUTCOME_STYLES.get(run.outcome, "")
        if run.end is None and run.outcome != "running":
            glyph = CRASH
        elif last - first == 1 and end - begin < window.span / width / 2:
            glyph = POINT
        else:
            glyph = RETRY_BAR if run.attempt > 1 else BAR
        for position in range(first, last):
            cells[position] = (glyph, style)
    return Text.assemble(*cells)


def tick_step(window: Window, width: int) -> int:
    """The tick step that leaves LABEL_ROOM cells per label."""
    wanted = window.span * LABEL_ROOM / max(width, 1)
    return next((step for step in TICK_STEPS if step >= wanted), TICK_STEPS[-1])


def axis(window: Window, width: int, zone: Zone) -> tuple[Text, Text]:
    """The axis under the lanes: a rule with ticks, and the local times of the ticks under it."""
    step = tick_step(window, width)
    offset = in_zone(utc_from_epoch(window.start), zone).utcoffset()
    shift = offset.total_seconds() if offset is not None else 0.0
    pattern = "%H:%M:%S" if step < 60 else "%H:%M" if step < 86400 else "%m-%d"
    rule, labels = ["─"] * width, [" "] * width
    tick = math.ceil((window.start + shift) / step) * step - shift
    while tick <= window.end:
        column = math.floor(_column(tick, window, width))
        if 0 <= column < width:
            rule[column] = "┴"
            label = in_zone(utc_from_epoch(tick), zone).strftime(pattern)
            free = labels[max(column - 1, 0) : column + len(label)]
            if column + len(label) <= width and all(cell == " " for cell in free):
                labels[column : column + len(label)] = label
        tick += step
    return Text("".join(rule), style="dim"), Text("".join(labels), style="dim")


def draw_chart(runs: Sequence[Run], window: Window, width: int, zone: Zone, now: float) -> list[Text]:
    """The chart as lines: a label and a lane of bars per line, then the axis."""
    laid = lanes(runs, now)
    label_width = min(max((len(name) for name, _ in laid), default=4) + 1, max(width // 4, 8), 28)
    room = max(width - label_width, 1)
    lines = []
    for name, lane in laid:
        label = Text(visible(name)[: label_width - 1].ljust(label_width), style="bold")
        lines.append(Text.assemble(label, draw_lane(lane, window, room, now)))
    rule, labels = axis(window, room, zone)
    pad = " " * label_width
    lines += [Text.assemble(pad, rule), Text.assemble(pad, labels), LEGEND]
    return lines
