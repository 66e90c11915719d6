"""fastapi-taskflow's task snapshots (SQL `task_snapshots` or Redis hashes) as records and runs."""

import json
import re
from collections.abc import Collection, Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from operator import attrgetter
from typing import Any, NamedTuple, Protocol
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from tasklog_cli.errors import SourceError
from tasklog_cli.models import CORE_COLUMNS, Record
from tasklog_cli.query import Query, compile_query, task_matcher
from tasklog_cli.runs import Run
from tasklog_cli.sources.base import MalformedRowError, OpenOptions, Source
from tasklog_cli.values import to_epoch

# The snapshot fields tasklog reads (args, kwargs and encrypted payloads stay in the store).
SNAPSHOT_FIELDS = (
    "task_id", "func_name", "status", "created_at", "start_time", "end_time", "duration", "retries_used",
    "error", "stacktrace", "logs_json", "queue", "executor", "source", "priority",
)  # fmt: skip
# Every record of a task carries these, when the store has them (later versions added them).
TASK_FIELDS = ("queue", "executor", "source", "priority")
RECORD_FIELDS = ("message", "exc_text", "status", "attempt", "duration", "retries_used")
# DESIGN §4 rule 7: the status a task ended with, as the action of its finishing record.
FINISH_ACTIONS = {
    "success": "success",
    "failed": "fail",
    "cancelled": "terminate",
    "interrupted": "terminate",
    "rejected": "fail",
}
LOG_ACTION = "log"
DEFAULT_REDIS_PREFIX = "fbtm:snapshots"
REDIS_BATCH = 500
REDIS_TIMEOUT_SECONDS = 5
_SEPARATOR = re.compile(r"--- Retry (\d+) ---")
_LOG_LINE = re.compile(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ) (.*)", re.DOTALL)


class SnapshotReader(Protocol):
    """Where the snapshots are: it lists its fields and hands over raw snapshot mappings."""

    kind: str
    label: str
    fields: tuple[str, ...]

    def rows(self) -> Iterator[Mapping[str, Any]]:
        """Every stored snapshot, with (at least) the SNAPSHOT_FIELDS the store has."""
        ...

    def signature(self) -> object:
        """Something that changes when a task is stored."""
        ...

    def details(self) -> dict[str, Any]:
        """Where in the store the snapshots are, for `info`."""
        ...

    def close(self) -> None:
        """Release the connection."""
        ...


class Snapshot(NamedTuple):
    """One stored task: when it was enqueued (the store's order) and its run."""

    created: float
    task_id: str
    run: Run


class TaskflowSource(Source):
    """A fastapi-taskflow store: each task is one run of records (run, its log lines, its finish)."""

    def __init__(self, reader: SnapshotReader, options: OpenOptions) -> None:
        self.reader = reader
        self.kind = reader.kind
        extras = RECORD_FIELDS + tuple(name for name in TASK_FIELDS if name in reader.fields)
        super().__init__(reader.label, CORE_COLUMNS + extras, options)

    @property
    def model(self) -> str:
        return "fastapi-taskflow TaskRecord"

    def snapshots(self, query: Query) -> list[Snapshot]:
        """The query's tasks in store order (enqueued time, then task id); malformed ones counted."""
        wanted = task_matcher(query.tasks) if query.tasks else None
        snapshots = []
        for row in self.reader.rows():
            if wanted is not None and not wanted(str(row.get("func_name"))):
                continue
            try:
                snapshots.append(read_snapshot(row))
            except (TypeError, ValueError) as exc:
                self.malformed(f"task {row.get('task_id')}: {exc}")
        snapshots.sort(key=lambda snapshot: (snapshot.created, snapshot.task_id))
        return snapshots

    def scan(self, query: Query, fields: Collection[str] | None = None) -> Iterator[Record]:
        matches = compile_query(query)
        for snapshot in self.snapshots(query):
            yield from filter(matches, snapshot.run.records)

    def runs(
        self, query: Query, retry_window: timedelta, fields: Collection[str] | None = None
    ) -> Iterator[Run]:
        """One run per stored task, by task name then start (DESIGN §4 rules 5-7: no pairing)."""
        runs = [snapshot.run for snapshot in self.snapshots(Query(tasks=query.tasks))]
        return iter(sorted(runs, key=attrgetter("task_name", "moment")))

    def signature(self) -> object:
        return self.reader.signature()

    def details(self) -> dict[str, Any]:
        return self.reader.details()

    def close(self) -> None:
        self.reader.close()


