"""fastapi-taskflow's Redis store, read through the redis package (imported when a Redis URL is opened)."""

from collections.abc import Collection, Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from tasklog_cli.errors import SourceError
from tasklog_cli.sources.taskflow.snapshot import SNAPSHOT_FIELDS

DEFAULT_REDIS_PREFIX = "fbtm:snapshots"
REDIS_BATCH = 500
REDIS_TIMEOUT_SECONDS = 5


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

    def task_ids(self) -> set[str]:
        with self.failing_as_source_error():
            return set(map(str, self.client.smembers(self.index)))

    def rows(self, task_ids: Collection[str] | None = None) -> Iterator[Mapping[str, Any]]:
        wanted = sorted(self.task_ids() if task_ids is None else task_ids)
        with self.failing_as_source_error():
            for batch in _batches(wanted, REDIS_BATCH):
                pipeline = self.client.pipeline(transaction=False)
                for task_id in batch:
                    pipeline.hgetall(f"{self.prefix}:{task_id}")
                hashes = pipeline.execute()
                yield from (fields for fields in hashes if fields)  # an expired hash (ttl) is gone

    def details(self) -> dict[str, Any]:
        return {"prefix": self.prefix, "index": self.index}

    def close(self) -> None:
        self.client.close()


def _batches(items: list[str], size: int) -> Iterable[list[str]]:
    return (items[start : start + size] for start in range(0, len(items), size))
