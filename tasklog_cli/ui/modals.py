"""The dashboard's pop-ups: the filter bar, the equivalent CLI command, and the keys."""

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from tasklog_cli.errors import UsageError
from tasklog_cli.render.safe import visible
from tasklog_cli.ui.query_text import ViewFilter, parse_filter

FILTER_HINT = (
    "The CLI's filters: -t NAME|GLOB  -a ACTION  --run-id ID  -S/-U TIME  -g REGEX  -i  -w 'FIELD OP VALUE'  "
    "--level LEVEL.  Enter applies, Escape cancels; t steps through the ranges all, 1h, 24h, 7d."
)
KEYS = """\
Everywhere  q, Ctrl-C quit      / filter      ? this help
            t time range: all, 1h, 24h, 7d    l live tail
            c the same as a tasklog command   Escape back
            Enter open the row   ↑ ↓ PgUp PgDn move
Tasks       Enter its runs      g time chart of all tasks
Runs        Enter its timeline  g time chart of the task
Time chart  + - zoom  ← → earlier, later  Home all  End latest
Timeline    y copy it as text   ← → long lines
Live tail   p or Space pause, resume

Tasks are worst first (failing streaks, then the lowest
success rate); a row that changes flashes. The filter takes
the CLI's -t -a --run-id -S -U -g -i -w --level and applies
to every view; -a names outcomes in run views (run: still
running) and the last outcome in the tasks view.
"""


class FilterBar(ModalScreen[ViewFilter | None]):
    """The filter bar: the current filter, editable; Enter applies it, Escape leaves it as it was."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, current: ViewFilter) -> None:
        super().__init__()
        self.current = current

    def compose(self) -> ComposeResult:
        with Vertical(id="filter-box"):
            yield Input(value=self.current.text(), placeholder="-t 'nightly_*' -a fail -S 2h", id="filter")
            yield Static(Text(FILTER_HINT, style="dim"), id="filter-hint")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        try:
            self.dismiss(parse_filter(event.value))
        except UsageError as exc:
            self.query_one("#filter-hint", Static).update(Text(visible(str(exc)), style="bold red"))

    def action_cancel(self) -> None:
        self.dismiss(None)


class CommandBox(ModalScreen[None]):
    """The tasklog command that prints what the view shows: y copies it."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "copy", "Copy"),
        Binding("escape,c,enter", "close", "Close"),
    ]

    def __init__(self, command: str) -> None:
        super().__init__()
        self.command = command

    def compose(self) -> ComposeResult:
        with Vertical(id="command-box"):
            yield Static(Text("The same from the shell:", style="bold"))
            yield Static(Text(visible(self.command)), id="command")
            yield Static(Text("y copies it, Escape closes", style="dim"))

    def action_copy(self) -> None:
        self.app.copy_to_clipboard(self.command)
        self.dismiss(None)

    def action_close(self) -> None:
        self.dismiss(None)


class KeysHelp(ModalScreen[None]):
    """Every key of every view."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,question_mark,enter", "close", "Close")]

    def compose(self) -> ComposeResult:
        with Vertical(id="help-box"):
            yield Static(Text("tasklog ui: keys", style="bold"))
            yield Static(Text(KEYS))

    def action_close(self) -> None:
        self.dismiss(None)
