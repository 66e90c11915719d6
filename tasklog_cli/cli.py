"""The Typer app: options become a Query and a Selection, sources answer, render writes, errors exit."""

import gc
import os
import shutil
import sys
import time
import traceback
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from typer.core import TyperGroup

from tasklog_cli import __version__
from tasklog_cli.checks import CHECK_FIELDS, Limits, find_problems
from tasklog_cli.completion import (
    complete_fields,
    complete_repo,
    complete_run_id,
    complete_table,
    complete_task,
)
from tasklog_cli.errors import ExitCode, TasklogError, UsageError
from tasklog_cli.follow import follow
from tasklog_cli.models import Action
from tasklog_cli.query import Query, build_query
from tasklog_cli.render import (
    Display,
    Format,
    default_format,
    follow_stream,
    render,
    render_mapping,
    render_timeline,
)
from tasklog_cli.reports import (
    RUN_FIELDS,
    RUNTIME_FIELDS,
    RUNTIME_TABLE_FIELDS,
    TASK_FIELDS,
    Bucket,
    numbered_runs,
    record_row,
    record_rows,
    run_row,
    runtime_report,
    task_rows,
    timeline_rows,
    timeline_run,
    worst_first,
)
from tasklog_cli.runs import FAILURES, RUNNING, Run, run_selector
from tasklog_cli.shell_completion import completion_app
from tasklog_cli.sources import OpenOptions, Selection, Source, open_source
from tasklog_cli.sources.base import check_names
from tasklog_cli.times import TIME_FORMATS_HELP, Zone, iso_utc, parse_span, resolve_zone

if TYPE_CHECKING:
    from typer import _click as click

    from tasklog_cli.config import RepoChoice

DEFAULT_RECORD_FIELDS = ("created", "task_name", "action", "run_id")


class ColorChoice(StrEnum):
    """When tables use colour."""

    AUTO = "auto"
    ALWAYS = "always"
    NEVER = "never"


class SortKey(StrEnum):
    """What `--sort` can order records by."""

    CREATED = "created"


