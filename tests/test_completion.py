"""Shell completion through the protocol the scripts speak: the typed line in, candidates out."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROCKETRY, assert_one_error_line, run_cli

from tasklog_cli.shell_completion import bash_quote, read_line, script_path
from tasklog_cli.store_facts import cache_path, refresh_facts

ROOT = Path(__file__).parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
from make_completions import COMPLETIONS, FILES, scripts  # noqa: E402

TASK_RUN = str(ROCKETRY / "task_run.csv")


@pytest.fixture(autouse=True)
def user_dirs_at_home(monkeypatch: pytest.MonkeyPatch) -> None:
    """Shell folders default to the isolated HOME, whatever this machine sets."""
    for name in ("XDG_DATA_HOME", "BASH_COMPLETION_USER_DIR", "ZDOTDIR", "SHELL"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def shim(tmp_path: Path) -> Path:
    """A `tasklog` on PATH that runs this checkout's code (what the scripts call back into)."""
    folder = tmp_path / "bin"
    folder.mkdir()
    program = folder / "tasklog"
    program.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m tasklog_cli "$@"\n')
    program.chmod(0o755)
    return folder


def ask(shell: str, line: str, shim: Path, env: dict[str, str] | None = None) -> list[str]:
    """What tasklog answers a shell's script for a command line typed up to the cursor."""
    environment = {**os.environ, "PATH": f"{shim}:{os.environ['PATH']}", **(env or {})}
    environment.update(_TASKLOG_COMPLETE=f"complete_{shell}", _TASKLOG_COMPLETE_LINE=line)
    result = subprocess.run(
        [str(shim / "tasklog")], capture_output=True, text=True, env=environment, check=False, timeout=30
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    return [line for line in result.stdout.split("\n") if line]


def complete(line: str, shim: Path, env: dict[str, str] | None = None) -> list[str]:
    """bash's answer: the quoted text that replaces the word being typed."""
    return ask("bash", line, shim, env)


def csv_store(folder: Path, *names: str) -> str:
    """A CSV log with one run of each task (Red Bird's quoting), run ids r0, r1, ..., already in the cache
    (as the first TAB's reader leaves it: a TAB answers within its time budget, whatever the load)."""
    import csv

    path = folder / "names.csv"
    with path.open("w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(["task_name", "action", "created", "run_id"])
        for number, name in enumerate(names):
            writer.writerow([name, "run", 1000.0 + number, f"r{number}"])
    refresh_facts(str(path), None)
    return str(path)


def test_scripts_are_generated_from_the_app() -> None:
    for name, text in scripts().items():
        assert (COMPLETIONS / name).read_text(encoding="utf-8") == text, (
            f"run python scripts/make_completions.py ({name})"
        )
    for shell, name in FILES.items():
        assert run_cli("completion", "show", shell).stdout == (COMPLETIONS / name).read_text(encoding="utf-8")


def test_commands_options_and_choices(shim: Path) -> None:
    assert {"ls", "tail", "runs", "runtimes", "tasks", "timeline", "check", "info", "completion"} <= set(
        complete("tasklog ", shim)
    )
    assert complete("tasklog ls --fo", shim) == ["--format"]
    assert complete("tasklog ls -a f", shim) == ["fail"]
    assert set(complete("tasklog ls -o j", shim)) == {"json", "jsonl"}
    assert "--max-failures" in complete("tasklog check --max", shim)
    assert complete("tasklog completion ", shim) == ["install", "show"]
    assert complete("tasklog completion install ", shim) == ["bash", "zsh", "fish"]


def test_task_names_come_from_the_repo_and_are_cached(shim: Path) -> None:
    refresh_facts(TASK_RUN, None)  # what the first TAB's reader leaves for the next one
    assert cache_path().is_file()
    assert complete(f"tasklog ls -r {TASK_RUN} -t time", shim) == [
        "timeout_async",
        "timeout_process",
        "timeout_thread",
    ]
    assert complete(f"tasklog -r {TASK_RUN} runs -t multi", shim) == [
        "multilaunch_increment",
        "multilaunch_uuid",
    ]
    assert complete("tasklog ls -t fail", shim, {"TASKLOG_REPO": TASK_RUN}) == ['fails,\\ \\"loudly\\"\\ ✗']


def test_timeline_completes_task_names_as_its_arguments(shim: Path) -> None:
    refresh_facts("demo", None)
    assert complete("tasklog timeline -r demo imp", shim) == ["import_orders"]
    assert complete("tasklog timeline -r demo import_orders fetch", shim) == ["fetch_prices"]
    assert complete("tasklog timeline imp", shim, {"TASKLOG_REPO": "demo"}) == ["import_orders"]


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("-t stu", ["stuck\\ job", "stuck\\ other"]),  # a word bash reads back as one argument
        ("-t stuck\\ j", ["stuck\\ job"]),  # what was typed escaped is matched unescaped
        ("-t 'stuck j", ["stuck job"]),  # inside an open quote: readline adds the closing one
        ('-t "sa', ['say \\"hi\\", \\$HOME']),
        ("-t sa", ['say\\ \\"hi\\",\\ \\$HOME']),
        ("-t it", ["it\\'s\\ \\*"]),
        ("-t 'it", ["it'\\''s *"]),
        ("-t a:", ["b"]),  # bash replaces only what follows the `:` (COMP_WORDBREAKS)
        ("-t x=", ["y\\ z"]),
        ("-t ta", ["$'tab\\x09x'"]),
    ],
)
def test_bash_gets_words_it_reads_back_as_the_task_names(
    shim: Path, tmp_path: Path, typed: str, expected: list[str]
) -> None:
    store = csv_store(
        tmp_path, "stuck job", "stuck other", 'say "hi", $HOME', "it's *", "a:b", "x=y z", "tab\tx"
    )
    assert complete(f"tasklog ls -r {store} {typed}", shim) == expected


