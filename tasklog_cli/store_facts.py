"""What shell completion knows of a store (task names, run ids, fields, tables): read from its latest
records within a time budget, and cached so that a TAB never waits for a whole store."""

import hashlib
import json
import os
import select
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from tasklog_cli.query import Query
from tasklog_cli.selection import Selection
from tasklog_cli.sources import OpenOptions, is_stream, open_source

RECENT_RECORDS = 5000
RECENT_RUN_IDS = 200
URL_CACHE_SECONDS = 60.0


@dataclass
class StoreFacts:
    """Task names (every one seen so far), the latest run ids by task, the record fields, the SQL tables."""

    tasks: list[str] = field(default_factory=list)
    run_ids: list[tuple[str, str]] = field(default_factory=list)
    fields: list[str] = field(default_factory=list)
    tables: list[str] = field(default_factory=list)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "StoreFacts":
        """Facts from their cached form (what an older cache lacks stays empty)."""
        return cls(
            tasks=list(data.get("tasks", [])),
            run_ids=[(str(task), str(run_id)) for task, run_id in data.get("run_ids", [])],
            fields=list(data.get("fields", [])),
            tables=list(data.get("tables", [])),
        )


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


def cached_facts(spec: str, table: str | None) -> StoreFacts:
    """What the cache knows of a store, fresh or not."""
    return StoreFacts.from_json(_read_cache().get(_cache_key(spec, table), {}))


def _sql_tables(spec: str) -> list[str]:
    """The task-log tables of a SQL URL or SQLite file (none for other stores)."""
    from tasklog_cli.sources import file_kind

    path = Path(spec).expanduser()
    if "://" not in spec and not (path.is_file() and file_kind(path) == "sqlite"):
        return []
    if spec.split("://", 1)[0].lower() in ("redis", "rediss"):
        return []
    from tasklog_cli.sources.sql.catalog import log_tables

    return log_tables(spec if "://" in spec else f"sqlite:///{path}")


def read_facts(spec: str, table: str | None, known: StoreFacts) -> StoreFacts:
    """Read a store's facts from its latest records (never user code); task names add to `known`."""
    tables = _sql_tables(spec)
    source = open_source(spec, OpenOptions(table=table, allow_code=False))
    try:
        recent = source.select(Query(), Selection(last=RECENT_RECORDS), fields=())
        tasks = set(known.tasks)
        run_ids: dict[tuple[str, str], None] = {}  # newest first, each once
        for record in reversed(list(recent)):
            tasks.add(record.task_name)
            if record.run_id is not None and len(run_ids) < RECENT_RUN_IDS:
                run_ids[record.task_name, str(record.run_id)] = None
        return StoreFacts(sorted(tasks), list(run_ids), list(source.record_columns), tables)
    finally:
        source.close()


def refresh_facts(spec: str, table: str | None) -> StoreFacts:
    """The store's facts: from the cache while the store is unchanged, else read and cached."""
    key = _cache_key(spec, table)
    cache = _read_cache()
    entry = cache.get(key, {})
    signature = _signature(spec)
    if entry.get("signature") == signature or is_stream(spec):  # a stream is the command's to read
        return StoreFacts.from_json(entry)
    facts = read_facts(spec, table, StoreFacts.from_json(entry))
    cache[key] = {"signature": signature, **asdict(facts)}
    path = cache_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(f".{os.getpid()}")
    partial.write_text(json.dumps(cache), "utf-8")
    partial.replace(path)  # atomic: a reader never sees half a file
    return facts


def facts_in_time(spec: str, table: str | None, budget: float) -> StoreFacts:
    """The store's facts within `budget` seconds: a child process reads the store and fills the cache;
    when it is late, what the cache knew is the answer and the child finishes the cache for next time."""
    reader, writer = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - the child process
        os.close(reader)
        devnull = os.open(os.devnull, os.O_RDWR)
        for stream in (0, 1, 2):  # let the shell's $(...) end with the parent, not with this child
            os.dup2(devnull, stream)
        try:
            os.write(writer, json.dumps(asdict(refresh_facts(spec, table))).encode())
        finally:
            os._exit(0)
    os.close(writer)
    try:
        if select.select([reader], [], [], budget)[0]:
            with os.fdopen(reader, "rb", closefd=False) as pipe:
                answer = pipe.read()
            os.waitpid(child, 0)
            if answer:
                return StoreFacts.from_json(json.loads(answer))
        return cached_facts(spec, table)
    finally:
        os.close(reader)
