"""The command-line interface: a thin Typer shell over `tasklog_cli.api`."""

from collections.abc import Sequence
from functools import cache
from typing import TYPE_CHECKING

from typer.main import get_command

from tasklog_cli.cli.commands import app
from tasklog_cli.environment import Environment

if TYPE_CHECKING:
    from typer import _click as click

__all__ = ["app", "run"]


@cache
def command() -> "click.Command":
    """The Click command Typer builds from the app (once: building it costs more than a small command)."""
    return get_command(app)


def run(args: Sequence[str], env: Environment) -> int:
    """Run tasklog in this process in a given environment (streams, terminal, clock); return the exit code."""
    try:
        command().main(list(args), env=env)
    except SystemExit as exit_:
        return int(exit_.code or 0)
    return 0
