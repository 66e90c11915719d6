"""The dashboard's views of tasks (home), a task's runs, a run's timeline, and the live tail."""

from collections.abc import Iterable, Sequence
from typing import ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.widget import Widget
from textual.widgets import DataTable, Static

from tasklog_cli.render.safe import visible
from tasklog_cli.render.timeline import timeline_lines
from tasklog_cli.results import Record, Run, Timeline
from tasklog_cli.times import iso_utc
from tasklog_cli.ui import cells
from tasklog_cli.ui.chart_view import ChartView
from tasklog_cli.ui.query_text import cli_command
from tasklog_cli.ui.store import EDGE, RECORDS_SHOWN, RUNS_SHOWN, TaskRow, merge_rows
from tasklog_cli.ui.view import View, fill_table, run_filter_words

FLASH_SECONDS = 1.5
AGO_SECONDS = 5.0  # how often the tasks view redraws its relative times


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
