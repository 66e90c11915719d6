"""The commands: each turns its options into one API call and renders what comes back."""

from dataclasses import dataclass, field
from typing import Annotated

import typer

from tasklog_cli.cli.flatten import command
from tasklog_cli.cli.group import make_app
from tasklog_cli.cli.invocation import Invocation
from tasklog_cli.cli.options import (
    SELECTION,
    InfoOutput,
    LastRuns,
    RecordFilters,
    RetryWindow,
    Reverse,
    RunFilters,
    option,
)
from tasklog_cli.completion import complete_task
from tasklog_cli.errors import ExitCode, UsageError
from tasklog_cli.models import Outcome
from tasklog_cli.render import HUMAN_FORMATS, render_facts, render_timeline
from tasklog_cli.reports import Bucket, timeline_rows, worst_first
from tasklog_cli.results import CHECK_FIELDS, RECORD_FIELDS, RUNTIME_FIELDS, TASK_FIELDS

app = make_app()
RUNTIME_TABLE_FIELDS = (
    "runs",
    "success",
    "failed",
    "success_rate",
    "p50",
    "p95",
    "max",
    "last_start",
    "last_outcome",
)
Count = int | None


@dataclass(frozen=True)
class ListOptions:
    last: Annotated[Count, option("--last", "-n", panel=SELECTION, metavar="N", key="last_records")] = None
    head: Annotated[Count, option("--head", panel=SELECTION, metavar="N")] = None
    sort: Annotated[
        str | None, option("--sort", panel=SELECTION, metavar="created", choices=("created",))
    ] = None
    reverse: Reverse = False


@command(app, "ls")
def ls(run: Invocation, filters: RecordFilters, options: ListOptions) -> int:
    """List the records that match, in store order."""
    if options.sort not in (None, "created"):
        raise UsageError(f"unknown --sort {options.sort!r}: use created")
    columns = run.columns(run.record_columns())
    records = run.repo.records(
        last=run.ask_for(options.last), head=run.ask_for(options.head), sort_created=options.sort is not None,
        fields=columns, action=filters.action or (), **filters.api(),
    )  # fmt: skip
    shown = run.limited(records, "records", head=options.head, last=options.last, reverse=options.reverse)
    return run.emit(shown, columns)


@dataclass(frozen=True)
class TailOptions:
    last: Annotated[int, option("--last", "-n", panel=SELECTION, metavar="N", key="tail_last")] = 10
    follow: Annotated[bool, option("--follow", "-f", panel=SELECTION)] = False
    interval: Annotated[float, option("--interval", panel=SELECTION, metavar="SECONDS")] = 0.5
    overlap: Annotated[float, option("--overlap", panel=SELECTION, metavar="SECONDS")] = 5.0
    wait: Annotated[bool, option("--wait", panel=SELECTION)] = False


@command(app, "tail")
def tail(run: Invocation, filters: RecordFilters, options: TailOptions) -> int:
    """Print the last records that match; with -f, print each new one as it is written, until Ctrl-C."""
    if options.wait:
        try:
            run.wait_for_store(options.interval)
        except KeyboardInterrupt:
            return ExitCode.OK  # --wait is follow mode too
    columns = run.columns(run.record_columns())
    actions = filters.action or ()
    if not options.follow:
        found = run.repo.records(
            last=run.ask_for(options.last), fields=columns, action=actions, **filters.api()
        )
        return run.emit(run.limited(found, "records", last=options.last), columns)
    following = run.repo.follow(
        last=options.last, interval=options.interval, overlap=options.overlap,
        fields=run.follow_fields(columns), on_note=run.diagnostics.note, sleep=run.env.sleep,
        action=actions, **filters.api(),
    )  # fmt: skip
    return run.follow(following, columns)


@dataclass(frozen=True)
class RunOptions:
    outcome: Annotated[
        list[str] | None,
        option("--outcome", panel=SELECTION, metavar="OUTCOME", choices=Outcome),
    ] = None
    running: Annotated[bool, option("--running", panel=SELECTION)] = False
    failed: Annotated[bool, option("--failed", panel=SELECTION)] = False
    last: LastRuns = None
    reverse: Reverse = False
    retry_window: RetryWindow = "10m"


@command(app, "runs")
def runs(run: Invocation, filters: RunFilters, options: RunOptions) -> int:
    """List runs: each `run` record paired with its finish, with duration, outcome and attempt."""
    counted = run.display.is_terminal and options.last is not None  # a terminal is told how many there were
    found = run.repo.iter_runs(
        outcome=options.outcome or (), running=options.running, failed=options.failed,
        last=None if counted else options.last, reverse=options.reverse and not counted,
        retry_window=options.retry_window, **filters.api(),
    )  # fmt: skip
    shown = run.limited(
        found, "runs", last=options.last, counted=counted, reverse=options.reverse and counted
    )
    return run.emit(shown, run.columns(run.repo.run_fields, run.repo.run_fields), "no matching runs")


@dataclass(frozen=True)
class RuntimeOptions:
    by: Annotated[str | None, option("--by", panel=SELECTION, metavar="hour|day", choices=Bucket)] = None
    retry_window: RetryWindow = "10m"