class TasklogGroup(TyperGroup):
    """Runs the app with standalone_mode=False so every error ends as one line and a documented exit code."""

    def main(  # type: ignore[override]
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        argv = list(sys.argv[1:] if args is None else args)
        debug = "--debug" in argv or bool(os.environ.get("TASKLOG_DEBUG"))
        # A command builds millions of short-lived, acyclic tuples on a large store: cycle collection
        # would only cost time there (up to half of it). It is back on when the command ends.
        collecting = gc.isenabled()
        gc.disable()
        try:
            code = run_guarded(
                lambda: super(TasklogGroup, self).main(
                    args=argv, prog_name=prog_name or "tasklog", complete_var=complete_var,
                    standalone_mode=False, **extra,
                ),
                debug=debug,
            )  # fmt: skip
        finally:
            if collecting:
                gc.enable()
        sys.exit(code)

    def invoke(self, ctx: "click.Context") -> Any:
        """Run the command; a reader that closed the pipe (`| head`) ends it quietly."""
        try:
            return super().invoke(ctx)
        except BrokenPipeError:
            silence_stdout()
            return ExitCode.OK


def run_guarded(invoke: Any, *, debug: bool) -> int:
    """Invoke the app, turning every exception into one stderr line and an exit code."""
    try:
        result = invoke()
        return int(result) if isinstance(result, int) else ExitCode.OK
    except TasklogError as exc:
        return fail(str(exc), exc.exit_code, debug=debug)
    except typer.TyperException as exc:  # Click's usage errors; Typer words pydantic's as "Value error, ..."
        return fail(exc.format_message().replace("Value error, ", ""), ExitCode.USAGE, debug=debug)
    except (KeyboardInterrupt, typer.Abort):
        print("tasklog: interrupted", file=sys.stderr)
        return ExitCode.INTERRUPTED
    except Exception as exc:  # a bug: still one line unless --debug
        return fail(
            f"unexpected {type(exc).__name__}: {exc} (--debug shows where)", ExitCode.SOURCE, debug=debug
        )


def fail(message: str, code: ExitCode, *, debug: bool) -> int:
    """Print `tasklog: error: ...` (and the traceback under --debug); return the exit code."""
    if debug:
        traceback.print_exc()
    print(f"tasklog: error: {' '.join(message.split())}", file=sys.stderr)
    return code


def silence_stdout() -> None:
    """After the reader of a pipe went away, send what is left to /dev/null so the exit is quiet."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


app = typer.Typer(
    cls=TasklogGroup,
    name="tasklog",
    help="Inspect the task logs that Rocketry and fastapi-taskflow write: filter, pair runs, render.",
    add_completion=False,
    pretty_exceptions_show_locals=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)

app.add_typer(completion_app)

RepoOption = Annotated[
    str | None,
    typer.Option(
        "--repo", "-r", metavar="SPEC", show_default=False, autocompletion=complete_repo,
        help="Log store: a CSV/JSON/SQLite path, a SQLAlchemy URL, 'demo', or package.module:attr "
        "[env: TASKLOG_REPO].",
    ),
]  # fmt: skip
DebugOption = Annotated[bool, typer.Option("--debug", help="Show the traceback of an error.")]
TaskOption = Annotated[
    list[str] | None,
    typer.Option(
        "--task", "-t", metavar="NAME", autocompletion=complete_task,
        help="Task name or glob (nightly_*); repeatable.",
    ),
]  # fmt: skip
ActionOption = Annotated[
    list[Action] | None,
    typer.Option(
        "--action",
        "-a",
        metavar="ACTION",
        case_sensitive=False,
        help="run, success, fail, terminate, inaction or crash; repeatable.",
    ),
]
RunIdOption = Annotated[
    list[str] | None,
    typer.Option("--run-id", metavar="ID", autocompletion=complete_run_id, help="Run id; repeatable."),
]
SinceOption = Annotated[
    str | None, typer.Option("--since", "-S", metavar="TIME", help=f"From this time on: {TIME_FORMATS_HELP}.")
]
UntilOption = Annotated[str | None, typer.Option("--until", "-U", metavar="TIME", help="Before this time.")]
GrepOption = Annotated[
    str | None, typer.Option("--grep", "-g", metavar="REGEX", help="Regex searched in message and exc_text.")
]
IgnoreCaseOption = Annotated[bool, typer.Option("--ignore-case", "-i", help="Make --grep ignore case.")]
WhereOption = Annotated[
    list[str] | None,
    typer.Option(
        "--where", "-w", metavar="'FIELD OP VALUE'",
        help="Condition on any field, OP one of = != < <= > >= ~ (glob); repeatable (AND).",
    ),
]  # fmt: skip
LevelOption = Annotated[str | None, typer.Option("--level", metavar="LEVEL", help="Minimum levelname.")]
FormatOption = Annotated[
    Format | None,
    typer.Option("--format", "-o", metavar="FORMAT",
                 help="table, plain, tsv, csv, json or jsonl [default: table on a terminal, else plain].",
                 case_sensitive=False, show_default=False),
]  # fmt: skip
FieldsOption = Annotated[
    str | None,
    typer.Option(
        "--fields", metavar="A,B", autocompletion=complete_fields, help="Columns to print, or 'all'."
    ),
]
ColorOption = Annotated[
    ColorChoice,
    typer.Option(
        "--color",
        metavar="WHEN",
        help="auto, always or never: colour in tables (NO_COLOR, FORCE_COLOR apply).",
    ),
]
UtcOption = Annotated[bool, typer.Option("--utc", help="Read naive times and show times in UTC.")]
TableOption = Annotated[
    str | None,
    typer.Option("--table", metavar="NAME", autocompletion=complete_table, help="SQL table to read."),
]
StrictOption = Annotated[bool, typer.Option("--strict", help="Fail (exit 3) on a malformed row.")]
RetryWindowOption = Annotated[
    str,
    typer.Option(
        "--retry-window", metavar="SPAN",
        help="A run starting this soon after a failed run of its task is its retry (Rocketry).",
    ),
]  # fmt: skip
LastRunsOption = Annotated[
    int | None, typer.Option("-n", "--last", min=0, metavar="N", help="Only the last N runs.")
]


@dataclass
class Invocation:
    """One command's opened source, its display and its clock."""

    source: Source
    display: Display
    fmt: Format
    zone: Zone
    now: datetime
    chosen_by: str

    def query(self, **options: Any) -> Query:
        """Build the Query and check its fields exist in this store."""
        query = build_query(now=self.now, zone=self.zone, **options)
        for condition in query.where:
            self.source.check_fields([condition.field], "--where")
        if query.level is not None:
            self.source.check_fields(["levelname"], "--level")
        if query.grep is not None and not {"message", "exc_text"} & set(self.source.columns):
            raise UsageError(f"--grep needs a message or exc_text column; {self.source.label} has neither")
        return query

    def fields(
        self, requested: str | None, default: Sequence[str], available: Sequence[str] | None = None
    ) -> list[str]:
        """The columns to print: `--fields`, else the default (every column for json/jsonl)."""
        available = self.source.record_columns if available is None else available
        if requested is None:
            return list(available if self.fmt in (Format.JSON, Format.JSONL) else default)
        if requested.strip() == "all":
            return list(available)
        names = [name.strip() for name in requested.split(",") if name.strip()]
        if not names:
            raise UsageError(f"--fields names no field: use A,B or 'all' (fields: {', '.join(available)})")
        check_names(names, available, "--fields")
        return names

    def record_fields(self) -> tuple[str, ...]:
        """The default columns of records: the core four, and `message` where the store has it."""
        return DEFAULT_RECORD_FIELDS + (("message",) if "message" in self.source.columns else ())

    def runs(self, query: Query, retry_window: str, fields: Collection[str] = ()) -> Iterator[Run]:
        """Every run of the query's tasks, paired over their whole history."""
        return self.source.runs(query, parse_span(retry_window), fields=set(fields) | query.fields())

    def finish(self, count: int) -> int:
        """Report skipped rows; exit 0 when something matched, else 1."""
        if self.source.skipped:
            print(
                f"tasklog: warning: skipped {self.source.skipped} malformed row(s) in {self.source.label} "
                "(--strict fails on them)",
                file=sys.stderr,
            )
        return ExitCode.OK if count else ExitCode.NO_MATCH


def environment_display(color_choice: ColorChoice, zone: Zone) -> Display:
    """The Display of this process: stdout, terminal or not, width and colour from the environment."""
    stdout = sys.stdout
    is_terminal = stdout.isatty()
    columns = os.environ.get("COLUMNS", "")
    width = (
        shutil.get_terminal_size().columns if is_terminal else (int(columns) if columns.isdigit() else None)
    )
    if color_choice is ColorChoice.AUTO:
        color = not os.environ.get("NO_COLOR") and (is_terminal or bool(os.environ.get("FORCE_COLOR")))
    else:
        color = color_choice is ColorChoice.ALWAYS
    return Display(stdout=stdout, is_terminal=is_terminal, width=width, color=color, zone=zone)


def pick_repo(ctx: typer.Context, repo: str | None) -> "RepoChoice":
    """The source to open: -r after the command, -r before it, TASKLOG_REPO, the config's default."""
    from tasklog_cli.config import choose_repo, load_config  # pydantic, only when a repo is opened

    flag = repo or (ctx.obj or {}).get("repo")
    return choose_repo(flag, os.environ.get("TASKLOG_REPO"), load_config())


def open_invocation(
    ctx: typer.Context,
    repo: str | None,
    *,
    fmt: Format | None = None,
    color: ColorChoice = ColorChoice.AUTO,
    utc: bool = False,
    table: str | None = None,
    strict: bool = False,
) -> Invocation:
    """Resolve the repo, open it and prepare the display."""
    choice = pick_repo(ctx, repo)
    zone = resolve_zone(utc=utc, name=choice.time_zone)
    options = OpenOptions(zone=zone, strict=strict, table=table or choice.table, allow_code=choice.allow_code)
    source = open_source(choice.spec, options)
    ctx.call_on_close(source.close)
    display = environment_display(color, zone)
    return Invocation(
        source=source,
        display=display,
        fmt=default_format(fmt, display),
        zone=zone,
        now=datetime.now(UTC),
        chosen_by=choice.chosen_by,
    )


def version_callback(value: bool) -> None:
    if value:
        print(f"tasklog {__version__}")
        raise typer.Exit()


@app.callback(invoke_without_command=True)
def main_callback(
    ctx: typer.Context,
    repo: RepoOption = None,
    debug: DebugOption = False,
    version: Annotated[
        bool, typer.Option("--version", callback=version_callback, is_eager=True, help="Show the version.")
    ] = False,
) -> None:
    """Inspect task logs: filter records, pair runs, render tables and timelines."""
    ctx.obj = {"repo": repo}
    if ctx.invoked_subcommand is None and not ctx.resilient_parsing:
        print(ctx.get_help(), file=sys.stderr)  # no command: the help, and the usage exit code
        raise typer.Exit(ExitCode.USAGE)


@app.command("ls")
def ls_command(
    ctx: typer.Context,
    repo: RepoOption = None,
    task: TaskOption = None,
    action: ActionOption = None,
    run_id: RunIdOption = None,
    since: SinceOption = None,
    until: UntilOption = None,
    grep: GrepOption = None,
    ignore_case: IgnoreCaseOption = False,
    where: WhereOption = None,
    level: LevelOption = None,
    last: Annotated[
        int | None, typer.Option("-n", "--last", min=0, metavar="N", help="Only the last N records.")
    ] = None,
    head: Annotated[
        int | None, typer.Option("--head", min=0, metavar="N", help="Only the first N records.")
    ] = None,
    sort: Annotated[
        SortKey | None, typer.Option("--sort", metavar="created", help="Order by created time (buffers).")
    ] = None,
    fmt: FormatOption = None,
    fields: FieldsOption = None,
    color: ColorOption = ColorChoice.AUTO,
    utc: UtcOption = False,
    table: TableOption = None,
    strict: StrictOption = False,
    debug: DebugOption = False,
) -> int:
    """List the records that match, in store order."""
    if last is not None and head is not None:
        raise UsageError("-n/--last and --head exclude each other: pick one")
    run = open_invocation(ctx, repo, fmt=fmt, color=color, utc=utc, table=table, strict=strict)
    query = run.query(
        tasks=task or (), actions=action or (), run_ids=run_id or (), since=since, until=until,
        grep=grep, ignore_case=ignore_case, where=where or (), level=level,
    )  # fmt: skip
    columns = run.fields(fields, run.record_fields())
    selection = Selection(head=head, last=last, sort_created=sort is SortKey.CREATED)
    records = run.source.select(query, selection, fields=columns)
    return run.finish(render(record_rows(records, columns), columns, run.fmt, run.display))


@app.command("tail")
def tail_command(
    ctx: typer.Context,
    repo: RepoOption = None,
    task: TaskOption = None,
    action: ActionOption = None,
    run_id: RunIdOption = None,
    since: SinceOption = None,
    until: UntilOption = None,
    grep: GrepOption = None,
    ignore_case: IgnoreCaseOption = False,
    where: WhereOption = None,
    level: LevelOption = None,
    last: Annotated[int, typer.Option("-n", "--last", min=0, metavar="N", help="How many records.")] = 10,
    follow_new: Annotated[bool, typer.Option("-f", "--follow", help="Keep printing new records.")] = False,
    interval: Annotated[
        float, typer.Option("--interval", min=0.01, metavar="SECONDS", help="How often -f looks.")
    ] = 0.5,
    overlap: Annotated[
        float,
        typer.Option(
            "--overlap",
            min=0,
            metavar="SECONDS",
            help="How far back -f re-reads a SQL table that has no growing key.",
        ),
    ] = 5.0,
    wait: Annotated[bool, typer.Option("--wait", help="Wait for a file that does not exist yet.")] = False,
    fmt: FormatOption = None,
    fields: FieldsOption = None,
    color: ColorOption = ColorChoice.AUTO,
    utc: UtcOption = False,
    table: TableOption = None,
    strict: StrictOption = False,
    debug: DebugOption = False,
) -> int:
    """Print the last records that match; with -f, print each new one as it is written, until Ctrl-C."""
    if wait:
        wait_for_file(pick_repo(ctx, repo).spec, interval)
    run = open_invocation(ctx, repo, fmt=fmt, color=color, utc=utc, table=table, strict=strict)
    query = run.query(
        tasks=task or (), actions=action or (), run_ids=run_id or (), since=since, until=until,
        grep=grep, ignore_case=ignore_case, where=where or (), level=level,
    )  # fmt: skip
    columns = run.fields(fields, run.record_fields())
    if not follow_new:
        records = run.source.select(query, Selection(last=last), fields=columns)
        return run.finish(render(record_rows(records, columns), columns, run.fmt, run.display))
    watch = run.source.watch(query, columns, note, overlap=overlap)
    gc.enable()  # hours of polling: let the collector run
    stream = None
    try:
        backlog = list(record_rows(watch.backlog(last), columns))
        stream = follow_stream(columns, run.fmt, run.display, backlog)
        for row in backlog:
            stream.write(row)
        follow(watch, lambda record: stream.write(record_row(record, columns)), interval=interval)
    except KeyboardInterrupt:
        pass  # Ctrl-C is how follow mode ends
    finally:
        if stream is not None:
            stream.close()
        watch.close()
    return ExitCode.OK


def note(message: str) -> None:
    """A one-line note on stderr (stdout is data)."""
    print(f"tasklog: {message}", file=sys.stderr, flush=True)


def wait_for_file(spec: str, interval: float) -> None:
    """With --wait: until a file named by SPEC exists and has content (URLs and the like need no wait)."""
    if "://" in spec or spec == "demo":
        return
    path = Path(spec).expanduser()
    announced = False
    while not path.exists() or (path.is_file() and path.stat().st_size == 0):
        if not announced:
            note(f"waiting for {path}")
            announced = True
        time.sleep(interval)


@app.command("check")
def check_command(
    ctx: typer.Context,
    repo: RepoOption = None,
    task: TaskOption = None,
    run_id: RunIdOption = None,
    since: SinceOption = None,
    until: UntilOption = None,
    grep: GrepOption = None,
    ignore_case: IgnoreCaseOption = False,
    where: WhereOption = None,
    level: LevelOption = None,
    max_age: Annotated[
        str | None, typer.Option("--max-age", metavar="SPAN", help="Fail when no run succeeded within SPAN.")
    ] = None,
    max_failures: Annotated[
        int | None, typer.Option("--max-failures", min=1, metavar="N", help="Fail on N failures in a row.")
    ] = None,
    max_duration: Annotated[
        str | None,
        typer.Option(
            "--max-duration",
            metavar="SPAN",
            help="Fail when a run has been running, or the last one ran, longer than SPAN.",
        ),
    ] = None,
    retry_window: RetryWindowOption = "10m",
    fmt: FormatOption = None,
    fields: FieldsOption = None,
    color: ColorOption = ColorChoice.AUTO,
    utc: UtcOption = False,
    table: TableOption = None,
    strict: StrictOption = False,
    debug: DebugOption = False,
) -> int:
    """One line per problem, for cron and monitoring: exit 0 when healthy, 1 when a check failed."""
    if max_age is None and max_failures is None and max_duration is None:
        raise UsageError("check needs --max-age, --max-failures or --max-duration")
    limits = Limits(
        max_age=None if max_age is None else parse_span(max_age),
        max_failures=max_failures,
        max_duration=None if max_duration is None else parse_span(max_duration),
    )
    run = open_invocation(ctx, repo, fmt=fmt, color=color, utc=utc, table=table, strict=strict)
    query = run.query(tasks=task or (), run_ids=run_id or (), since=since, until=until, grep=grep,
                      ignore_case=ignore_case, where=where or (), level=level)  # fmt: skip
    selected = filter(run_selector(query), run.runs(query, retry_window))
    expected = [name for name in task or () if name not in query.task_globs()]
    problems = find_problems(selected, expected, limits, run.now.timestamp())
    columns = run.fields(fields, CHECK_FIELDS if run.fmt in (Format.JSON, Format.JSONL) else
                         ("task_name", "check", "problem"), CHECK_FIELDS)  # fmt: skip
    render(problems, columns, run.fmt, run.display, empty_note="all checks passed")
    return ExitCode.CHECK_FAILED if problems else ExitCode.OK


@app.command("info")
def info_command(
    ctx: typer.Context,
    repo: RepoOption = None,
    fmt: FormatOption = None,
    utc: UtcOption = False,
    table: TableOption = None,
    debug: DebugOption = False,
) -> int:
    """Describe the source: what it is, its model, columns, size, time span, tasks and indexes."""
    run = open_invocation(ctx, repo, fmt=fmt, utc=utc, table=table)
    source = run.source
    summary = source.summary()
    facts: dict[str, Any] = {
        "source": source.label,
        "chosen_by": run.chosen_by,
        "kind": source.kind,
        "model": source.model,
        **source.details(),
        "columns": list(source.columns),
        "records": summary.records,
        "first": None if summary.first is None else iso_utc(summary.first),
        "last": None if summary.last is None else iso_utc(summary.last),
        "tasks": summary.tasks,
    }
    if source.skipped:
        facts["malformed_rows"] = source.skipped
    render_mapping(facts, run.fmt, run.display)
    return ExitCode.OK


class OutcomeChoice(StrEnum):
    """The outcomes a run can have."""

    SUCCESS = "success"
    FAIL = "fail"
    TERMINATE = "terminate"
    INACTION = "inaction"
    CRASH = "crash"
    RUNNING = "running"


@app.command("runs")
def runs_command(
    ctx: typer.Context,
    repo: RepoOption = None,
    task: TaskOption = None,
    run_id: RunIdOption = None,
    since: SinceOption = None,
    until: UntilOption = None,
    grep: GrepOption = None,
    ignore_case: IgnoreCaseOption = False,
    where: WhereOption = None,
    level: LevelOption = None,
    outcome: Annotated[
        list[OutcomeChoice] | None,
        typer.Option(
            "--outcome",
            metavar="OUTCOME",
            case_sensitive=False,
            help="success, fail, terminate, inaction, crash or running; repeatable.",
        ),
    ] = None,
    running: Annotated[bool, typer.Option("--running", help="Only runs still running.")] = False,
    failed: Annotated[
        bool, typer.Option("--failed", help="Only failed runs: fail, terminate, crash.")
    ] = False,
    last: LastRunsOption = None,
    retry_window: RetryWindowOption = "10m",
    fmt: FormatOption = None,
    fields: FieldsOption = None,
    color: ColorOption = ColorChoice.AUTO,
    utc: UtcOption = False,
    table: TableOption = None,
    strict: StrictOption = False,
    debug: DebugOption = False,
) -> int:
    """List runs: each `run` record paired with its finish, with duration, outcome and attempt."""
    run = open_invocation(ctx, repo, fmt=fmt, color=color, utc=utc, table=table, strict=strict)
    query = run.query(tasks=task or (), run_ids=run_id or (), since=since, until=until, grep=grep,
                      ignore_case=ignore_case, where=where or (), level=level)  # fmt: skip
    outcomes = {str(choice) for choice in outcome or ()}
    outcomes |= {RUNNING} if running else set()
    outcomes |= set(FAILURES) if failed else set()
    selected = sorted(
        filter(run_selector(query, outcomes), run.runs(query, retry_window)), key=lambda r: r.moment
    )
    if last is not None:
        selected = selected[-last:] if last else []
    available = RUN_FIELDS + (("status",) if any(item.status for item in selected) else ())
    columns = run.fields(fields, available, available)
    return run.finish(render((run_row(item) for item in selected), columns, run.fmt, run.display))


@app.command("runtimes")
def runtimes_command(
    ctx: typer.Context,
    repo: RepoOption = None,
    task: TaskOption = None,
    run_id: RunIdOption = None,
    since: SinceOption = None,
    until: UntilOption = None,
    grep: GrepOption = None,
    ignore_case: IgnoreCaseOption = False,
    where: WhereOption = None,
    level: LevelOption = None,
    by: Annotated[Bucket | None, typer.Option("--by", metavar="hour|day", help="Add a time bucket.")] = None,
    retry_window: RetryWindowOption = "10m",
    fmt: FormatOption = None,
    fields: FieldsOption = None,
    color: ColorOption = ColorChoice.AUTO,
    utc: UtcOption = False,
    table: TableOption = None,
    strict: StrictOption = False,
    debug: DebugOption = False,
) -> int:
    """Per-task statistics: runs by outcome, success rate, and min / p50 / p95 / max / mean duration."""
    run = open_invocation(ctx, repo, fmt=fmt, color=color, utc=utc, table=table, strict=strict)
    query = run.query(tasks=task or (), run_ids=run_id or (), since=since, until=until, grep=grep,
                      ignore_case=ignore_case, where=where or (), level=level)  # fmt: skip
    terminal = run.fmt is Format.TABLE and run.display.is_terminal
    rows = runtime_report(run.source, query, parse_span(retry_window), by=by, zone=run.zone, recent=terminal)
    bucket = ("bucket",) if by is not None else ()
    available = ("task_name", *bucket, *RUNTIME_FIELDS[1:])
    # A table is for reading: the figures people look at first, and on a terminal the recent runs drawn.
    readable = ("task_name", *bucket, *RUNTIME_TABLE_FIELDS, *(("recent", "outcomes") if terminal else ()))
    columns = run.fields(fields, readable if run.fmt is Format.TABLE else available, available)
    return run.finish(render(rows, columns, run.fmt, run.display))


@app.command("tasks")
def tasks_command(
    ctx: typer.Context,
    repo: RepoOption = None,
    task: TaskOption = None,
    run_id: RunIdOption = None,
    since: SinceOption = None,
    until: UntilOption = None,
    grep: GrepOption = None,
    ignore_case: IgnoreCaseOption = False,
    where: WhereOption = None,
    level: LevelOption = None,
    retry_window: RetryWindowOption = "10m",
    fmt: FormatOption = None,
    fields: FieldsOption = None,
    color: ColorOption = ColorChoice.AUTO,
    utc: UtcOption = False,
    table: TableOption = None,
    strict: StrictOption = False,
    debug: DebugOption = False,
) -> int:
    """One row per task, health at a glance: runs, last start, outcome and duration, success rate, streak."""
    run = open_invocation(ctx, repo, fmt=fmt, color=color, utc=utc, table=table, strict=strict)
    query = run.query(tasks=task or (), run_ids=run_id or (), since=since, until=until, grep=grep,
                      ignore_case=ignore_case, where=where or (), level=level)  # fmt: skip
    rows = task_rows(filter(run_selector(query), run.runs(query, retry_window)))
    if run.fmt is Format.TABLE:
        rows = worst_first(rows)
    columns = run.fields(fields, TASK_FIELDS, TASK_FIELDS)
    return run.finish(render(rows, columns, run.fmt, run.display))


@app.command("timeline")
def timeline_command(
    ctx: typer.Context,
    tasks: Annotated[
        list[str],
        typer.Argument(
            metavar="TASK...", help="Task names or globs.", show_default=False, autocompletion=complete_task
        ),
    ],
    repo: RepoOption = None,
    run_id: RunIdOption = None,
    since: SinceOption = None,
    until: UntilOption = None,
    grep: GrepOption = None,
    ignore_case: IgnoreCaseOption = False,
    where: WhereOption = None,
    level: LevelOption = None,
    last: LastRunsOption = None,
    full: Annotated[bool, typer.Option("--full", help="Show whole tracebacks and messages.")] = False,
    retry_window: RetryWindowOption = "10m",
    fmt: FormatOption = None,
    fields: FieldsOption = None,
    color: ColorOption = ColorChoice.AUTO,
    utc: UtcOption = False,
    table: TableOption = None,
    strict: StrictOption = False,
    debug: DebugOption = False,
) -> int:
    """A task's history run by run: its records and messages, with `--- Retry N ---` between attempts."""
    run = open_invocation(ctx, repo, fmt=fmt, color=color, utc=utc, table=table, strict=strict)
    query = run.query(tasks=tasks, run_ids=run_id or (), since=since, until=until, grep=grep,
                      ignore_case=ignore_case, where=where or (), level=level)  # fmt: skip
    text_columns = [name for name in ("message", "exc_text") if name in run.source.columns]
    keep = run_selector(query)
    by_task: dict[str, list[tuple[int, Run]]] = {}
    totals: dict[str, int] = {}
    for number, item in numbered_runs(run.runs(query, retry_window, fields=text_columns)):
        totals[item.task_name] = number
        if keep(item):
            by_task.setdefault(item.task_name, []).append((number, item))
    if last is not None:
        by_task = {name: numbered[-last:] if last else [] for name, numbered in by_task.items()}
    if run.fmt in (Format.TABLE, Format.PLAIN):
        groups = [
            (name, totals[name], [timeline_run(number, item, text_columns) for number, item in numbered])
            for name, numbered in sorted(by_task.items())
            if numbered
        ]
        return run.finish(render_timeline(groups, run.fmt, run.display, full=full))
    available = ["run", "attempt", *run.source.record_columns]
    columns = run.fields(fields, ["run", "attempt", *DEFAULT_RECORD_FIELDS, *text_columns], available)
    numbered_selection = [pair for name in sorted(by_task) for pair in by_task[name]]
    return run.finish(render(timeline_rows(numbered_selection, columns), columns, run.fmt, run.display))
