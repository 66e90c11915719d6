"""Shared test harness: an isolated environment, the CLI runner helper, data paths, Hypothesis profiles."""

import os
import shlex
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import settings
from typer.testing import CliRunner

from tasklog_cli.cli import app

settings.register_profile("ci", deadline=None, derandomize=True, max_examples=50, print_blob=True)
settings.register_profile("dev", deadline=None, max_examples=200)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

DATA = Path(__file__).parent / "data"
ROCKETRY = DATA / "rocketry"
GOLDEN = Path(__file__).parent / "golden"


@pytest.fixture(autouse=True)
def isolated_env(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """No test touches the user's config, cache or repo settings; times are UTC unless a test says otherwise."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / ".cache"))
    for name in ("TASKLOG_REPO", "TASKLOG_DEBUG", "NO_COLOR", "FORCE_COLOR", "COLUMNS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    monkeypatch.chdir(home)
    yield home
    time.tzset()


@dataclass(frozen=True)
class Result:
    """What one tasklog run wrote and how it ended."""

    exit_code: int
    stdout: str
    stderr: str


def run_cli(*args: str, expect: int = 0, env: dict[str, str] | None = None) -> Result:
    """Run tasklog in-process; fail on an exit code other than `expect`; return stdout and stderr apart."""
    result = CliRunner().invoke(app, list(args), env=env, catch_exceptions=False)
    outcome = Result(result.exit_code, result.stdout, result.stderr)
    assert outcome.exit_code == expect, (
        f"tasklog {shlex.join(args)} exited {outcome.exit_code}, expected {expect}\n"
        f"stdout:\n{outcome.stdout}\nstderr:\n{outcome.stderr}"
    )
    return outcome


def assert_one_error_line(result: Result, *fragments: str) -> None:
    """A failed run leaves stdout empty and says one `tasklog: error:` line naming what was wrong."""
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("tasklog: error: "), lines[0]
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])


@contextmanager
def local_zone(name: str) -> Iterator[None]:
    """Make the C library's local zone `name` for the block, restoring it after."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TZ", name)
        time.tzset()
        try:
            yield
        finally:
            patch.undo()
            time.tzset()


def assert_golden(name: str, text: str) -> None:
    """Compare with tests/golden/NAME; UPDATE_GOLDEN=1 rewrites the file instead."""
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"{path} missing: run with UPDATE_GOLDEN=1 and review it"
    assert text == path.read_text(encoding="utf-8")