def read_snapshot(row: Mapping[str, Any]) -> Snapshot:
    """A stored task as its run: `run` at start_time, one `log` record per line, the finish at end_time."""
    task_name, task_id, status = (_text(row.get(name)) for name in ("func_name", "task_id", "status"))
    if task_name is None or task_id is None or status not in FINISH_ACTIONS:
        raise MalformedRowError(f"no func_name, task_id or known status ({status})")
    created, start, end = (_time(row, name) for name in ("created_at", "start_time", "end_time"))
    if created is None:
        raise MalformedRowError("no created_at")
    finished = created if end is None else end  # a rejected task never started nor ended: refused then
    retries = int(_text(row.get("retries_used")) or 0)
    stored = _text(row.get("duration"))
    duration = None if stored is None else float(stored)
    common = _task_fields(row)
    records = [] if start is None else [Record(start, task_name, "run", task_id, {**common, "attempt": 1})]
    first = created if start is None else start
    records.extend(_log_records(row.get("logs_json"), first, (task_name, task_id), common))
    finish = {
        **common,
        "message": _text(row.get("error")),
        "exc_text": _text(row.get("stacktrace")),
        "status": status,
        "attempt": retries + 1,
        "duration": None if duration is None else timedelta(seconds=duration),
        "retries_used": retries,
    }
    records.append(Record(finished, task_name, FINISH_ACTIONS[status], task_id, finish))
    outcome = FINISH_ACTIONS[status]
    run = Run(task_name, task_id, start, finished, outcome, retries + 1, tuple(records), status, duration)
    return Snapshot(created, task_id, run)


def _text(value: Any) -> str | None:
    """A stored value as text; None and '' (how Redis stores None) are None."""
    return None if value is None or value == "" else str(value)


def _time(row: Mapping[str, Any], name: str) -> float | None:
    """Epoch seconds of a stored ISO time (naive ones, written before 0.11, are UTC)."""
    value = row.get(name)
    return None if _text(value) is None else to_epoch(value, UTC)


def _task_fields(row: Mapping[str, Any]) -> dict[str, Any]:
    """The fields every record of the task carries: queue, executor, source, priority."""
    fields: dict[str, Any] = {name: _text(row.get(name)) for name in TASK_FIELDS if name in row}
    if fields.get("priority") is not None:
        fields["priority"] = int(fields["priority"])
    return fields


def _log_records(
    logs_json: Any, first: float, task: tuple[str, str], common: Mapping[str, Any]
) -> Iterator[Record]:
    """One `log` record per line of `logs_json`; lines after `--- Retry N ---` are attempt N + 1."""
    lines = json.loads(logs_json) if logs_json else []
    attempt, created = 1, first
    for line in map(str, lines):
        if separator := _SEPARATOR.fullmatch(line):
            attempt = int(separator.group(1)) + 1
            continue
        stamped = _LOG_LINE.fullmatch(line)
        created = _line_epoch(stamped.group(1)) if stamped else created  # an unstamped line: as the last
        extra = {**common, "message": stamped.group(2) if stamped else line, "attempt": attempt}
        yield Record(created, task[0], LOG_ACTION, task[1], extra)


@lru_cache(maxsize=4096)
def _line_epoch(stamp: str) -> float:
    """Epoch seconds of a log line's `2026-11-21T19:06:47Z` (many lines share one second)."""
    return datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).timestamp()


