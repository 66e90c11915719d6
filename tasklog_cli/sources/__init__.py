"""Resolve a `--repo` SPEC to a Source, in DESIGN §1's order, through one registry of store kinds."""

import re
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC
from importlib import resources
from pathlib import Path

from tasklog_cli.errors import SourceError, UsageError
from tasklog_cli.selection import Selection
from tasklog_cli.sources.base import OpenOptions, Source, Summary

__all__ = ["OpenOptions", "Selection", "Source", "Summary", "open_source"]

SQLITE_MAGIC = b"SQLite format 3\0"
_USER_REPO = re.compile(r"[A-Za-z_][\w.]*:[A-Za-z_][\w.]*")
_EXTENSIONS = {".csv": "csv", ".json": "json", ".jsonl": "json", ".db": "sqlite", ".sqlite": "sqlite"}
_EXTENSIONS[".sqlite3"] = "sqlite"


def _open_csv(path: Path, options: OpenOptions) -> Source:
    from tasklog_cli.sources.csvfile import CsvSource

    return CsvSource(path, options)


def _open_json(path: Path, options: OpenOptions) -> Source:
    from tasklog_cli.sources.jsonfile import JsonDumpSource

    return JsonDumpSource(path, options)


def _open_folder(path: Path, options: OpenOptions) -> Source:
    from tasklog_cli.sources.jsonfile import JsonDirectorySource

    return JsonDirectorySource(path, options)


def _open_sqlite(path: Path, options: OpenOptions) -> Source:
    from tasklog_cli.sources.sql import open_sql, sqlite_url

    return open_sql(sqlite_url(path), options)


FILE_OPENERS: dict[str, Callable[[Path, OpenOptions], Source]] = {
    "csv": _open_csv,
    "json": _open_json,
    "sqlite": _open_sqlite,
    "folder": _open_folder,
}


def file_kind(path: Path) -> str:
    """Which opener reads a path: by folder, extension, then content."""
    if path.is_dir():
        return "folder"
    if path.suffix.lower() in _EXTENSIONS:
        return _EXTENSIONS[path.suffix.lower()]
    try:
        with path.open("rb") as file:
            head = file.read(512)
    except OSError as exc:
        raise SourceError(f"cannot read {path}: {exc.strerror}") from exc
    if head.startswith(SQLITE_MAGIC):
        return "sqlite"
    if head.lstrip()[:1] in (b"[", b"{"):
        return "json"
    return "csv"


def demo_path() -> Path:
    """The bundled demo log: real Rocketry records, naive times in UTC, paths under /app."""
    return Path(str(resources.files("tasklog_cli") / "data" / "demo.csv"))


def open_source(spec: str, options: OpenOptions) -> Source:
    """Open the store a SPEC names: URL, existing path, `demo`, or `package.module:attr`."""
    if "://" in spec:
        if spec.split("://", 1)[0].lower() in ("redis", "rediss"):
            from tasklog_cli.sources.taskflow import open_redis

            return open_redis(spec, options)
        from tasklog_cli.sources.sql import open_sql

        return open_sql(spec, options)
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
    raise SourceError(
        f"no source {spec!r}: not a URL (sqlite:///app.db), not an existing file or folder, "
        "not 'demo', not package.module:attr"
    )
