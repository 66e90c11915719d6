"""The option groups, each declared once as a frozen dataclass whose fields are Typer options."""

import dataclasses
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any

import typer

import tasklog_cli.cli.help as texts
from tasklog_cli.api import Filters
from tasklog_cli.completion import (
    complete_fields,
    complete_repo,
    complete_run_id,
    complete_table,
    complete_task,
)
from tasklog_cli.models import Action
from tasklog_cli.render import FORMATS

COLORS = ("auto", "always", "never")

SOURCE, FILTERS, OUTPUT, SELECTION = "Source", "Filters", "Output", "Selection"


def option(
    *names: str,
    panel: str,
    metavar: str | None = None,
    key: str | None = None,
    choices: Iterable[str] = (),
    complete: Callable[..., list[str]] | None = None,
) -> Any:
    """A Typer option shown in a help panel, its help text from the help module (under `key`, else its
    first name); shell completion offers `choices`, or what `complete` answers."""
    text = texts.OPTIONS[key or names[0].lstrip("-").replace("-", "_")]
    offered = tuple(choices)
    return typer.Option(
        *names, metavar=metavar, rich_help_panel=panel, help=text, show_default=False,
        autocompletion=complete or (complete_choice(offered) if offered else None),
    )  # fmt: skip


Names = list[str] | None


def complete_choice(values: Sequence[str]) -> Callable[[str], list[str]]:
    """Shell completion of an option that takes one of `values`."""

    def complete(incomplete: str) -> list[str]:
        return [value for value in values if value.startswith(incomplete)]

    return complete


@dataclass(frozen=True)
class SourceOptions:
    """Which store to read, and how."""

    repo: Annotated[
        str | None, option("--repo", "-r", panel=SOURCE, metavar="SPEC", complete=complete_repo)
    ] = None
    table: Annotated[str | None, option("--table", panel=SOURCE, metavar="NAME", complete=complete_table)] = (
        None
    )
    utc: Annotated[bool, option("--utc", panel=SOURCE)] = False
    strict: Annotated[bool, option("--strict", panel=SOURCE)] = False
    no_index: Annotated[bool, option("--no-index", panel=SOURCE)] = False


FormatOption = Annotated[
    str | None, option("--format", "-o", "--output", panel=OUTPUT, metavar="FORMAT", choices=FORMATS)
]
ColorOption = Annotated[str, option("--color", panel=OUTPUT, metavar="WHEN", choices=COLORS)]


@dataclass(frozen=True)
class OutputOptions:
    """How to print."""

    fmt: FormatOption = None
    fields: Annotated[
        str | None, option("--fields", panel=OUTPUT, metavar="A,B", complete=complete_fields)
    ] = None
    color: ColorOption = "auto"
    no_headers: Annotated[bool, option("--no-headers", panel=OUTPUT)] = False
    relative: Annotated[bool, option("--relative", panel=OUTPUT)] = False
    no_pager: Annotated[bool, option("--no-pager", panel=OUTPUT)] = False


@dataclass(frozen=True)
class InfoOutput:
    """How `info` prints: a format and colour, no field choice."""

    fmt: FormatOption = None
    color: ColorOption = "auto"
    no_headers: Annotated[bool, option("--no-headers", panel=OUTPUT)] = False
    no_pager: Annotated[bool, option("--no-pager", panel=OUTPUT)] = False
    fields: None = dataclasses.field(default=None, init=False)
    relative: bool = dataclasses.field(default=False, init=False)


@dataclass(frozen=True)
class RunFilters:
    """What selects runs (and records)."""

    task: Annotated[Names, option("--task", "-t", panel=FILTERS, metavar="NAME", complete=complete_task)] = (
        None
    )
    run_id: Annotated[Names, option("--run-id", panel=FILTERS, metavar="ID", complete=complete_run_id)] = None
    since: Annotated[str | None, option("--since", "-S", panel=FILTERS, metavar="TIME")] = None
    until: Annotated[str | None, option("--until", "-U", panel=FILTERS, metavar="TIME")] = None
    grep: Annotated[str | None, option("--grep", "-g", panel=FILTERS, metavar="REGEX")] = None
    ignore_case: Annotated[bool, option("--ignore-case", "-i", panel=FILTERS)] = False
    where: Annotated[Names, option("--where", "-w", panel=FILTERS, metavar="'FIELD OP VALUE'")] = None
    level: Annotated[str | None, option("--level", panel=FILTERS, metavar="LEVEL")] = None

    def api(self) -> Filters:
        """The filters as the API's keyword arguments."""
        return Filters(
            task=self.task or (), run_id=self.run_id or (), since=self.since, until=self.until,
            grep=self.grep, ignore_case=self.ignore_case, where=self.where or (), level=self.level,
        )  # fmt: skip


@dataclass(frozen=True)
class RecordFilters(RunFilters):
    """What selects records: the run filters and the action."""

    action: Annotated[
        Names,
        option("--action", "-a", panel=FILTERS, metavar="ACTION", choices=(*Action, "log")),
    ] = None


RetryWindow = Annotated[str, option("--retry-window", panel=SELECTION, metavar="SPAN")]
Reverse = Annotated[bool, option("--reverse", panel=SELECTION)]
LastRuns = Annotated[int | None, option("--last", "-n", panel=SELECTION, metavar="N", key="last_runs")]
