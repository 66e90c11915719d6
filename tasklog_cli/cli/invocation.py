"""One command's run: its environment, the repo it opens (when first asked), its display and format."""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC
from functools import cached_property
from pathlib import Path

import typer

from tasklog_cli.api import Following, Repo, open_choice
from tasklog_cli.config import RepoChoice
from tasklog_cli.diagnostics import Diagnostics
from tasklog_cli.environment import Environment
from tasklog_cli.errors import ExitCode, UsageError
from tasklog_cli.render import Display, Row, choose_format, every_column, follow_stream, render
from tasklog_cli.results import RECORD_FIELDS
from tasklog_cli.sources.base import check_names
from tasklog_cli.times import resolve_zone

from .options import COLORS, OutputOptions, SourceOptions


@dataclass
class Invocation:
    """What a command works with: options given, the environment, stderr's one writer, the repo."""

    ctx: typer.Context
    source: SourceOptions
    output: OutputOptions
    env: Environment
    diagnostics: Diagnostics
    display: Display = field(init=False)
    fmt: str = field(init=False)

    @classmethod
    def start(
        cls, ctx: typer.Context, source: SourceOptions, output: OutputOptions, *, debug: bool
    ) -> "Invocation":
        """Check the output options and prepare the display; the repo opens when first used."""
        env: Environment = ctx.obj["env"]
        diagnostics: Diagnostics = ctx.obj["diagnostics"]
        diagnostics.debug = diagnostics.debug or debug
        return cls(ctx, source, output, env, diagnostics)

    def __post_init__(self) -> None:
        if self.output.color not in COLORS:
            raise UsageError(f"unknown --color {self.output.color!r}: use {', '.join(COLORS)}")
        zone = UTC if self.source.utc else resolve_zone(utc=False, name=self.choice.time_zone)
        color = self.env.color(self.output.color)
        self.display = Display(self.env.stdout, self.env.is_terminal, self.env.columns, color, zone)
        self.fmt = choose_format(self.output.fmt, self.display)

    @cached_property
    def choice(self) -> RepoChoice:
        """The repo to open: -r after the command, -r before it, TASKLOG_REPO, the config's default."""
        from tasklog_cli.config import choose_repo, load_config  # pydantic, only when a repo is opened

        flag = self.source.repo or self.ctx.obj.get("repo")
        return choose_repo(flag, self.env.variables.get("TASKLOG_REPO"), load_config())

    @cached_property
    def repo(self) -> Repo:
        """The opened repo, closed when the command ends."""
        opened = open_choice(
            self.choice,
            table=self.source.table,
            zone=self.display.zone,
            strict=self.source.strict,
            clock=self.env.clock,
            index=not self.source.no_index,
            variables=self.env.variables,
        )
        self.ctx.call_on_close(opened.close)
        return opened

    def columns(self, default: Sequence[str], available: Sequence[str] | None = None) -> list[str]:
        """The columns to print: `--fields`, else the default (every column for json/jsonl)."""
        available = self.repo.columns if available is None else available
        requested = self.output.fields
        if requested is None:
            return list(available if every_column(self.fmt) else default)
        if requested.strip() == "all":
            return list(available)
        names = [name.strip() for name in requested.split(",") if name.strip()]
        if not names:
            raise UsageError(f"--fields names no field: use A,B or 'all' (fields: {', '.join(available)})")
        check_names(names, available, "--fields")
        return names

    def record_columns(self) -> tuple[str, ...]:
        """The default columns of records: the core four, and `message` where the store has it."""
        return RECORD_FIELDS + (("message",) if "message" in self.repo.columns else ())

    def emit(self, rows: Iterable[Row], columns: Sequence[str], empty: str = "no matching records") -> int:
        """Print rows; exit 0 when there were some, else 1 (with a note under a table)."""
        return self.finish(render(rows, columns, self.fmt, self.display), empty)

    def finish(self, count: int, empty: str = "no matching records") -> int:
        """Report skipped rows and an empty table; exit 0 when something matched, else 1."""
        if not count and self.fmt == "table":
            self.diagnostics.note(empty)
        if "repo" in self.__dict__ and self.repo.skipped:
            self.diagnostics.warning(
                f"skipped {self.repo.skipped} malformed row(s) in {self.repo.label} "
                f"(e.g. {self.repo.first_malformed}; --strict fails on them)"
            )
        return ExitCode.OK if count else ExitCode.NO_MATCH

    def follow(self, following: Following, columns: Sequence[str]) -> int:
        """Print the backlog, then each new record as it comes, until Ctrl-C (exit 0: how follow ends)."""
        import gc

        gc.enable()  # hours of polling: let the collector run
        stream = None
        try:
            stream = follow_stream(columns, self.fmt, self.display, following.backlog)
            for row in following:
                stream.write(row)
        except KeyboardInterrupt:
            pass
        finally:
            if stream is not None:
                stream.close()
            following.close()
        return ExitCode.OK

    def wait_for_file(self, interval: float) -> None:
        """With --wait: until a file named by the repo spec exists and has content (Ctrl-C: exit 0)."""
        spec = self.choice.spec
        if "://" in spec or spec in ("demo", "-"):
            return
        path = Path(spec).expanduser()
        announced = False
        while not path.exists() or (path.is_file() and path.stat().st_size == 0):
            if not announced:
                self.diagnostics.note(f"waiting for {path}")
                announced = True
            self.env.sleep(interval)
