"""The dashboard's views: tasks (home), a task's runs, the time chart, a run's timeline, the live tail."""

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import DataTable, Footer, Static

from tasklog_cli.render.timeline import timeline_lines
from tasklog_cli.results import Record, Run, Timeline
from tasklog_cli.times import iso_utc
from tasklog_cli.ui import cells
from tasklog_cli.ui.chart import CHART_FOOT, Window, draw_chart, lanes, whole_window
from tasklog_cli.ui.query_text import cli_command
from tasklog_cli.ui.store import (
    EDGE,
    RECORDS_SHOWN,
    RUNS_SHOWN,
    TaskRow,
    merge_rows,
    outcomes_of,
    problem_text,
)
from tasklog_cli.ui.visible import visible

if TYPE_CHECKING:
    from tasklog_cli.ui.app import Dashboard

FLASH_SECONDS = 1.5
AGO_SECONDS = 5.0  # how often the tasks view redraws its relative times
MAX_COLUMN = 100  # cells wider than this (long messages) are cut


class View(Screen[None]):
    """A view: a title line, its body, a status line and the keys; its data is fetched in a thread."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,backspace", "back", "Back"),
        Binding("c", "command", "CLI"),
    ]
    heading = ""

    def __init__(self) -> None:
        super().__init__()
        self.stale = False
        self.loaded = False

    @property
    def dashboard(self) -> "Dashboard":
        """The app, with its store and settings."""
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        yield Static(id="title")
        yield from self.body()
        yield Static(id="status")
        yield Footer()

    def body(self) -> Iterable[Widget]:
        """The widgets between the title and the status line."""
        return ()

    def on_mount(self) -> None:
        self.show_title()
        self.refresh_bindings()
        self.reload()

    def on_screen_resume(self) -> None:
        self.show_title()
        self.dashboard.show_status()
        if self.stale:
            self.reload()

    def show_title(self, extra: str = "") -> None:
        """The title line: the store, the view, the time range and the filter."""
        board = self.dashboard
        view = board.view
        parts = [
            ("tasklog", "bold"), (" · ", ""), (visible(board.store_name), ""), (" · ", ""),
            (visible(self.heading), "bold cyan"), (extra, ""), (" · ", ""), (view.time_range(), "yellow"),
        ]  # fmt: skip
        if view.text():
            parts += [(" · filter: ", ""), (visible(view.text()), "magenta")]
        self.query_one("#title", Static).update(Text.assemble(*parts, no_wrap=True, overflow="ellipsis"))

    def reload(self) -> None:
        """Fetch the view's data again (in a thread; the store is used by one thread at a time)."""
        self.stale = False
        self.run_worker(self._fetch, thread=True, exclusive=True, group="fetch")

    def _fetch(self) -> None:
        try:
            data = self.fetch()
        except Exception as exc:  # a store gone, a connection dropped: say so, and try again later
            self.app.call_from_thread(self.dashboard.failed, problem_text(exc))
            return
        self.app.call_from_thread(self._show, data)

    def _show(self, data: Any) -> None:
        self.loaded = True
        self.show(data)
        self.dashboard.fetched()

    def fetch(self) -> Any:
        """The view's data, read from the store (runs in a worker thread)."""
        return None

    def show(self, data: Any) -> None:
        """Put fetched data on the screen."""

    def store_changed(self, names: frozenset[str]) -> None:
        """New records of these tasks were written: refresh now if shown, else when shown again."""
        if self.concerns(names):
            if self.is_current:
                self.reload()
            else:
                self.stale = True

    def concerns(self, names: frozenset[str]) -> bool:
        """Whether new records of these tasks change what the view shows."""
        return True

    def command_line(self) -> str:
        """The tasklog command that prints what the view shows."""
        return ""

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Back only where there is somewhere to go back to."""
        return action != "back" or len(self.app.screen_stack) > 2

    def action_back(self) -> None:
        if len(self.app.screen_stack) > 2:
            self.app.pop_screen()

    def action_command(self) -> None:
        self.dashboard.show_command(self.command_line())


def fill_table(
    table: DataTable[Text], columns: Sequence[str], rows: Sequence[tuple[str, list[Text]]]
) -> None:
    """Replace a table's rows; its columns are made anew as wide as their cells (at most MAX_COLUMN), and
    the cursor stays on the row with the same key where there still is one."""
    key = None
    if table.row_count and table.cursor_row < table.row_count:
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
    table.clear(columns=True)
    for position, header in enumerate(columns):
        width = max([len(header), *(row[position].cell_len for _, row in rows)])
        table.add_column(header, width=min(width, MAX_COLUMN))
    for row_key, row in rows:
        table.add_row(*row, key=row_key)
    keys = [row_key for row_key, _ in rows]
    if key in keys:
        table.move_cursor(row=keys.index(key), animate=False)


class TasksView(View):
    """Home: one row per task, worst first, with health at a glance; rows that change flash."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "open", "Runs", priority=True),
        Binding("g", "chart", "Chart"),
    ]
    heading = "tasks"

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[TaskRow] = []
        self.changed: frozenset[str] | None = None  # the tasks to fetch again (None: all)
        self.flashing: frozenset[str] = frozenset()

    def body(self) -> Iterable[Widget]:
        table: DataTable[Text] = DataTable(cursor_type="row", zebra_stripes=True, id="tasks")
        table.add_columns(*cells.TASK_COLUMNS)
        return (table,)

    def on_mount(self) -> None:
        super().on_mount()
        self.set_interval(AGO_SECONDS, self.draw)  # "3m 04s ago" moves on even when the store does not

    def reload(self) -> None:
        self.changed = None
        super().reload()

    def store_changed(self, names: frozenset[str]) -> None:
        if self.is_current and self.loaded and not self.dashboard.view.task:
            self.changed = names if self.changed is None else self.changed | names
            self.run_worker(self._fetch, thread=True, exclusive=True, group="fetch")
        else:
            super().store_changed(names)

    def fetch(self) -> tuple[frozenset[str] | None, list[TaskRow]]:
        changed = self.changed
        self.changed = None
        board = self.dashboard
        rows = board.store.health(board.view, changed)
        if changed is None and not self.loaded:  # the first screen: the rows now, their statistics next
            self.app.call_from_thread(self.show, (None, rows))
        return changed, board.store.with_stats(board.view, rows, changed)

    def show(self, data: tuple[frozenset[str] | None, list[TaskRow]]) -> None:
        changed, rows = data
        self.rows = rows if changed is None else merge_rows(self.rows, rows, changed)
        if changed:
            self.flashing = changed
            self.set_timer(FLASH_SECONDS, self.end_flash)
        self.draw()

    def end_flash(self) -> None:
        self.flashing = frozenset()
        self.draw()

    def draw(self) -> None:
        board = self.dashboard
        now = board.clock()
        table = self.query_one("#tasks", DataTable)
        fill_table(
            table,
            cells.TASK_COLUMNS,
            [
                (
                    row.health.task_name,
                    cells.task_cells(
                        row.health, row.stats, board.zone, now, flash=row.health.task_name in self.flashing
                    ),
                )
                for row in self.rows
            ],
        )
        self.show_title(f" ({len(self.rows)})")

    def selected(self) -> str | None:
        table = self.query_one("#tasks", DataTable)
        if not table.row_count:
            return None
        return str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        """A click on the selected row opens it, as Enter does."""
        event.stop()
        self.action_open()

    def action_open(self) -> None:
        name = self.selected()
        if name is not None:
            self.app.push_screen(RunsView(name))

    def action_chart(self) -> None:
        self.app.push_screen(ChartView(None))

    def command_line(self) -> str:
        board = self.dashboard
        view = board.view
        line = cli_command("tasks", board.repo_arg, *view.args(omit=("action",)))
        return line + ("  # -a: tasks whose last outcome is one named" if view.action else "")


