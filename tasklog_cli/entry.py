"""The `tasklog` console script: Ctrl-C is handled from the first moment, before anything heavy loads."""

import signal
import sys
from types import FrameType

_interrupted: list[int] = []


def _defer(signum: int, frame: FrameType | None) -> None:
    """While tasklog loads, a Ctrl-C is noted, not raised (raised inside an import it can end the
    process with a traceback or a signal exit however it is caught)."""
    _interrupted.append(signum)


def main() -> None:
    """Load the CLI with Ctrl-C deferred, then run it; an interrupt while loading is one line and 130."""
    signal.signal(signal.SIGINT, _defer)
    from tasklog_cli.cli import command

    built = command()
    signal.signal(signal.SIGINT, signal.default_int_handler)
    if _interrupted or sys.stdout is None:
        sys.exit(_cannot_start())
    built.main(prog_name="tasklog")


def _cannot_start() -> int:
    """A Ctrl-C while loading, or no standard output to write to: one line (where stderr is open) and the
    exit code."""
    from tasklog_cli.diagnostics import Diagnostics
    from tasklog_cli.errors import ExitCode

    if sys.stderr is None:
        return ExitCode.INTERRUPTED if _interrupted else ExitCode.USAGE
    diagnostics = Diagnostics(sys.stderr)
    if _interrupted:
        return diagnostics.interrupted()
    return diagnostics.error(
        "standard output is closed: there is nowhere to write the answer", ExitCode.USAGE
    )
