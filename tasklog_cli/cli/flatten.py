"""`command`: a function taking option groups becomes a Typer command whose options are the groups' fields.

Typer reads a command's parameters from its signature; `command` builds that signature from the fields of
the frozen dataclasses the function takes, and rebuilds the dataclasses when Typer calls it.
"""

import dataclasses
import inspect
from collections.abc import Callable, Iterator
from typing import Annotated, Any, get_type_hints

import typer

import tasklog_cli.cli.help as texts
from tasklog_cli.cli.group import TasklogCommand
from tasklog_cli.cli.invocation import Invocation
from tasklog_cli.cli.options import OutputOptions, RunFilters, SourceOptions

KEYWORD = inspect.Parameter.KEYWORD_ONLY
DEBUG = inspect.Parameter(
    "debug",
    KEYWORD,
    default=False,
    annotation=Annotated[bool, typer.Option("--debug", help=texts.OPTIONS["debug"])],
)


def _parameters(group: type) -> Iterator[inspect.Parameter]:
    """A group's fields as keyword parameters, with their Typer annotations and defaults."""
    hints = get_type_hints(group, include_extras=True)
    for field in dataclasses.fields(group):
        if field.init:
            default = inspect.Parameter.empty if field.default is dataclasses.MISSING else field.default
            yield inspect.Parameter(field.name, KEYWORD, annotation=hints[field.name], default=default)


def command(app: typer.Typer, name: str) -> Callable[[Callable[..., int]], Callable[..., int]]:
    """Register `function(run, **groups)` as a command; the Source and Output groups (unless the function
    names its own) and `--debug` are added to every command and go to the Invocation `run`."""

    def register(function: Callable[..., int]) -> Callable[..., int]:
        hints = get_type_hints(function)
        declared = {
            key: hint for key, hint in hints.items() if key != "run" and dataclasses.is_dataclass(hint)
        }
        groups: dict[str, Any] = {"source": SourceOptions, "output": OutputOptions, **declared}
        context = inspect.Parameter("ctx", KEYWORD, annotation=typer.Context)
        parameters = [context, *(p for group in groups.values() for p in _parameters(group)), DEBUG]

        def invoke(ctx: typer.Context, debug: bool, **values: Any) -> int:
            built = {
                key: group(**{f.name: values[f.name] for f in dataclasses.fields(group) if f.init})
                for key, group in groups.items()
            }
            filters = next((group for group in built.values() if isinstance(group, RunFilters)), None)
            diagnostics = ctx.obj["diagnostics"]
            diagnostics.debug = diagnostics.debug or debug
            run = Invocation(ctx, built["source"], built["output"], filters, ctx.obj["env"], diagnostics)
            return function(run, **{key: built[key] for key in declared})

        invoke.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
        invoke.__annotations__ = {parameter.name: parameter.annotation for parameter in parameters}
        invoke.__name__, invoke.__doc__ = function.__name__, function.__doc__
        summary = texts.COMMANDS[name][1]
        app.command(name, cls=TasklogCommand, epilog=texts.examples(name), short_help=summary)(invoke)
        return function

    return register