def redis_label(url: str) -> str:
    """A Redis URL as it may be printed: password hidden (in the user part and in `?password=`)."""
    parts = urlsplit(url)
    netloc = parts.netloc
    if "@" in netloc:
        user, _, host = netloc.rpartition("@")
        netloc = f"{user.partition(':')[0]}:***@{host}" if ":" in user else f"***@{host}"
    query = [(key, "***" if key == "password" else value) for key, value in parse_qsl(parts.query)]
    return urlunsplit(parts._replace(netloc=netloc, query=urlencode(query, safe=":*")))


def split_prefix(url: str) -> tuple[str, str]:
    """The URL without `?prefix=`, and the key prefix (fastapi-taskflow's default: fbtm:snapshots)."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query)
    prefixes = [value for key, value in query if key == "prefix"]
    rest = urlencode([(key, value) for key, value in query if key != "prefix"])
    return urlunsplit(parts._replace(query=rest)), prefixes[-1] if prefixes else DEFAULT_REDIS_PREFIX


class RedisSnapshots:
    """fastapi-taskflow's Redis backend: hashes `{prefix}:{task_id}` listed in the set `{prefix}:_index`."""

    fields: tuple[str, ...] = SNAPSHOT_FIELDS

    def __init__(self, url: str) -> None:
        try:
            import redis
        except ModuleNotFoundError as exc:
            raise SourceError("reading Redis needs the redis package: pip install 'tasklog[redis]'") from exc
        self.errors: type[Exception] = redis.RedisError
        self.unreachable: tuple[type[Exception], ...] = (redis.ConnectionError, redis.TimeoutError)
        self.label = redis_label(url)
        self.kind = "fastapi-taskflow (redis)"
        address, self.prefix = split_prefix(url)
        self.index = f"{self.prefix}:_index"
        try:
            self.client = redis.Redis.from_url(
                address,
                decode_responses=True,
                socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
                socket_timeout=REDIS_TIMEOUT_SECONDS,
            )
        except ValueError as exc:
            raise SourceError(f"cannot use URL {self.label}: {exc}") from exc
        with self.failing_as_source_error():
            found = self.client.exists(self.index)
        if not found:
            raise SourceError(
                f"{self.label} is not a fastapi-taskflow store: no set {self.index} "
                "(name the backend's key prefix with ?prefix=)"
            )

    @contextmanager
    def failing_as_source_error(self) -> Iterator[None]:
        """Turn the redis package's errors into one-line SourceErrors (they never carry the password)."""
        try:
            yield
        except self.errors as exc:
            verb = "connect to" if isinstance(exc, self.unreachable) else "read"
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise SourceError(f"cannot {verb} {self.label}: {reason}") from exc

    def rows(self) -> Iterator[Mapping[str, Any]]:
        with self.failing_as_source_error():
            task_ids = sorted(map(str, self.client.smembers(self.index)))
            for batch in _batches(task_ids, REDIS_BATCH):
                pipeline = self.client.pipeline(transaction=False)
                for task_id in batch:
                    pipeline.hgetall(f"{self.prefix}:{task_id}")
                hashes = pipeline.execute()
                yield from (fields for fields in hashes if fields)  # an expired hash (ttl) is gone

    def signature(self) -> object:
        with self.failing_as_source_error():
            return self.client.scard(self.index)

    def details(self) -> dict[str, Any]:
        return {"prefix": self.prefix, "index": self.index}

    def close(self) -> None:
        self.client.close()


def _batches(items: list[str], size: int) -> Iterable[list[str]]:
    return (items[start : start + size] for start in range(0, len(items), size))


def open_redis(url: str, options: OpenOptions) -> TaskflowSource:
    """Open a fastapi-taskflow Redis store from `redis://host:port/db` (optional `?prefix=`)."""
    return TaskflowSource(RedisSnapshots(url), options)