def test_quoting_round_trips_through_bash() -> None:
    names = [
        "stuck job",
        'say "hi", wörld ✓',
        "it's",
        "$HOME `x` !1",
        "a:b=c",
        "tab\there",
        "line\nbreak",
        "~x #y",
    ]
    for name in names:
        for quote, opening in ((None, ""), ("'", "'"), ('"', '"')):
            if quote and not name.isprintable():
                continue
            closing = opening
            word = opening + bash_quote(name, quote) + closing
            echoed = subprocess.run(
                ["bash", "-c", f"printf %s {word}"], capture_output=True, text=True, check=True
            )
            assert echoed.stdout == name, (name, word)


def test_read_line_splits_as_a_shell_does() -> None:
    assert read_line("tasklog ls -t 'a b' c\\ d ").words == ["tasklog", "ls", "-t", "a b", "c d"]
    typed = read_line("tasklog ls -r sqlite:///x")
    assert (typed.incomplete, typed.kept, typed.quote) == ("sqlite:///x", 7, None)
    typed = read_line('tasklog -t "it\\"s')
    assert (typed.incomplete, typed.quote) == ('it"s', '"')
    assert read_line("tasklog ls ").incomplete == ""


def test_repo_completes_config_names_demo_and_paths(shim: Path, tmp_path: Path) -> None:
    (tmp_path / "logs").mkdir()
    (tmp_path / "logs" / "app.csv").write_text("task_name,action,created\n")
    (tmp_path / "tasklog.toml").write_text(
        '[repos.prod]\nurl = "sqlite:///prod.db"\n[repos.staging]\nurl = "x.csv"\n'
    )

    def in_folder(line: str) -> list[str]:
        environment = {**os.environ, "PATH": f"{shim}:{os.environ['PATH']}"}
        environment.update(_TASKLOG_COMPLETE="complete_bash", _TASKLOG_COMPLETE_LINE=line)
        result = subprocess.run(
            [str(shim / "tasklog")], capture_output=True, text=True, env=environment, cwd=tmp_path, check=True
        )
        return result.stdout.split()

    assert in_folder("tasklog ls -r ") == ["prod", "staging", "demo", "bin/", "logs/", "tasklog.toml"]
    assert in_folder("tasklog ls -r d") == ["demo"]
    assert in_folder("tasklog -r lo") == ["logs/"]
    assert in_folder("tasklog ls -r logs/") == ["logs/app.csv"]
    assert in_folder("tasklog ls -r sqlite:///lo") == ["///logs/"]  # bash keeps `sqlite:` (a word break)
    assert ask("zsh", f"tasklog ls -r {tmp_path}/lo", shim) == [f"{tmp_path}/logs/\t"]


