"""The Typer app itself: every error ends as one line and a documented exit code, `| head` ends quietly."""

import gc
import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated, Any

import typer
from typer.core import TyperCommand, TyperGroup

import tasklog_cli.cli.help as texts
from tasklog_cli import __version__
from tasklog_cli.completion import complete_repo
from tasklog_cli.diagnostics import Diagnostics
from tasklog_cli.environment import Environment
from tasklog_cli.errors import ExitCode
from tasklog_cli.shell_completion import completion_app

if TYPE_CHECKING:
    from typer import _click as click


class TasklogCommand(TyperCommand):
    """A command whose help lists its options by panel."""

    def format_options(self, ctx: "click.Context", formatter: Any) -> None:
        texts.write_options(self.get_params(ctx), ctx, formatter)

    def collect_usage_pieces(self, ctx: "click.Context") -> list[str]:
        """`[OPTIONS] TASK...`: arguments by their metavar."""
        arguments = [
            str(param.metavar) for param in self.get_params(ctx) if param.param_type_name == "argument"
        ]
        return [self.options_metavar or "[OPTIONS]", *arguments]


class TasklogGroup(TyperGroup):
    """Runs the app with standalone_mode=False, in an Environment read once, under Diagnostics."""

    def list_commands(self, ctx: "click.Context") -> list[str]:
        """Commands in the order of their help panels, not alphabetically."""
        return [name for name in texts.COMMANDS if name in self.commands]

    def format_commands(self, ctx: "click.Context", formatter: Any) -> None:
        texts.write_commands(self.list_commands(ctx), formatter)

    def main(  # type: ignore[override]
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        env: Environment | None = None,
        **extra: Any,
    ) -> Any:
        """Run a command in `env` (default: this process's) and exit with its code."""
        env = env or Environment.of_process()
        diagnostics = Diagnostics(env.stderr, debug=bool(env.variables.get("TASKLOG_DEBUG")))
        # A command builds millions of short-lived, acyclic tuples on a large store: cycle collection
        # would only cost time there (up to half of it). Follow mode turns it back on.
        gc.disable()
        code = diagnostics.guard(
            lambda: super(TasklogGroup, self).main(
                args=args, prog_name=prog_name or "tasklog", standalone_mode=False,
                obj={"env": env, "diagnostics": diagnostics}, **extra,
            ),
            usage_errors=(typer.TyperException,),
        )  # fmt: skip
        gc.enable()
        if code == ExitCode.INTERRUPTED:
            diagnostics.interrupted()  # said once: Typer turns a Ctrl-C while it parses into a silent 130
            env.stdout.flush()
            # CPython ends a process whose KeyboardInterrupt it saw by SIGINT (-2), however it was caught:
            # everything is closed by now, so leave with the documented code at once.
            os._exit(code)
        raise SystemExit(code)

    def invoke(self, ctx: "click.Context") -> Any:
        """Run the command; a reader that closed the pipe (`| head`) ends it quietly, Ctrl-C in one line."""
        try:
            return super().invoke(ctx)
        except BrokenPipeError:
            silence_stdout()
            return ExitCode.OK
        except KeyboardInterrupt:  # Typer would turn it into a silent exit 130
            return ctx.obj["diagnostics"].interrupted()


def silence_stdout() -> None:
    """After the reader of a pipe went away, send what is left to /dev/null so the exit is quiet."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
    except OSError:
        pass


def show_version(value: bool) -> None:
    """--version: print it and stop."""
    if value:
        print(f"tasklog {__version__}")
        raise typer.Exit()


def main_callback(
    ctx: typer.Context,
    repo: Annotated[
        str | None,
        typer.Option(
            "--repo", "-r", metavar="SPEC", help=texts.OPTIONS["repo"], autocompletion=complete_repo
        ),
    ] = None,
    version: Annotated[
        bool, typer.Option("--version", callback=show_version, is_eager=True, help=texts.OPTIONS["version"])
    ] = False,
) -> None:
    """Inspect task logs: filter records, pair runs, render tables and timelines."""
    ctx.obj["repo"] = repo
    if ctx.invoked_subcommand is None and not ctx.resilient_parsing:
        ctx.obj["diagnostics"].stderr.write(ctx.get_help() + "\n")  # no command: the help, and exit 2
        raise typer.Exit(ExitCode.USAGE)


def make_app() -> typer.Typer:
    """The app, before its commands are added."""
    app = typer.Typer(
        cls=TasklogGroup,
        name="tasklog",
        help=texts.APP,
        add_completion=False,
        pretty_exceptions_show_locals=False,
        rich_markup_mode=None,
        context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 120},
    )
    app.callback(invoke_without_command=True)(main_callback)
    app.add_typer(completion_app)
    return app