@command(app, "runtimes")
def runtimes(run: Invocation, filters: RunFilters, options: RuntimeOptions) -> int:
    """Per-task statistics: runs by outcome, success rate, and min / p50 / p95 / max / mean duration."""
    drawn = run.fmt == "table" and run.display.is_terminal  # a terminal table draws the recent runs
    rows = run.repo.runtimes(by=options.by, recent=drawn, retry_window=options.retry_window, **filters.api())
    bucket = ("bucket",) if options.by is not None else ()
    available = ("task_name", *bucket, *RUNTIME_FIELDS[1:])
    readable = ("task_name", *bucket, *RUNTIME_TABLE_FIELDS, *(("recent", "outcomes") if drawn else ()))
    return run.emit(
        rows, run.columns(readable if run.fmt == "table" else available, available), "no matching runs"
    )


@dataclass(frozen=True)
class TaskOptions:
    retry_window: RetryWindow = "10m"


@command(app, "tasks")
def tasks(run: Invocation, filters: RunFilters, options: TaskOptions) -> int:
    """One row per task, health at a glance: runs, last start, outcome and duration, success rate, streak."""
    rows = run.repo.tasks(retry_window=options.retry_window, **filters.api())
    shown = worst_first(rows) if run.fmt == "table" else rows
    return run.emit(shown, run.columns(TASK_FIELDS, TASK_FIELDS), "no matching runs")


@dataclass(frozen=True)
class TimelineOptions:
    names: Annotated[
        list[str],
        typer.Argument(
            metavar="TASK...", help="Task names or globs.", show_default=False, autocompletion=complete_task
        ),
    ]
    last: LastRuns = None
    full: Annotated[bool, option("--full", panel=SELECTION)] = False
    retry_window: RetryWindow = "10m"


@command(app, "timeline")
def timeline(run: Invocation, filters: RunFilters, options: TimelineOptions) -> int:
    """A task's history run by run: its records and messages, with `--- Retry N ---` between attempts."""
    found = run.repo.timeline(
        options.names, last=options.last, retry_window=options.retry_window, **filters.api()
    )
    if run.fmt in HUMAN_FORMATS:
        return run.finish(render_timeline(found, run.fmt, run.display, full=options.full), "no matching runs")
    texts = [name for name in ("message", "exc_text") if name in run.repo.columns]
    columns = run.columns(["run", "attempt", *RECORD_FIELDS, *texts], ["run", "attempt", *run.repo.columns])
    return run.emit(timeline_rows(found), columns, "no matching runs")


@dataclass(frozen=True)
class CheckOptions:
    max_age: Annotated[str | None, option("--max-age", panel=SELECTION, metavar="SPAN")] = None
    max_failures: Annotated[Count, option("--max-failures", panel=SELECTION, metavar="N")] = None
    max_duration: Annotated[str | None, option("--max-duration", panel=SELECTION, metavar="SPAN")] = None
    retry_window: RetryWindow = "10m"


@command(app, "check")
def check(run: Invocation, filters: RunFilters, options: CheckOptions) -> int:
    """One line per problem, for cron and monitoring: exit 0 when healthy, 1 when a check failed."""
    problems = run.repo.check(
        max_age=options.max_age, max_failures=options.max_failures, max_duration=options.max_duration,
        retry_window=options.retry_window, **filters.api(),
    )  # fmt: skip
    columns = run.columns(CHECK_FIELDS if run.fmt in ("json", "jsonl") else CHECK_FIELDS[:3], CHECK_FIELDS)
    run.emit(problems, columns, "all checks passed")
    return ExitCode.CHECK_FAILED if problems else ExitCode.OK


@command(app, "info")
def info(run: Invocation, output: InfoOutput) -> int:
    """Describe the source: what it is, its model, columns, size, time span, tasks and indexes."""
    found = run.repo.info()
    facts = {
        "source": found.source, "chosen_by": found.chosen_by, "kind": found.kind, "model": found.model,
        **found.details, "columns": list(found.columns), "records": found.records,
        "first": found.first, "last": found.last, "tasks": dict(found.tasks),
    }  # fmt: skip
    if found.malformed_rows:
        facts["malformed_rows"] = found.malformed_rows
    render_facts(facts, run.fmt, run.display)
    return ExitCode.OK


@dataclass(frozen=True)
class UiOutput:
    """`ui` draws its own screens: no format, fields or colour choice."""

    fmt: None = field(default=None, init=False)
    fields: None = field(default=None, init=False)
    color: str = field(default="auto", init=False)
    no_headers: bool = field(default=False, init=False)
    no_pager: bool = field(default=True, init=False)
    relative: bool = field(default=False, init=False)


@dataclass(frozen=True)
class UiOptions:
    interval: Annotated[
        float, option("--interval", panel=SELECTION, metavar="SECONDS", key="ui_interval")
    ] = 0.5
    retry_window: RetryWindow = "10m"


@command(app, "ui")
def ui(run: Invocation, filters: RecordFilters, options: UiOptions, output: UiOutput) -> int:
    """An interactive dashboard: tasks, runs, a time chart, timelines and a live tail, live as logs grow."""
    if run.choice.spec == "-":
        raise UsageError("ui reads its keys from the terminal: give it a store other than standard input")
    repo = run.repo  # a store that cannot be read fails here, before any screen
    if not (run.env.stderr.isatty() and run.env.stdin.isatty()):
        raise UsageError("ui needs a terminal: run it with standard input and error on a terminal")
    from tasklog_cli.ui.launch import Settings, run_dashboard  # Textual loads only here

    settings = Settings(
        run.source.repo or run.ctx.obj.get("repo"), run.display.zone, run.env.clock,
        interval=options.interval, retry_window=options.retry_window,
    )  # fmt: skip
    return run_dashboard(repo, settings, filters.api(), filters.action or ())
