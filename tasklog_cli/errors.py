"""The exit-code table and the errors that map onto it."""

from collections.abc import Iterable
from enum import IntEnum


class ExitCode(IntEnum):
    """Every exit status tasklog uses (DESIGN §7)."""

    OK = 0
    NO_MATCH = 1
    CHECK_FAILED = 1
    USAGE = 2
    SOURCE = 3
    INTERRUPTED = 130


class TasklogError(Exception):
    """An error the user can act on: one line on stderr and an exit code."""

    exit_code = ExitCode.SOURCE


class UsageError(TasklogError):
    """A bad option, value, field, time or configuration."""

    exit_code = ExitCode.USAGE


class SourceError(TasklogError):
    """A store that is missing, unreadable, not a task log or unreachable."""

    exit_code = ExitCode.SOURCE


def check_names(names: Iterable[str], available: Iterable[str], option: str) -> None:
    """Fail with a usage error naming the first field that is not available, and listing those that are."""
    known = tuple(available)
    unknown = [name for name in names if name not in known]
    if unknown:
        raise UsageError(f"unknown field {unknown[0]!r} in {option}: the fields are {', '.join(known)}")
