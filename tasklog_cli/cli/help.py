"""What `--help` shows: the texts and examples of the CLI, and how options and commands are laid out."""

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from tasklog_cli.times import TIME_FORMATS_HELP

if TYPE_CHECKING:
    from typer import _click as click

APP = "Inspect the task logs that Rocketry and fastapi-taskflow write: filter, pair runs, render."

OPTIONS = {
    "repo": "Log store: a CSV/JSON/SQLite path, a SQLAlchemy URL, a config repo name, 'demo', '-' (stdin) "
    "or package.module:attr [env: TASKLOG_REPO].",
    "table": "SQL table to read.",
    "utc": "Read naive times and show times in UTC.",
    "strict": "Fail (exit 3) on a malformed row.",
    "no_index": "Read the whole store instead of the run index that earlier commands kept "
    "[env: TASKLOG_NO_INDEX=1].",
    "format": "table, plain, tsv, csv, json or jsonl [default: table on a terminal, else plain].",
    "fields": "Columns to print, or 'all'.",
    "color": "auto, always or never: colour in tables (NO_COLOR, FORCE_COLOR apply).",
    "no_headers": "Leave out the header line of tsv and csv.",
    "relative": "Show times in tables as how long ago they were (5m 03s ago).",
    "no_pager": "Never send output longer than the screen through a pager [env: TASKLOG_PAGER, PAGER].",
    "task": "Task name or glob (nightly_*); repeatable.",
    "action": "run, success, fail, terminate, inaction, crash (or log); repeatable.",
    "run_id": "Run id; repeatable.",
    "since": f"From this time on: {TIME_FORMATS_HELP}.",
    "until": "Before this time.",
    "grep": "Regex searched in message and exc_text.",
    "ignore_case": "Make --grep ignore case.",
    "where": "Condition on any field, OP one of = != < <= > >= ~ (glob); repeatable (AND).",
    "level": "Minimum levelname.",
    "debug": "Show the traceback of an error.",
    "version": "Show the version.",
    "retry_window": "A run starting this soon after a failed run of its task is its retry (Rocketry) "
    "[default: 10m; 0 turns it off].",
    "last_runs": "Only the last N runs.",
    "last_records": "Only the last N records.",
    "tail_last": "How many records [default: 10].",
    "head": "Only the first N records.",
    "sort": "Order by created time (buffers).",
    "reverse": "Newest first (after -n/--head chose which).",
    "follow": "Keep printing new records.",
    "interval": "How often -f looks, in seconds [default: 0.5].",
    "overlap": "How far back -f re-reads a SQL table that has no growing key, in seconds [default: 5].",
    "wait": "Wait for a file that does not exist yet.",
    "max_age": "Fail when no run succeeded within SPAN.",
    "max_failures": "Fail on N failures in a row.",
    "max_duration": "Fail when a run has been running, or the last one ran, longer than SPAN.",
    "outcome": "success, fail, terminate, inaction, crash or running; repeatable.",
    "running": "Only runs still running.",
    "failed": "Only failed runs: fail, terminate, crash.",
    "by": "Add a time bucket: hour or day.",
    "tasks": "Task names or globs.",
    "full": "Show whole tracebacks and messages.",
    "ui_interval": "How often the dashboard looks for new records, in seconds [default: 0.5].",
}

# Each command's help panel and one-line summary, in the order `tasklog --help` shows them.
COMMANDS = {
    "ls": ("Records", "The records that match, in store order."),
    "tail": ("Records", "The last records; -f prints new ones as they come."),
    "runs": ("Runs", "One row per run: start, end, duration, outcome."),
    "runtimes": ("Runs", "Per task: outcomes, success rate, durations."),
    "tasks": ("Runs", "One row per task: health at a glance."),
    "timeline": ("Runs", "A task's runs with their records and retries."),
    "check": ("Runs", "Health checks for cron: exit 1 on a problem."),
    "info": ("Store", "What a store is: model, columns, size, tasks."),
    "ui": ("Explore", "An interactive dashboard: tasks, runs, time chart, live tail."),
    "completion": ("Setup", "Shell completion: install it, or show the script."),
}
# The order of option panels in a command's help.
OPTION_PANELS = ("Arguments", "Filters", "Selection", "Source", "Output", "Options")

EXAMPLES = {
    "ls": [
        "tasklog ls -r demo -t import_orders -a fail -n 5",
        "tasklog ls -r logs.csv -S '1h ago' -g Timeout -o jsonl",
    ],
    "tail": ["tasklog tail -r demo -n 3", "tasklog tail -f -r sqlite:///app.db -a fail"],
    "runs": ["tasklog runs -r demo --failed -n 10", "tasklog runs -r demo -S yesterday -o csv"],
    "runtimes": ["tasklog runtimes -r demo", "tasklog runtimes -r demo --by day -o jsonl"],
    "tasks": ["tasklog tasks -r demo", "tasklog tasks -r demo -t 'nightly_*' -o json"],
    "timeline": ["tasklog timeline -r demo flaky_retry -n 3", "tasklog timeline -r demo 'fetch_*' --full"],
    "check": [
        "tasklog check -r demo --max-age 1d --max-failures 3",
        "tasklog check -r app.db -t backup --max-duration 2h",
    ],
    "info": ["tasklog info -r demo", "tasklog info -r postgresql://host/db -o json"],
    "ui": ["tasklog ui -r demo", "tasklog ui -r sqlite:///app.db -t 'nightly_*' -S 24h"],
}


def examples(command: str) -> str:
    """A command's examples as its help's epilog, one per line."""
    return "Examples:\n\n\b\n" + "\n".join(f"  {line}" for line in EXAMPLES[command])


def write_options(params: Sequence["click.Parameter"], ctx: "click.Context", formatter: Any) -> None:
    """Options in their help panels (Filters, Selection, Source, Output), in a fixed order."""
    sections: dict[str, list[tuple[str, str]]] = {}
    for param in params:
        record = param.get_help_record(ctx)
        if record is not None:
            argument = param.param_type_name == "argument"
            if argument:  # Typer would show `{TASK...}... <list[str]>`
                record = (str(param.metavar), getattr(param, "help", None) or "")
            panel = "Arguments" if argument else getattr(param, "rich_help_panel", None) or "Options"
            sections.setdefault(panel, []).append(record)
    for title in sorted(sections, key=OPTION_PANELS.index):
        with formatter.section(title):
            formatter.write_dl(sections[title])


def write_commands(names: Iterable[str], formatter: Any) -> None:
    """Commands by panel, each with its one-line summary."""
    panels: dict[str, list[tuple[str, str]]] = {}
    for name in names:
        panel, summary = COMMANDS[name]
        panels.setdefault(panel, []).append((name, summary))
    for panel, rows in panels.items():
        with formatter.section(f"{panel} commands"):
            formatter.write_dl(rows)
