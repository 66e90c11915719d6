"""What every view of the dashboard shares: a title line, a body, a status line and the keys, data fetched
in a worker thread; the tables' filling and the CLI words of a view's runs."""

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import DataTable, Footer, Static

from tasklog_cli.render.safe import visible
from tasklog_cli.ui.store import outcomes_of, problem_text

if TYPE_CHECKING:
    from tasklog_cli.ui.app import Dashboard

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


def run_filter_words(board: "Dashboard", task: str | None, omit: tuple[str, ...] = ()) -> list[str]:
    """The CLI words that select the runs a view shows: its task, the filters, `-a` as outcomes."""
    view = board.view
    words = ["-t", task] if task is not None else []
    words += view.args(omit=("action", *omit, *(("task",) if task is not None else ())))
    for outcome in outcomes_of(view.action):
        words += ["--outcome", outcome]
    return words
