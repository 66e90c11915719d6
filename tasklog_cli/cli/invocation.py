"""One command's run: its environment, the repo it opens (when first asked), its display and format."""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC
from functools import cached_property

import typer

from tasklog_cli.api import Following, Repo, open_choice
from tasklog_cli.cli.options import COLORS, OutputOptions, RunFilters, SourceOptions
from tasklog_cli.config import RepoChoice
from tasklog_cli.diagnostics import Diagnostics
from tasklog_cli.environment import Environment
from tasklog_cli.errors import ExitCode, UsageError
from tasklog_cli.render import Display, Output, Row, choose_columns, choose_format, follow_stream, render
from tasklog_cli.render.pager import PagedOutput, pager_command
from tasklog_cli.results import RECORD_FIELDS
from tasklog_cli.selection import cut
from tasklog_cli.sources import wait_for
from tasklog_cli.times import resolve_zone, window_text


@dataclass
class Invocation:
    """What a command works with: options given, the environment, stderr's one writer, the repo (opened
    when first used)."""

    ctx: typer.Context
    source: SourceOptions
    output: OutputOptions
    filters: RunFilters | None
    env: Environment
    diagnostics: Diagnostics
    display: Display = field(init=False)
    fmt: str = field(init=False)
    limit_note: str | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        if self.output.color not in COLORS:
            raise UsageError(f"unknown --color {self.output.color!r}: use {', '.join(COLORS)}")
        zone = UTC if self.source.utc else resolve_zone(utc=False, name=self.choice.time_zone)
        color = self.env.color(self.output.color)
        self.display = Display(
            self.paged_stdout(), self.env.is_terminal, self.env.columns, color, zone,
            headers=not self.output.no_headers, now=self.env.clock() if self.output.relative else None,
        )  # fmt: skip
        self.fmt = choose_format(self.output.fmt, self.display)

    def paged_stdout(self) -> Output:
        """Stdout, behind a pager when it is a terminal (unless --no-pager or no pager is set)."""
        command = pager_command(self.env.variables)
        if not self.env.is_terminal or self.output.no_pager or not command or not self.env.rows:
            return self.env.stdout
        paged = PagedOutput(
            self.env.stdout, command, self.env.variables, rows=self.env.rows, columns=self.env.columns or 80
        )
        self.ctx.call_on_close(paged.close)
        return paged

    def end_output(self) -> None:
        """Print what is held for the pager (or wait for the user to quit it) before notes go to stderr."""
        if isinstance(self.display.stdout, PagedOutput):
            self.display.stdout.close()

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
        return choose_columns(self.output.fields, self.fmt, default, available)

    def follow_fields(self, columns: Sequence[str]) -> list[str]:
        """The fields `tail -f` reads: the columns, and in a table the exception shown under a failure."""
        extra = self.fmt == "table" and "exc_text" in self.repo.columns and "exc_text" not in columns
        return [*columns, "exc_text"] if extra else list(columns)

    def ask_for(self, count: int | None) -> int | None:
        """How many to ask for under `-n`/`--head` N: one more on a terminal, to tell whether more exist."""
        return count + 1 if count and self.display.is_terminal else count

    def limited(
        self,
        rows: Iterable[Row],
        noun: str,
        *,
        head: int | None = None,
        last: int | None = None,
        counted: bool = False,
        reverse: bool = False,
    ) -> Iterable[Row]:
        """The rows `-n`/`--head` keep of those asked for with `ask_for` (`counted`: of every match); on
        a terminal, a cut is told: `5 of 387 runs` when counted, else `20 records; more exist`."""
        shown, seen = cut(rows, head=head, last=last, reverse=reverse)
        count = head if head is not None else last
        if count is not None and self.display.is_terminal and seen > count:
            self.limit_note = f"{count} of {seen} {noun}" if counted else f"{count} {noun}; more exist"
        return shown

    def record_columns(self) -> tuple[str, ...]:
        """The default columns of records: the core four, and `message` where the store has it."""
        return RECORD_FIELDS + (("message",) if "message" in self.repo.columns else ())

    def emit(self, rows: Iterable[Row], columns: Sequence[str], empty: str = "no matching records") -> int:
        """Print rows; exit 0 when there were some, else 1 (with a note under a table)."""
        return self.finish(render(rows, columns, self.fmt, self.display), empty)

    def finish(self, count: int, empty: str = "no matching records") -> int:
        """Report skipped rows, an empty table and a limit's cut; exit 0 when something matched, else 1."""
        self.end_output()
        if not count and self.fmt == "table":
            self.diagnostics.note(empty + self.window())
        if self.limit_note is not None:
            self.diagnostics.note(self.limit_note)
        if "repo" in self.__dict__ and self.repo.skipped:
            self.diagnostics.warning(
                f"skipped {self.repo.skipped} malformed row(s) in {self.repo.label} "
                f"(e.g. {self.repo.first_malformed}; --strict fails on them)"
            )
        return ExitCode.OK if count else ExitCode.NO_MATCH

    def window(self) -> str:
        """` from A to B` when -S/-U narrowed what was looked at (the times resolved, as journalctl -v)."""
        if self.filters is None or (self.filters.since is None and self.filters.until is None):
            return ""
        query = self.repo.query(self.filters.api())
        return " " + window_text(query.since, query.until, self.display.zone)

    def follow(self, following: Following, columns: Sequence[str]) -> int:
        """Print the backlog, then each new record as it comes, until Ctrl-C (exit 0: how follow ends)."""
        import gc

        gc.enable()  # hours of polling: let the collector run
        stream = None
        try:
            unpaged = replace(self.display, stdout=self.env.stdout)  # never a pager for -f
            stream = follow_stream(columns, self.fmt, unpaged, following.backlog)
            for row in following:
                stream.write(row)
        except KeyboardInterrupt:
            pass
        finally:
            if stream is not None:
                stream.close()
            following.close()
        return ExitCode.OK

    def wait_for_store(self, interval: float) -> None:
        """With --wait: until the file the repo names exists and has content."""
        wait_for(self.choice.spec, interval=interval, note=self.diagnostics.note, sleep=self.env.sleep)
