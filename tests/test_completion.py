"""Shell completion through the protocol the scripts use, and in a real bash."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import ROCKETRY

ROOT = Path(__file__).parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
from make_completions import COMPLETIONS, scripts  # noqa: E402


@pytest.fixture
def shim(tmp_path: Path) -> Path:
    """A `tasklog` on PATH that runs this checkout's code (what the scripts call back into)."""
    folder = tmp_path / "bin"
    folder.mkdir()
    program = folder / "tasklog"
    program.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m tasklog_cli "$@"\n')
    program.chmod(0o755)
    return folder


def complete(words: str, shim: Path, env: dict[str, str] | None = None) -> list[str]:
    """Ask for bash completions of a command line whose last word is being typed."""
    parts = words.split(" ")
    environment = {**os.environ, "PATH": f"{shim}:{os.environ['PATH']}", **(env or {})}
    environment.update(_TASKLOG_COMPLETE="complete_bash", COMP_WORDS=words, COMP_CWORD=str(len(parts) - 1))
    result = subprocess.run(
        [str(shim / "tasklog")], capture_output=True, text=True, env=environment, check=False, timeout=30
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    return [line for line in result.stdout.splitlines() if line]


def test_scripts_are_generated_from_the_app() -> None:
    for name, text in scripts().items():
        assert (COMPLETIONS / name).read_text(encoding="utf-8") == text, (
            f"run python scripts/make_completions.py ({name})"
        )


def test_commands_options_and_choices(shim: Path) -> None:
    assert {"ls", "tail", "runs", "runtimes", "tasks", "timeline", "check", "info"} <= set(
        complete("tasklog ", shim)
    )
    assert complete("tasklog ls --fo", shim) == ["--format"]
    assert complete("tasklog ls -a f", shim) == ["fail"]
    assert set(complete("tasklog ls -o j", shim)) == {"json", "jsonl"}
    assert "--max-failures" in complete("tasklog check --max", shim)


def test_task_names_come_from_the_repo_and_are_cached(shim: Path, tmp_path: Path) -> None:
    store = str(ROCKETRY / "task_run.csv")
    env = {"XDG_CACHE_HOME": str(tmp_path / "cache")}
    assert complete(f"tasklog ls -r {store} -t time", shim, env) == [
        "timeout_async",
        "timeout_process",
        "timeout_thread",
    ]
    assert (tmp_path / "cache" / "tasklog" / "tasks.json").is_file()
    started = time.perf_counter()
    assert complete(f"tasklog -r {store} runs -t multi", shim, env) == [
        "multilaunch_increment",
        "multilaunch_uuid",
    ]
    elapsed = time.perf_counter() - started
    assert elapsed < 0.6, f"a cached answer took {elapsed:.2f} s"  # 0.2-0.25 s here; margin for a busy CI
    assert complete("tasklog ls -t fail", shim, {**env, "TASKLOG_REPO": store}) == ['fails, "loudly" ✗']


def test_completion_is_silent_on_errors_and_never_imports_user_code(shim: Path, tmp_path: Path) -> None:
    env = {"XDG_CACHE_HOME": str(tmp_path / "cache")}
    assert complete(f"tasklog ls -r {tmp_path / 'missing.csv'} -t a", shim, env) == []
    (tmp_path / "spy.py").write_text(f"open({str(tmp_path / 'imported')!r}, 'w').close()\nrepo = None\n")
    env["PYTHONPATH"] = str(tmp_path)
    assert complete("tasklog ls -r spy:repo -t a", shim, env) == []
    assert not (tmp_path / "imported").exists()


def test_real_bash_with_the_installed_script(shim: Path) -> None:
    script = f"""
    source {COMPLETIONS / "tasklog.bash"}
    COMP_WORDS=(tasklog ls --act); COMP_CWORD=2
    _tasklog_completion tasklog
    printf '%s\\n' "${{COMPREPLY[@]}}"
    """
    environment = {**os.environ, "PATH": f"{shim}:{os.environ['PATH']}"}
    result = subprocess.run(
        ["bash", "-c", script], capture_output=True, text=True, env=environment, check=True
    )
    assert result.stdout.split() == ["--action"]


def test_zsh_and_fish_protocols(shim: Path) -> None:
    base = {**os.environ, "PATH": f"{shim}:{os.environ['PATH']}"}
    zsh = subprocess.run(
        [str(shim / "tasklog")], capture_output=True, text=True, check=True,
        env={**base, "_TASKLOG_COMPLETE": "complete_zsh", "_TYPER_COMPLETE_ARGS": "tasklog ls --for"},
    )  # fmt: skip
    assert "--format" in zsh.stdout
    fish = subprocess.run(
        [str(shim / "tasklog")], capture_output=True, text=True, check=True,
        env={**base, "_TASKLOG_COMPLETE": "complete_fish", "_TYPER_COMPLETE_FISH_ACTION": "get-args",
             "_TYPER_COMPLETE_ARGS": "tasklog ls --for"},
    )  # fmt: skip
    assert "--format" in fish.stdout
