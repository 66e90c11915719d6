"""The only writer of stderr and the only place that turns exceptions into exit codes."""

import traceback
from collections.abc import Callable
from typing import TextIO

from tasklog_cli.errors import ExitCode, TasklogError
from tasklog_cli.redact import redact_text


class Diagnostics:
    """Notes, warnings and errors for people, one line each; `--debug` adds the traceback of an error."""

    def __init__(self, stderr: TextIO, *, debug: bool = False) -> None:
        self.stderr = stderr
        self.debug = debug
        self.interrupted_said = False

    def line(self, text: str) -> None:
        """Write one line (newlines inside folded, so it stays one; secrets in URLs hidden)."""
        self.stderr.write(f"tasklog: {' '.join(redact_text(text).split())}\n")
        self.stderr.flush()

    def note(self, message: str) -> None:
        """Something the user should know that is not a problem (`no matching records`)."""
        self.line(message)

    def warning(self, message: str) -> None:
        """Something that went wrong without stopping the command."""
        self.line(f"warning: {message}")

    def error(self, message: str, code: ExitCode) -> int:
        """Report an error (and, under --debug, where it came from); return its exit code."""
        if self.debug:
            self.stderr.write(redact_text(traceback.format_exc()))
        self.line(f"error: {message}")
        return code

    def interrupted(self) -> int:
        """Ctrl-C outside follow mode."""
        if not self.interrupted_said:
            self.line("interrupted")
            self.interrupted_said = True
        return ExitCode.INTERRUPTED

    def guard(self, invoke: Callable[[], object], usage_errors: tuple[type[Exception], ...] = ()) -> int:
        """Run `invoke`, turning every exception into one line and the exit code of DESIGN §7."""
        try:
            result = invoke()
            return int(result) if isinstance(result, int) else ExitCode.OK
        except TasklogError as exc:
            return self.error(str(exc), exc.exit_code)
        except usage_errors as exc:  # the parser's: an unknown option, a bad value
            return self.error(usage_message(exc), ExitCode.USAGE)
        except KeyboardInterrupt:
            return self.interrupted()
        except Exception as exc:  # a bug: still one line unless --debug
            return self.error(
                f"unexpected {type(exc).__name__}: {exc} (--debug shows where)", ExitCode.SOURCE
            )


def usage_message(exc: Exception) -> str:
    """A parser error in tasklog's words, not the libraries'."""
    format_message = getattr(exc, "format_message", None)
    text = format_message() if callable(format_message) else str(exc)
    return str(text).replace("Value error, ", "")
