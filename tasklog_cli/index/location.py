"""Where a store's index lives: one file per store, folder 0700, named by a hash of what the index holds."""

import hashlib
import json
import os
from collections.abc import Mapping
from pathlib import Path

FORMAT_VERSION = 2  # 2: sorted durations apart from the task's facts


def cache_folder(variables: Mapping[str, str]) -> Path:
    """`$XDG_CACHE_HOME/tasklog/index`, else `~/.cache/tasklog/index`."""
    base = variables.get("XDG_CACHE_HOME") or str(Path(variables.get("HOME") or Path.home()) / ".cache")
    return Path(base) / "tasklog" / "index"


def index_file(folder: Path, identity: Mapping[str, object]) -> Path:
    """The index file of a store's identity (its path or URL without secrets, table, zone, retry window)."""
    text = json.dumps({"version": FORMAT_VERSION, **identity}, sort_keys=True, default=str)
    return folder / f"{hashlib.sha256(text.encode()).hexdigest()[:32]}.sqlite"


def private_folder(folder: Path) -> None:
    """Create the folder (and its parents) readable by the user only: the index holds store data."""
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    if folder.stat().st_mode & 0o077:
        os.chmod(folder, 0o700)


def private_file(path: Path) -> None:
    """Create the file, if missing, readable and writable by the user only."""
    os.close(os.open(path, os.O_CREAT | os.O_RDWR, 0o600))
    if path.stat().st_mode & 0o077:
        os.chmod(path, 0o600)
