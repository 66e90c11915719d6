"""Configured repos (precedence, time zones, broken files, code only from trusted places) and `check`."""

import json
from pathlib import Path

import pytest
from conftest import ROCKETRY, assert_one_error_line, run_cli

CSV = str(ROCKETRY / "task_run.csv")
DB = str(ROCKETRY / "task_run.db")


def write_config(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def info(*args: str, env: dict[str, str] | None = None) -> dict[str, object]:
    return dict(json.loads(run_cli("info", *args, "-o", "json", env=env).stdout))


def test_named_repos_default_and_precedence(isolated_env: Path) -> None:
    write_config(
        isolated_env / ".config" / "tasklog" / "config.toml",
        f'default = "db"\n[repos.db]\nurl = "{DB}"\n[repos.csv]\nurl = "{CSV}"\n',
    )
    chosen = info()
    assert chosen["source"] == DB
    assert str(chosen["chosen_by"]).startswith("default repo 'db'")
    assert info("-r", "csv")["source"] == CSV
    assert info(env={"TASKLOG_REPO": "csv"})["source"] == CSV
    assert info("-r", "db", env={"TASKLOG_REPO": "csv"})["source"] == DB


def test_local_config_wins_over_the_user_one(isolated_env: Path) -> None:
    write_config(
        isolated_env / ".config" / "tasklog" / "config.toml", f'default = "a"\n[repos.a]\nurl = "{DB}"\n'
    )
    write_config(isolated_env / "tasklog.toml", f'default = "b"\n[repos.b]\nurl = "{CSV}"\n')
    assert info()["source"] == CSV


def test_repo_time_zone_and_table(isolated_env: Path) -> None:
    write_config(
        isolated_env / "tasklog.toml",
        f'[repos.h]\nurl = "{DB}"\ntable = "tasks"\ntime_zone = "Europe/Helsinki"\n[repos.bad]\nurl = "{DB}"\ntable = "nope"\n',
    )
    rows = [
        json.loads(line)
        for line in run_cli("ls", "-r", "h", "--head", "1", "-o", "jsonl").stdout.splitlines()
    ]
    utc_rows = [
        json.loads(line) for line in run_cli("ls", "-r", DB, "--head", "1", "-o", "jsonl").stdout.splitlines()
    ]
    assert rows[0]["created"] == utc_rows[0]["created"]  # created is an epoch: no zone involved
    assert rows[0]["start"] != utc_rows[0]["start"]  # start is naive local time: read in the repo's zone
    assert_one_error_line(run_cli("ls", "-r", "bad", expect=3), "nope")


@pytest.mark.parametrize(
    ("text", "fragments"),
    [
        ("default = \n", ["tasklog.toml", "line 1"]),
        ('[repos.a]\nurll = "x"\n', ["tasklog.toml", "repos.a"]),
        ('default = "missing"\n', ["tasklog.toml", "default", "missing"]),
        ("[repos.a]\nurl = 3\n", ["tasklog.toml", "repos.a.url"]),
    ],
)
def test_broken_config_is_a_usage_error(isolated_env: Path, text: str, fragments: list[str]) -> None:
    write_config(isolated_env / "tasklog.toml", text)
    assert_one_error_line(run_cli("ls", expect=2), *fragments)


def test_code_runs_only_from_trusted_places(isolated_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (isolated_env / "userrepo.py").write_text(
        "from tasklog_cli.sources.redbird import load_redbird\n"
        "open('imported', 'w').close()\n"
        "repo = load_redbird().repos.MemoryRepo(collection=[dict(task_name='a', action='run', created=1.0)], model=dict)\n"
    )
    monkeypatch.syspath_prepend(str(isolated_env))
    write_config(isolated_env / "tasklog.toml", 'default = "code"\n[repos.code]\nurl = "userrepo:repo"\n')
    assert_one_error_line(run_cli("ls", expect=2), "userrepo:repo", "tasklog.toml")
    assert_one_error_line(run_cli("ls", env={"TASKLOG_REPO": "userrepo:repo"}, expect=2), "TASKLOG_REPO")
    assert not (isolated_env / "imported").exists()
    assert run_cli("ls", "-r", "userrepo:repo", "-o", "jsonl").stdout.count("\n") == 1
    assert (isolated_env / "imported").exists()


def test_check_exit_codes_and_lines() -> None:
    healthy = run_cli("check", "-r", CSV, "-t", "succeeds", "--max-failures", "1")
    assert healthy.stdout == ""
    failing = run_cli(
        "check", "-r", CSV, "-t", "fails*", "-t", "flaky_retry", "--max-failures", "3", expect=1
    )
    assert failing.stdout.splitlines() == ['fails, "loudly" ✗\tmax_failures\t9 failures in a row (limit 3)']
    stale = run_cli(
        "check", "-r", CSV, "-t", "succeeds", "-t", "ghost", "--max-age", "1s", "-o", "json", expect=1
    )
    problems = json.loads(stale.stdout)
    assert [(p["task_name"], p["check"]) for p in problems] == [("ghost", "runs"), ("succeeds", "max_age")]
    assert problems[1]["limit"] == 1.0 and problems[1]["value"] > 1
    never = run_cli("check", "-r", CSV, "-t", "nothing_to_do", "--max-age", "1000d", expect=1)
    assert "no successful run" in never.stdout
    slow = run_cli("check", "-r", CSV, "-t", "multilaunch_uuid", "--max-duration", "1m", expect=1)
    assert all("running for" in line for line in slow.stdout.splitlines()) and slow.stdout.count("\n") == 2
    assert_one_error_line(run_cli("check", "-r", CSV, expect=2), "--max-age")
    assert_one_error_line(run_cli("check", "-r", CSV, "--max-age", "soon", expect=2), "soon")


def test_check_never_stays_green_on_nothing_to_check(tmp_path: Path) -> None:
    """The scope is the tasks -t/--where select over the whole history; -S narrows the runs looked at."""
    empty = tmp_path / "empty.csv"
    empty.write_text("task_name,action,created\r\n", encoding="utf-8")
    for args in (
        ("-r", str(empty), "--max-age", "1h"),
        ("-r", CSV, "-t", "nope*", "--max-failures", "1"),
        ("-r", CSV, "-w", "task_name=nope", "--max-age", "1h"),
    ):
        result = run_cli("check", *args, "-o", "jsonl", expect=1)
        assert [json.loads(line)["problem"] for line in result.stdout.splitlines()] == ["no task matched"], (
            args
        )
    stale = run_cli(
        "check", "-r", CSV, "-t", "succeeds", "-S", "1h", "--max-age", "1h", "-o", "jsonl", expect=1
    )
    assert [json.loads(line)["problem"] for line in stale.stdout.splitlines()] == ["no successful run"]
    # A window that holds the task's runs: healthy again.
    assert (
        run_cli("check", "-r", CSV, "-t", "succeeds", "-S", "2000-01-01", "--max-failures", "1").stdout == ""
    )


def test_check_says_which_run_a_duration_problem_is_about() -> None:
    slow = run_cli("check", "-r", CSV, "-t", "multilaunch_uuid", "--max-duration", "1m", expect=1)
    lines = slow.stdout.splitlines()
    assert len(lines) == len(set(lines)) == 2, lines  # two runs, told apart by their start and id
    assert all("started " in line and ", id " in line for line in lines)
