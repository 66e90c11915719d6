"""The config in force: named repos and a default, and which repo a command opens."""

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from tasklog_cli.errors import UsageError

if TYPE_CHECKING:
    from tasklog_cli.config_file import RepoConfig

LOCAL_CONFIG = "tasklog.toml"


@dataclass(frozen=True)
class Config:
    """The config in force; `trusted` is False for ./tasklog.toml (a checkout's file runs no code)."""

    default: str | None = None
    repos: Mapping[str, "RepoConfig"] = field(default_factory=dict)
    path: Path | None = None
    trusted: bool = True


def user_config_path() -> Path:
    """$XDG_CONFIG_HOME/tasklog/config.toml (~/.config when unset)."""
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "tasklog" / "config.toml"


def load_config() -> Config:
    """The config in force: ./tasklog.toml, else the user's; an empty one when there is neither."""
    for path, trusted in ((Path(LOCAL_CONFIG), False), (user_config_path(), True)):
        if path.is_file():
            return read_config(path, trusted=trusted)
    return Config()


def read_config(path: Path, *, trusted: bool) -> Config:
    """Parse and validate one config file; any fault is a usage error naming the file and the key."""
    try:
        data = tomllib.loads(path.read_text("utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"bad config {path}: {exc}") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read config {path}: {exc}") from exc
    from pydantic import ValidationError

    from tasklog_cli.config_file import ConfigFile

    try:
        file = ConfigFile.model_validate(data)
    except ValidationError as exc:
        error = exc.errors()[0]
        key = ".".join(str(part) for part in error["loc"])
        raise UsageError(f"bad config {path}: {key}: {error['msg'].lower()}") from exc
    if file.default is not None and file.default not in file.repos:
        raise UsageError(
            f"bad config {path}: default: no repo named {file.default!r} "
            f"(repos: {', '.join(file.repos) or 'none'})"
        )
    return Config(file.default, file.repos, path, trusted)


@dataclass(frozen=True)
class RepoChoice:
    """The source to open, what chose it, and what the config says about it."""

    spec: str
    chosen_by: str
    table: str | None = None
    time_zone: str | None = None
    allow_code: bool = False


def choose_repo(flag: str | None, env: str | None, config: Config) -> RepoChoice:
    """DESIGN §1: `-r` wins over TASKLOG_REPO over the config's default; a config name gives its URL.

    `package.module:attr` code is imported only from an explicit `-r` or the user's own config file.
    """
    if flag:
        spec, chosen_by, allow_code = flag, "--repo", True
    elif env:
        spec, chosen_by, allow_code = env, "TASKLOG_REPO", False
    elif config.default:
        spec, chosen_by, allow_code = config.default, "default", config.trusted
    else:
        raise UsageError(
            "no source given: pass -r/--repo SPEC (a file, a URL or 'demo'), set TASKLOG_REPO, "
            f"or set a default in {LOCAL_CONFIG} or {user_config_path()}"
        )
    repo = None if "://" in spec else config.repos.get(spec)
    if repo is None:
        return RepoChoice(spec, chosen_by, allow_code=allow_code)
    return RepoChoice(
        repo.url,
        f"{chosen_by} repo {spec!r} of {config.path}"
        if chosen_by == "default"
        else f"{chosen_by}: repo {spec!r} of {config.path}",
        table=repo.table,
        time_zone=repo.time_zone,
        allow_code=config.trusted,
    )
