"""Shell completion of task names: read from the configured repo, cached, quick, silent on any error."""

import hashlib
import json
import os
import select
import time
from pathlib import Path
from typing import Any

import typer

from tasklog_cli.query import Query
from tasklog_cli.selection import Selection
from tasklog_cli.sources import OpenOptions, is_stream, open_source

RECENT_RECORDS = 5000
URL_CACHE_SECONDS = 60.0
# Start-up takes ~0.2 s of the 0.3 s a completion may take; this is what is left for reading the store.
ANSWER_SECONDS = 0.06


def cache_path() -> Path:
    """Where completion keeps what it learnt: $XDG_CACHE_HOME/tasklog/tasks.json."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "tasklog" / "tasks.json"


def _signature(spec: str) -> list[Any]:
    """What tells that a store changed: a file's size and time; for URLs, the minute (a short expiry)."""
    path = Path(spec).expanduser()
    if "://" not in spec and path.exists():
        stat = path.stat()
        return [stat.st_mtime_ns, stat.st_size]
    return [int(time.time() // URL_CACHE_SECONDS)]


def _cache_key(spec: str, table: str | None) -> str:
    return hashlib.sha256(f"{spec}\0{table}".encode()).hexdigest()[:16]


def _read_cache() -> dict[str, Any]:
    path = cache_path()
    return dict(json.loads(path.read_text("utf-8"))) if path.is_file() else {}


def cached_names(spec: str, table: str | None) -> list[str]:
    """What the cache knows of a store's task names, fresh or not."""
    return list(_read_cache().get(_cache_key(spec, table), {}).get("tasks", []))


def task_names(spec: str, table: str | None) -> list[str]:
    """Task names of a store: those of its latest records, added to what the cache already knew."""
    key = _cache_key(spec, table)
    cache = _read_cache()
    entry = cache.get(key, {})
    signature = _signature(spec)
    if entry.get("signature") == signature or is_stream(spec):  # a stream is the command's to read
        return list(entry.get("tasks", []))
    source = open_source(spec, OpenOptions(table=table, allow_code=False))  # never user code here
    try:
        recent = source.select(Query(), Selection(last=RECENT_RECORDS), fields=())
        names = sorted(set(entry.get("tasks", [])) | {record.task_name for record in recent})
    finally:
        source.close()
    cache[key] = {"signature": signature, "tasks": names}
    path = cache_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(f".{os.getpid()}")
    partial.write_text(json.dumps(cache), "utf-8")
    partial.replace(path)  # atomic: a reader never sees half a file
    return names


def task_names_in_time(spec: str, table: str | None, budget: float) -> list[str]:
    """Task names within `budget` seconds: a child process reads the store and fills the cache; when it
    is late, what the cache knew is the answer and the child finishes the cache for the next time."""
    reader, writer = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - the child process
        os.close(reader)
        devnull = os.open(os.devnull, os.O_RDWR)
        for stream in (0, 1, 2):  # let the shell's $(...) end with the parent, not with this child
            os.dup2(devnull, stream)
        try:
            os.write(writer, json.dumps(task_names(spec, table)).encode())
        finally:
            os._exit(0)
    os.close(writer)
    try:
        if select.select([reader], [], [], budget)[0]:
            with os.fdopen(reader, "rb", closefd=False) as pipe:
                answer: list[str] = json.loads(pipe.read() or b"[]")
            os.waitpid(child, 0)
            return answer
        return cached_names(spec, table)
    finally:
        os.close(reader)


def complete_task(ctx: typer.Context, incomplete: str) -> list[str]:
    """Typer autocompletion for --task: the names that start with what was typed."""
    from tasklog_cli.config import choose_repo, load_config

    try:
        flag = ctx.params.get("repo") or (ctx.parent.params.get("repo") if ctx.parent else None)
        choice = choose_repo(flag, os.environ.get("TASKLOG_REPO"), load_config())
        names = task_names_in_time(choice.spec, choice.table, ANSWER_SECONDS)
        return [name for name in names if name.startswith(incomplete)]
    except Exception:  # completion must never print an error into the user's command line
        return []
