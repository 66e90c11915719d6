"""The command-line interface: a thin Typer shell over `tasklog_cli.api`."""

from collections.abc import Sequence

from typer.main import get_command

from tasklog_cli.cli.commands import app
from tasklog_cli.environment import Environment

__all__ = ["app", "run"]


def run(args: Sequence[str], env: Environment) -> int:
    """Run tasklog in this process in a given environment (streams, terminal, clock); return the exit code."""
    try:
        get_command(app).main(list(args), env=env)
    except SystemExit as exit_:
        return int(exit_.code or 0)
    return 0
