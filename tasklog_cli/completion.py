"""Typer autocompletion of option values: task names, run ids, fields and tables of the chosen repo,
repo names and paths. Quick (a time budget, a cache) and silent on any error."""

import os
from collections.abc import Callable, Iterable
from fnmatch import fnmatchcase
from pathlib import Path

import typer

from tasklog_cli.results import CHECK_FIELDS, RUN_FIELDS, RUNTIME_FIELDS, TASK_FIELDS
from tasklog_cli.store_facts import StoreFacts, facts_in_time

# Start-up takes ~0.2 s of the 0.3 s a completion may take; this is what is left for reading the store.
ANSWER_SECONDS = 0.06
LISTED_PATHS = 200
SQLITE_URL = "sqlite:///"
# The fields of what each command prints when it is not records (records: the store's own fields).
COMMAND_FIELDS = {
    "runs": (*RUN_FIELDS, "status"),
    "runtimes": (*RUNTIME_FIELDS, "bucket"),
    "tasks": TASK_FIELDS,
    "check": CHECK_FIELDS,
}


def _option(ctx: typer.Context, name: str) -> object:
    """An option's value given after the command, else before it."""
    value = ctx.params.get(name)
    if value is None and ctx.parent is not None:
        value = ctx.parent.params.get(name)
    return value


def _facts(ctx: typer.Context) -> StoreFacts:
    """What is known of the repo the command line names (or TASKLOG_REPO, or the config's default)."""
    from tasklog_cli.config import choose_repo, load_config

    repo = _option(ctx, "repo")
    choice = choose_repo(
        repo if isinstance(repo, str) else None, os.environ.get("TASKLOG_REPO"), load_config()
    )
    table = ctx.params.get("table")
    return facts_in_time(choice.spec, table if isinstance(table, str) else choice.table, ANSWER_SECONDS)


def _silent(
    complete: Callable[[typer.Context, str], Iterable[str]],
) -> Callable[[typer.Context, str], list[str]]:
    """A completion that prints nothing but its answer: any error means no candidates."""

    def answer(ctx: typer.Context, incomplete: str) -> list[str]:
        try:
            return [value for value in complete(ctx, incomplete) if value.startswith(incomplete)]
        except Exception:  # completion must never print an error into the user's command line
            return []

    answer.__name__ = complete.__name__
    answer.__doc__ = complete.__doc__
    return answer


@_silent
def complete_task(ctx: typer.Context, incomplete: str) -> Iterable[str]:
    """Task names of the repo (for --task and timeline's TASK...)."""
    return _facts(ctx).tasks


@_silent
def complete_run_id(ctx: typer.Context, incomplete: str) -> Iterable[str]:
    """The latest run ids, newest first; only those of the tasks given with -t (or TASK... before it)."""
    tasks = [str(name) for name in (ctx.params.get("task") or ctx.params.get("tasks") or [])]
    seen = dict.fromkeys(
        run_id
        for task, run_id in _facts(ctx).run_ids
        if not tasks or any(task == name or fnmatchcase(task, name) for name in tasks)
    )
    return list(seen)


@_silent
def complete_fields(ctx: typer.Context, incomplete: str) -> Iterable[str]:
    """Field names for --fields, after the commas already typed (`created,ta` -> `created,task_name`)."""
    command = ctx.command.name or ""
    if command in COMMAND_FIELDS:
        names: Iterable[str] = COMMAND_FIELDS[command]
    else:
        names = _facts(ctx).fields
        if command == "timeline":
            names = ["run", "attempt", *names]
    if not names:
        return []
    head, comma, _ = incomplete.rpartition(",")
    chosen = set(head.split(",")) if comma else set()
    listed = [f"{head}{comma}{name}" for name in dict.fromkeys(names) if name not in chosen]
    return listed if comma else [*listed, "all"]


@_silent
def complete_table(ctx: typer.Context, incomplete: str) -> Iterable[str]:
    """The task-log tables of a SQL repo."""
    return _facts(ctx).tables


@_silent
def complete_repo(ctx: typer.Context, incomplete: str) -> Iterable[str]:
    """Repo names of the config, `demo`, and paths (folders end with `/`)."""
    from tasklog_cli.config import load_config

    if incomplete.startswith(SQLITE_URL):
        return [SQLITE_URL + path for path in _paths(incomplete.removeprefix(SQLITE_URL))]
    return [*load_config().repos, "demo", *_paths(incomplete)]


def _paths(incomplete: str) -> list[str]:
    """Files and folders that start with what was typed (`~` kept as typed; hidden ones when asked)."""
    folder_typed, _, name_start = incomplete.rpartition("/")
    folder_typed += "/" if folder_typed or incomplete.startswith("/") else ""
    folder = Path(os.path.expanduser(folder_typed or "."))
    listed: list[str] = []
    try:
        entries = os.scandir(folder)
    except OSError:
        return listed
    with entries:
        for entry in entries:
            if entry.name.startswith(name_start) and (
                name_start.startswith(".") or not entry.name.startswith(".")
            ):
                listed.append(folder_typed + entry.name + ("/" if entry.is_dir() else ""))
                if len(listed) == LISTED_PATHS:
                    break
    return sorted(listed)
