"""The option groups, each declared once, and `command`, which flattens them into a Typer command.

Typer reads a command's parameters from its signature; `command` builds that signature from the fields
of the frozen dataclasses a command function takes, and rebuilds the dataclasses when Typer calls it.
"""

import dataclasses
import inspect
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, get_type_hints

import typer

from tasklog_cli.api import Filters
from tasklog_cli.cli import help as texts
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


@dataclass(frozen=True)
class InfoOutput:
    """How `info` prints: a format and colour, no field choice."""

    fmt: FormatOption = None
    color: ColorOption = "auto"
    fields: None = dataclasses.field(default=None, init=False)


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
LastRuns = Annotated[int | None, option("--last", "-n", panel=SELECTION, metavar="N", key="last_runs")]


def command(app: typer.Typer, name: str) -> Callable[[Callable[..., int]], Callable[..., int]]:
    """Register `function(run, **groups)` as a command whose options are the fields of its groups."""

    def register(function: Callable[..., int]) -> Callable[..., int]:
        from tasklog_cli.cli.group import TasklogCommand
        from tasklog_cli.cli.invocation import Invocation

        hints = get_type_hints(function)
        declared = {
            name: hint for name, hint in hints.items() if name != "run" and dataclasses.is_dataclass(hint)
        }
        groups: dict[str, Any] = dict(declared)
        groups.setdefault("source", SourceOptions)
        groups.setdefault("output", OutputOptions)
        parameters = [inspect.Parameter("ctx", inspect.Parameter.KEYWORD_ONLY, annotation=typer.Context)]
        for group in groups.values():
            field_hints = get_type_hints(group, include_extras=True)
            for field in dataclasses.fields(group):
                default = inspect.Parameter.empty if field.default is dataclasses.MISSING else field.default
                if field.init:
                    keyword = inspect.Parameter.KEYWORD_ONLY
                    parameters.append(
                        inspect.Parameter(
                            field.name, keyword, annotation=field_hints[field.name], default=default
                        )
                    )
        parameters.append(
            inspect.Parameter(
                "debug", inspect.Parameter.KEYWORD_ONLY, default=False,
                annotation=Annotated[bool, typer.Option("--debug", help=texts.OPTIONS["debug"])],
            )
        )  # fmt: skip

        def invoke(ctx: typer.Context, debug: bool, **values: Any) -> int:
            built = {
                key: group(**{f.name: values[f.name] for f in dataclasses.fields(group) if f.init})
                for key, group in groups.items()
            }
            run = Invocation.start(ctx, built["source"], built["output"], debug=debug)
            return function(run, **{key: value for key, value in built.items() if key in declared})

        invoke.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
        invoke.__annotations__ = {parameter.name: parameter.annotation for parameter in parameters}
        invoke.__name__ = function.__name__
        invoke.__doc__ = function.__doc__
        app.command(
            name, cls=TasklogCommand, epilog=texts.examples(name), short_help=texts.COMMANDS[name][1]
        )(invoke)
        return function

    return register