def run_filter_words(board: "Dashboard", task: str | None, omit: tuple[str, ...] = ()) -> list[str]:
    """The CLI words that select the runs a view shows: its task, the filters, `-a` as outcomes."""
    view = board.view
    words = ["-t", task] if task is not None else []
    words += view.args(omit=("action", *omit, *(("task",) if task is not None else ())))
    for outcome in outcomes_of(view.action):
        words += ["--outcome", outcome]
    return words


class RunsView(View):
    """A task's runs, newest first: start, outcome, duration, attempt, end, run id."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "open", "Timeline", priority=True),
        Binding("g", "chart", "Chart"),
    ]

    def __init__(self, task: str) -> None:
        super().__init__()
        self.task_name = task
        self.heading = f"runs of {task}"
        self.runs: list[Run] = []

    def body(self) -> Iterable[Widget]:
        table: DataTable[Text] = DataTable(cursor_type="row", zebra_stripes=True, id="runs")
        table.add_columns(*cells.RUN_COLUMNS)
        return (table,)

    def concerns(self, names: frozenset[str]) -> bool:
        return self.task_name in names

    def fetch(self) -> list[Run]:
        return self.dashboard.store.runs(self.dashboard.view, self.task_name)

    def show(self, data: list[Run]) -> None:
        self.runs = data
        zone = self.dashboard.zone
        fill_table(
            self.query_one("#runs", DataTable),
            cells.RUN_COLUMNS,
            [(str(position), cells.run_cells(run, zone)) for position, run in enumerate(data)],
        )
        capped = " newest" if len(data) == RUNS_SHOWN else ""
        self.show_title(f" ({len(data)}{capped})")

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        """A click on the selected row opens it, as Enter does."""
        event.stop()
        self.action_open()

    def action_open(self) -> None:
        table = self.query_one("#runs", DataTable)
        if table.row_count:
            self.app.push_screen(TimelineView(retry_chain(self.runs, table.cursor_row)))

    def action_chart(self) -> None:
        self.app.push_screen(ChartView(self.task_name))

    def command_line(self) -> str:
        return cli_command("runs", self.dashboard.repo_arg, *run_filter_words(self.dashboard, self.task_name))


def retry_chain(newest_first: Sequence[Run], position: int) -> tuple[Run, ...]:
    """A run and the earlier attempts of its retry chain, oldest first (Rocketry's inferred attempts;
    a store that counts attempts inside one run, fastapi-taskflow, has no chain across runs)."""
    chain = [newest_first[position]]
    while chain[-1].status is None and chain[-1].attempt > 1 and position + 1 < len(newest_first):
        position += 1
        earlier = newest_first[position]
        if earlier.attempt != chain[-1].attempt - 1:
            break
        chain.append(earlier)
    return tuple(reversed(chain))


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
    from tasklog_cli.times import human_duration

    return human_duration(seconds) + " shown"


class TimelineView(View):
    """A run's records (and the attempts before it), messages and whole tracebacks, scrollable."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("y", "copy", "Copy")]

    def __init__(self, chain: tuple[Run, ...]) -> None:
        super().__init__()
        self.chain = chain
        last = chain[-1]
        self.heading = f"timeline of {last.task_name}"
        self.lines: list[Text] = []

    def body(self) -> Iterable[Widget]:
        with VerticalScroll(id="timeline-scroll"):
            yield Static(id="timeline")

    def concerns(self, names: frozenset[str]) -> bool:
        return self.chain[-1].task_name in names and self.chain[-1].end is None

    def fetch(self) -> list[Timeline]:
        return self.dashboard.store.timeline(self.chain)

    def show(self, data: list[Timeline]) -> None:
        lines = timeline_lines(data, self.dashboard.zone, full=True)
        self.lines = [Text.assemble(*((visible(text), style) for text, style in line)) for line in lines]
        if not self.lines:
            self.lines = [Text("the run is no longer in the store (or outside the filter)", style="dim")]
        self.query_one("#timeline", Static).update(Text("\n", no_wrap=True).join(self.lines))

    def action_copy(self) -> None:
        self.app.copy_to_clipboard("\n".join(line.plain for line in self.lines))
        self.dashboard.set_status("timeline copied to the clipboard")

    def command_line(self) -> str:
        first, last = self.chain[0], self.chain[-1]
        begin, end = first.start or first.end, last.start or last.end
        words = [last.task_name, "--full"]
        if begin is not None and end is not None:
            words += ["-S", iso_utc(begin - EDGE), "-U", iso_utc(end + EDGE)]
        return cli_command("timeline", self.dashboard.repo_arg, *words)


