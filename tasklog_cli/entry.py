"""The `tasklog` console script: Ctrl-C is handled from the first moment, before anything heavy loads."""

import signal
import sys


def main() -> None:
    """Run the CLI; an interrupt while it is still loading is one line and exit 130, like any other."""
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        from tasklog_cli.cli import app

        app(prog_name="tasklog")
    except KeyboardInterrupt:  # while loading, or while Typer builds the commands
        from tasklog_cli.diagnostics import Diagnostics

        sys.exit(Diagnostics(sys.stderr).interrupted())
