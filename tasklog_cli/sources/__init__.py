"""Resolve a `--repo` SPEC to a Source, in DESIGN §1's order, through registries of store kinds."""

import re
import stat
import sys
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC
from importlib import import_module, resources
from pathlib import Path
from typing import TypeVar

from tasklog_cli.errors import SourceError, UsageError
from tasklog_cli.selection import Selection
from tasklog_cli.sources.base import Notify, OpenOptions, Source, Summary

__all__ = ["OpenOptions", "Selection", "Source", "Summary", "open_source"]

SQLITE_MAGIC = b"SQLite format 3\0"
STDIN_SPEC = "-"
_USER_REPO = re.compile(r"[A-Za-z_][\w.]*:[A-Za-z_][\w.]*")
_EXTENSIONS = {".csv": "csv", ".json": "json", ".jsonl": "json", ".db": "sqlite", ".sqlite": "sqlite"}
_EXTENSIONS[".sqlite3"] = "sqlite"

Target = TypeVar("Target")
Opener = Callable[[Target, OpenOptions], Source]


def lazy(module: str, name: str) -> Opener[Target]:
    """An opener that imports `module` only when a store of its kind is opened."""

    def open_store(target: Target, options: OpenOptions) -> Source:
        opener: Opener[Target] = getattr(import_module(module), name)
        return opener(target, options)

    return open_store


def _open_sqlite(path: Path, options: OpenOptions) -> Source:
    from tasklog_cli.sources.sql import open_sql, sqlite_url

    return open_sql(sqlite_url(path), options)


_SQL: Opener[str] = lazy("tasklog_cli.sources.sql", "open_sql")
_REDIS: Opener[str] = lazy("tasklog_cli.sources.taskflow", "open_redis")

# URL schemes by the name before any `+driver`: a new kind of server store is one entry here.
URL_OPENERS: dict[str, Opener[str]] = {
    "sqlite": _SQL,
    "postgresql": _SQL,
    "mysql": _SQL,
    "mariadb": _SQL,
    "redis": _REDIS,
    "rediss": _REDIS,
}

# Kinds of file (see `file_kind`): a new kind of file store is one entry here.
FILE_OPENERS: dict[str, Opener[Path]] = {
    "csv": lazy("tasklog_cli.sources.csvfile", "CsvSource"),
    "json": lazy("tasklog_cli.sources.jsonfile", "JsonDumpSource"),
    "sqlite": _open_sqlite,
    "folder": lazy("tasklog_cli.sources.jsonfile", "JsonDirectorySource"),
    "stream": lazy("tasklog_cli.sources.stream", "open_stream"),
}


def file_kind(path: Path) -> str:
    """Which opener reads a path: by its type (folder, pipe), extension, then content."""
    try:
        mode = path.stat().st_mode
    except OSError as exc:
        raise SourceError(f"cannot read {path}: {exc.strerror}") from exc
    if stat.S_ISDIR(mode):
        return "folder"
    if stat.S_ISFIFO(mode):
        return "stream"
    if not stat.S_ISREG(mode):
        raise SourceError(f"cannot read {path}: it is {not_a_file(mode)}, not a file or folder")
    if path.suffix.lower() in _EXTENSIONS:
        return _EXTENSIONS[path.suffix.lower()]
    try:
        with path.open("rb") as file:
            head = file.read(512)
    except OSError as exc:
        raise SourceError(f"cannot read {path}: {exc.strerror}") from exc
    if head.startswith(SQLITE_MAGIC):
        return "sqlite"
    if head.removeprefix(b"\xef\xbb\xbf").lstrip()[:1] in (b"[", b"{"):  # after a UTF-8 BOM
        return "json"
    return "csv"


def not_a_file(mode: int) -> str:
    """What a path that is no regular file, folder or pipe is, in words."""
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "no regular file"


def is_stream(spec: str) -> bool:
    """Whether a SPEC names a stream (`-`, a FIFO): it can be read only once, so only by the command."""
    if spec == STDIN_SPEC:
        return True
    try:
        return "://" not in spec and stat.S_ISFIFO(Path(spec).expanduser().stat().st_mode)
    except (OSError, ValueError):
        return False


def wait_for(spec: str, *, interval: float, note: Notify, sleep: Callable[[float], None]) -> None:
    """Until the file a SPEC names exists and has content (URLs, `demo` and streams need no wait)."""
    if "://" in spec or spec in ("demo", STDIN_SPEC):
        return
    path = Path(spec).expanduser()
    announced = False
    while not path.exists() or (path.is_file() and path.stat().st_size == 0):
        if not announced:
            note(f"waiting for {path}")
            announced = True
        sleep(interval)


def demo_path() -> Path:
    """The bundled demo log: real Rocketry records, naive times in UTC, paths under /app."""
    return Path(str(resources.files("tasklog_cli") / "data" / "demo.csv"))


def url_scheme(spec: str) -> str:
    """The store kind a URL names: its scheme without a `+driver` part, lower case."""
    return spec.split("://", 1)[0].split("+", 1)[0].lower()


def open_source(spec: str, options: OpenOptions) -> Source:
    """Open the store a SPEC names: URL, existing path, `demo`, `package.module:attr`, or `-`."""
    if "://" in spec:
        scheme = url_scheme(spec)
        if scheme not in URL_OPENERS:
            raise SourceError(
                f"unknown URL scheme {scheme!r}: tasklog reads {', '.join(s + '://' for s in URL_OPENERS)}"
            )
        return URL_OPENERS[scheme](spec, options)
    path = Path(spec).expanduser()
    if path.exists():
        try:
            return FILE_OPENERS[file_kind(path)](path, options)
        except PermissionError as exc:
            raise SourceError(f"cannot read {path}: permission denied") from exc
        except IsADirectoryError as exc:
            raise SourceError(f"cannot read {path}: it is a folder") from exc
    if spec == "demo":  # written in UTC (scripts/make_rocketry_fixtures.py): it reads right in any zone
        return FILE_OPENERS["csv"](demo_path(), replace(options, zone=UTC))
    if _USER_REPO.fullmatch(spec):
        if not options.allow_code:
            from tasklog_cli.config import user_config_path

            raise UsageError(
                f"not importing {spec}: code is imported only from -r or {user_config_path()}, "
                "never from TASKLOG_REPO or ./tasklog.toml"
            )
        from tasklog_cli.sources.redbird import open_user_repo

        return open_user_repo(spec, options)
    if spec == STDIN_SPEC:
        if sys.stdin is None or sys.stdin.isatty():
            raise UsageError("-r - reads standard input, which is a terminal here: pipe a log into it")
        from tasklog_cli.sources.stream import open_stdin

        return open_stdin(options)
    raise SourceError(
        f"no source {spec!r}: not a URL (sqlite:///app.db), not an existing file or folder, "
        "not 'demo', not package.module:attr, not - (standard input)"
    )