class TailView(View):
    """The newest records, newest first, and each new one on top as it is written; pausable; the
    filter applies."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("p,space", "pause", "Pause")]
    heading = "live tail"

    def __init__(self) -> None:
        super().__init__()
        self.paused = False
        self.missed = 0

    def body(self) -> Iterable[Widget]:
        table: DataTable[Text] = DataTable(cursor_type="row", zebra_stripes=True, id="records")
        table.add_columns(*cells.RECORD_COLUMNS)
        return (table,)

    def store_changed(self, names: frozenset[str]) -> None:
        if self.paused:
            self.missed += 1
            self.show_title(f" · paused ({self.missed} updates waiting)")
            return
        super().store_changed(names)

    def fetch(self) -> list[Record]:
        return self.dashboard.store.records(self.dashboard.view)

    def show(self, data: list[Record]) -> None:
        zone = self.dashboard.zone
        newest_first = [
            (str(len(data) - p), cells.record_cells(r, zone)) for p, r in enumerate(reversed(data))
        ]
        fill_table(self.query_one("#records", DataTable), cells.RECORD_COLUMNS, newest_first)
        capped = " newest" if len(data) == RECORDS_SHOWN else ""
        self.show_title(f" ({len(data)}{capped})" + (" · paused" if self.paused else ""))

    def action_pause(self) -> None:
        self.paused = not self.paused
        if not self.paused and self.missed:
            self.missed = 0
            self.reload()
        else:
            self.show_title(" · paused" if self.paused else "")

    def command_line(self) -> str:
        return cli_command("tail", self.dashboard.repo_arg, "-f", *self.dashboard.view.args())