def test_fields_complete_the_store_fields_and_after_a_comma(shim: Path) -> None:
    refresh_facts(TASK_RUN, None)
    fields = complete(f"tasklog ls -r {TASK_RUN} --fields ", shim)
    assert fields[:4] == ["created", "task_name", "action", "run_id"]
    assert {"start", "exc_text", "message", "all"} <= set(fields)
    assert complete(f"tasklog ls -r {TASK_RUN} --fields created,ta", shim) == ["created,task_name"]
    assert complete(f"tasklog ls -r {TASK_RUN} --fields created,task_name,", shim)[:2] == [
        "created,task_name,action",
        "created,task_name,run_id",
    ]
    assert complete(f"tasklog tail -r {TASK_RUN} --fields=ex", shim) == ["exc_text"]
    assert ask("zsh", f"tasklog tail -r {TASK_RUN} --fields=ex", shim) == ["--fields=exc_text\t"]
    assert complete(f"tasklog timeline -r {TASK_RUN} x --fields a", shim) == ["attempt", "action", "all"]
    assert complete("tasklog runs --fields st", shim) == ["start", "status"]
    assert complete("tasklog runtimes --fields p", shim) == ["p50", "p95"]
    assert complete("tasklog tasks --fields last_", shim) == ["last_start", "last_outcome", "last_duration"]
    assert complete("tasklog check --fields pro", shim) == ["problem"]


def test_table_completes_the_task_log_tables(shim: Path, tmp_path: Path) -> None:
    import shutil
    import sqlite3

    database = tmp_path / "two.db"
    shutil.copy(ROCKETRY / "task_run.db", database)
    with sqlite3.connect(database) as connection:
        connection.execute("CREATE TABLE archive AS SELECT * FROM tasks")
        connection.execute("CREATE TABLE users (name TEXT)")
    refresh_facts(str(database), None)
    assert complete(f"tasklog ls -r {database} --table ", shim) == ["archive", "tasks"]
    url = f"sqlite:///{database}"
    refresh_facts(url, None)
    assert complete(f"tasklog ls -r {url} --table a", shim) == ["archive"]


def test_run_ids_are_the_latest_ones_and_follow_the_tasks(shim: Path, tmp_path: Path) -> None:
    store = csv_store(tmp_path, "nightly", "hourly", "nightly")
    refresh_facts(store, None)
    assert complete(f"tasklog ls -r {store} --run-id ", shim) == ["r2", "r1", "r0"]
    assert complete(f"tasklog runs -r {store} -t nightly --run-id ", shim) == ["r2", "r0"]
    assert complete(f"tasklog runs -r {store} -t 'night*' --run-id r", shim) == ["r2", "r0"]


