"""The time chart view: runs as bars on a time axis, zoomed and scrolled in time."""

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.widget import Widget

from tasklog_cli.results import Run
from tasklog_cli.times import human_duration, iso_utc
from tasklog_cli.ui.chart import CHART_FOOT, Window, draw_chart, lanes, whole_window
from tasklog_cli.ui.query_text import cli_command
from tasklog_cli.ui.view import View, run_filter_words

if TYPE_CHECKING:
    from tasklog_cli.ui.app import Dashboard


class ChartCanvas(Widget):
    """The time chart, drawn as wide as the widget is."""

    DEFAULT_CSS = "ChartCanvas { height: auto; }"

    def __init__(self) -> None:
        super().__init__()
        self.runs: list[Run] = []
        self.window = Window(0.0, 1.0)

    @property
    def dashboard(self) -> "Dashboard":
        return self.app  # type: ignore[return-value]

    def render(self) -> Text:
        board = self.dashboard
        if not self.runs:
            return Text("no runs in this range", style="dim")
        lines = draw_chart(self.runs, self.window, self.size.width, board.zone, board.clock().timestamp())
        return Text("\n").join(lines)

    def get_content_height(self, container: Any, viewport: Any, width: int) -> int:
        return len(lanes(self.runs, self.dashboard.clock().timestamp())) + CHART_FOOT if self.runs else 1


class ChartView(View):
    """Runs as bars on a time axis (all tasks, or one): overlaps, gaps, long runs and retries at a glance."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("plus,equals_sign", "zoom(0.5)", "Zoom in", key_display="+", priority=True),
        Binding("minus", "zoom(2)", "Zoom out", key_display="-", priority=True),
        Binding("left", "shift(-0.25)", "Earlier", key_display="←", priority=True),
        Binding("right", "shift(0.25)", "Later", key_display="→", priority=True),
        Binding("home", "whole", "All", show=False),
        Binding("end", "latest", "Latest", show=False),
    ]

    def __init__(self, task: str | None) -> None:
        super().__init__()
        self.task_name = task
        self.heading = "chart of " + (task or "all tasks")
        self.window: Window | None = None
        self.at_latest = True  # the window's end follows the latest run as the store grows

    def body(self) -> Iterable[Widget]:
        with VerticalScroll(id="chart-scroll"):
            yield ChartCanvas()

    def concerns(self, names: frozenset[str]) -> bool:
        return self.task_name is None or self.task_name in names

    def fetch(self) -> list[Run]:
        return self.dashboard.store.runs(self.dashboard.view, self.task_name)

    def show(self, data: list[Run]) -> None:
        canvas = self.query_one(ChartCanvas)
        canvas.runs = data
        whole = whole_window(data, self.dashboard.clock().timestamp())
        if self.window is None:
            self.window = whole
        elif self.at_latest:
            self.window = Window(whole.end - self.window.span, whole.end)
        self.draw()

    def draw(self) -> None:
        canvas = self.query_one(ChartCanvas)
        if self.window is not None:
            canvas.window = self.window
            span = human_span(self.window.span)
            self.show_title(f" · {span} · {len(canvas.runs)} runs")
        canvas.refresh(layout=True)

    def action_zoom(self, factor: float) -> None:
        if self.window is not None:
            zoomed = self.window.zoomed(factor)
            end = self.window.end  # at the latest runs, zoom keeps the end where it is
            self.window = Window(end - zoomed.span, end) if self.at_latest else zoomed
            self.draw()

    def action_shift(self, fraction: float) -> None:
        if self.window is not None:
            self.window = self.window.shifted(fraction)
            latest = whole_window(self.query_one(ChartCanvas).runs, self.dashboard.clock().timestamp()).end
            self.at_latest = self.window.end >= latest
            self.draw()

    def action_whole(self) -> None:
        runs = self.query_one(ChartCanvas).runs
        self.window = whole_window(runs, self.dashboard.clock().timestamp())
        self.at_latest = True
        self.draw()

    def action_latest(self) -> None:
        if self.window is not None:
            latest = whole_window(self.query_one(ChartCanvas).runs, self.dashboard.clock().timestamp()).end
            self.window = Window(latest - self.window.span, latest)
            self.at_latest = True
            self.draw()

    def command_line(self) -> str:
        if self.window is None:
            words = run_filter_words(self.dashboard, self.task_name)
        else:
            words = run_filter_words(self.dashboard, self.task_name, omit=("since", "until"))
            words += ["-S", iso_utc(self.window.start), "-U", iso_utc(self.window.end)]
        return cli_command("runs", self.dashboard.repo_arg, *words)


def human_span(seconds: float) -> str:
    """A window's length in words."""
    return human_duration(seconds) + " shown"
