"""The Textual app: the views on a stack, the filter every view applies, live updates, the status line."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from rich.text import Text
from textual.app import App
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import Static

from tasklog_cli.errors import UsageError
from tasklog_cli.redact import redact_text
from tasklog_cli.render.safe import visible
from tasklog_cli.render.text import time_text
from tasklog_cli.results import Record
from tasklog_cli.times import Zone
from tasklog_cli.ui.modals import CommandBox, FilterBar, KeysHelp
from tasklog_cli.ui.query_text import ViewFilter
from tasklog_cli.ui.screens import TailView, TasksView
from tasklog_cli.ui.store import Live, Store, problem_text
from tasklog_cli.ui.view import View

RETRY_SECONDS = 3.0  # after a failed read, how long until the view tries again

CSS = """
#title { height: 1; background: $panel; }
#status { height: 1; color: $text-muted; }
DataTable { height: 1fr; }
#records { overflow-x: hidden; }
#chart-scroll, #timeline-scroll { height: 1fr; }
#timeline-scroll { overflow-x: auto; }
#timeline { width: auto; }
FilterBar, CommandBox, KeysHelp { align: center middle; }
#filter-box, #command-box, #help-box {
    width: 90%; max-width: 100; height: auto; max-height: 90%;
    border: round $accent; background: $surface; padding: 0 1;
}
"""


@dataclass(frozen=True)
class Settings:
    """How the dashboard was started: the `-r` as given, the display zone, the clock, the follow interval."""

    repo_arg: str | None
    zone: Zone
    clock: Callable[[], datetime]
    interval: float = 0.5
    retry_window: str = "10m"
    live: bool = True


class NewRecords(Message):
    """Records written since the last poll (posted by the follow thread)."""

    def __init__(self, records: list[Record]) -> None:
        super().__init__()
        self.records = records


class StoreNote(Message):
    """Something the follow thread has to say (a reconnect, a rewrite, a failure)."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text


class Dashboard(App[int]):
    """`tasklog ui`: tasks, runs, the time chart, timelines and the live tail of one store."""

    CSS = CSS
    TITLE = "tasklog ui"
    ENABLE_COMMAND_PALETTE = False
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+c", "quit", "Quit", show=False, priority=True),
        Binding("q", "quit", "Quit"),
        Binding("slash", "filter", "Filter", key_display="/"),
        Binding("t", "time_range", "Range"),
        Binding("l", "tail", "Live"),
        Binding("question_mark", "help", "Help", key_display="?"),
    ]

    def __init__(self, store: Store, settings: Settings, view: ViewFilter) -> None:
        super().__init__()
        self.store = store
        self.settings = settings
        self.view = view
        self.status = Text("")
        self.failing = False
        self.live: Live | None = None

    @property
    def zone(self) -> Zone:
        """The zone times are shown in."""
        return self.settings.zone

    @property
    def repo_arg(self) -> str | None:
        """The `-r` the dashboard was started with (None: it came from TASKLOG_REPO or the config)."""
        return self.settings.repo_arg

    @property
    def store_name(self) -> str:
        """The store as the title names it: as `-r` gave it (secrets hidden), else its label."""
        return redact_text(self.repo_arg) if self.repo_arg else self.store.repo.label

    def clock(self) -> datetime:
        """Now, as the environment tells it."""
        return self.settings.clock()

    def on_mount(self) -> None:
        self.push_screen(TasksView())
        self.follow()

    def follow(self) -> None:
        """(Re)start following the store for the tasks the filter names."""
        self.stop_following()
        if self.settings.live:
            self.live = Live(
                self.store, self.view.task, interval=self.settings.interval,
                deliver=lambda records: self.tell(NewRecords(records)),
                note=lambda text: self.tell(StoreNote(text)),
            )  # fmt: skip
            self.live.start()
            self.set_status(f"live: looking for new records every {self.settings.interval:g}s")

    def tell(self, message: Message) -> None:
        """Post a message from the follow thread (it is queued for the app's own thread)."""
        self.post_message(message)

    def stop_following(self) -> None:
        """Stop the follow thread, if one runs."""
        if self.live is not None:
            self.live.stop()
            self.live = None

    def on_new_records(self, message: NewRecords) -> None:
        names = frozenset(record.task_name for record in message.records)
        when = time_text(self.clock(), self.zone, "s")[11:19]
        self.set_status(f"live: {len(message.records)} new record(s) at {when}")
        for screen in self.screen_stack:
            if isinstance(screen, View):
                screen.store_changed(names)

    def on_store_note(self, message: StoreNote) -> None:
        self.set_status(message.text, error="stopped" in message.text)

    def set_status(self, text: str, *, error: bool = False) -> None:
        """Say something on the status line of every view."""
        self.status = Text(visible(text), style="bold red" if error else "")
        self.show_status()

    def show_status(self) -> None:
        """Show the status on the view in front."""
        for widget in self.screen.query("#status"):
            if isinstance(widget, Static):
                widget.update(self.status)

    def failed(self, problem: str) -> None:
        """A view could not read the store: say so and try again in a while."""
        self.failing = True
        self.set_status(f"retrying every {RETRY_SECONDS:.0f}s: {problem}", error=True)
        self.set_timer(RETRY_SECONDS, self.retry)

    def retry(self) -> None:
        if self.failing and isinstance(self.screen, View):
            self.screen.reload()

    def fetched(self) -> None:
        """A view read the store: a problem said before is over."""
        if self.failing:
            self.failing = False
            self.set_status("the store answers again")

    def apply(self, view: ViewFilter | None) -> None:
        """Use a new filter in every view (None: keep the one there is)."""
        if view is None or view == self.view:
            return
        try:
            self.store.check(view)
        except UsageError as exc:
            self.set_status(str(exc), error=True)
            return
        except Exception as exc:
            self.set_status(problem_text(exc), error=True)
            return
        refollow = view.task != self.view.task
        self.view = view
        self.set_status("")
        for screen in self.screen_stack:
            if isinstance(screen, View):
                screen.stale = True
        if isinstance(self.screen, View):
            self.screen.reload()
            self.screen.show_title()
        if refollow:
            self.follow()

    def show_command(self, command: str) -> None:
        """Pop up the tasklog command of what the view shows."""
        if command:
            self.push_screen(CommandBox(command))

    def action_filter(self) -> None:
        if isinstance(self.screen, View):
            self.push_screen(FilterBar(self.view), self.apply)

    def action_time_range(self) -> None:
        if isinstance(self.screen, View):
            self.apply(self.view.next_time_preset())

    def action_tail(self) -> None:
        if not isinstance(self.screen, TailView) and isinstance(self.screen, View):
            self.push_screen(TailView())

    def action_help(self) -> None:
        if isinstance(self.screen, View):
            self.push_screen(KeysHelp())

    async def action_quit(self) -> None:
        self.exit(0)