def test_completion_is_silent_on_errors_and_never_imports_user_code(shim: Path, tmp_path: Path) -> None:
    env = {"XDG_CACHE_HOME": str(tmp_path / "cache")}
    assert complete(f"tasklog ls -r {tmp_path / 'missing.csv'} -t a", shim, env) == []
    assert complete(f"tasklog ls -r {tmp_path / 'missing.csv'} --fields a", shim, env) == []
    assert complete(f"tasklog ls -r {tmp_path}/nowhere/x", shim, env) == []
    (tmp_path / "spy.py").write_text(f"open({str(tmp_path / 'imported')!r}, 'w').close()\nrepo = None\n")
    env["PYTHONPATH"] = str(tmp_path)
    assert complete("tasklog ls -r spy:repo -t a", shim, env) == []
    assert complete("tasklog ls -r spy:repo --fields a", shim, env) == []
    assert not (tmp_path / "imported").exists()


def test_zsh_and_fish_get_whole_words_with_their_help(shim: Path, tmp_path: Path) -> None:
    store = csv_store(tmp_path, "stuck job")
    for shell in ("zsh", "fish"):
        assert [line.split("\t")[0] for line in ask(shell, "tasklog ls --for", shim)] == ["--format"]
        assert ask(shell, "tasklog ls --for", shim)[0].startswith("--format\ttable, plain, tsv")
        assert ask(shell, f"tasklog ls -r {store} -t stu", shim) == ["stuck job\t"]
        assert ask(shell, f"tasklog ls -r {store} -t stuck\\ j", shim) == ["stuck job\t"]


# --- tasklog completion install / show ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("shell", "where"),
    [
        ("bash", ".local/share/bash-completion/completions/tasklog"),
        ("zsh", ".zfunc/_tasklog"),
        ("fish", ".config/fish/completions/tasklog.fish"),
    ],
)
def test_install_writes_the_script_where_the_shell_loads_it(
    shell: str, where: str, isolated_env: Path
) -> None:
    result = run_cli("completion", "install", shell)
    path = isolated_env / where
    assert script_path(shell) == path
    assert path.read_text(encoding="utf-8") == (COMPLETIONS / FILES[shell]).read_text(encoding="utf-8")
    assert result.stdout.splitlines()[0] == f"wrote {path}"
    assert result.stdout.splitlines()[-1] == "open a new shell to use it"


def test_install_takes_the_shell_from_shell_and_names_it_when_it_cannot(isolated_env: Path) -> None:
    run_cli("completion", "install", env={"SHELL": "/usr/bin/fish"})
    assert (isolated_env / ".config/fish/completions/tasklog.fish").is_file()
    result = run_cli("completion", "install", env={"SHELL": "/bin/tcsh"}, expect=2)
    assert_one_error_line(result, "SHELL=tcsh", "bash, zsh, fish")
    assert_one_error_line(run_cli("completion", "install", "csh", expect=2), "csh")


def test_install_follows_the_user_dirs(isolated_env: Path, tmp_path: Path) -> None:
    env = {"XDG_DATA_HOME": str(tmp_path / "data"), "ZDOTDIR": str(tmp_path / "zdot")}
    run_cli("completion", "install", "bash", env=env)
    assert (tmp_path / "data/bash-completion/completions/tasklog").is_file()
    run_cli("completion", "install", "bash", env={"BASH_COMPLETION_USER_DIR": str(tmp_path / "mine")})
    assert (tmp_path / "mine/completions/tasklog").is_file()
    run_cli("completion", "install", "zsh", env=env)
    assert (tmp_path / "zdot/.zfunc/_tasklog").is_file()
    assert (tmp_path / "zdot/.zshrc").is_file()


def test_zsh_install_adds_its_folder_to_fpath_once(isolated_env: Path) -> None:
    zshrc = isolated_env / ".zshrc"
    zshrc.write_text("export EDITOR=vi")
    first = run_cli("completion", "install", "zsh").stdout
    assert "fpath" in first
    second = run_cli("completion", "install", "zsh").stdout
    assert "fpath" not in second
    text = zshrc.read_text()
    assert text.startswith("export EDITOR=vi\n")
    assert text.count("fpath=(~/.zfunc $fpath)") == 1
    assert text.index("fpath") < text.index("compinit")
