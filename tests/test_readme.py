"""The README's promises: a two-command Quick start that CI runs, and a reference naming every option."""

import re
from pathlib import Path

from typer.main import get_command

from tasklog_cli.cli import app

ROOT = Path(__file__).parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def quick_start_commands() -> list[str]:
    section = README.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```(?:sh|bash|console)?\n(.*?)```", section, re.DOTALL)
    assert len(blocks) == 1, "the Quick start holds one fenced block"
    return [line for line in blocks[0].splitlines() if line.strip()]


def test_quick_start_is_two_commands_install_and_test() -> None:
    install, test = quick_start_commands()
    assert "tasklog ls -r demo" in install and install.startswith("pip install .")
    assert "pytest" in test and "[test]" in test


def test_ci_runs_the_readme_test_command() -> None:
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert quick_start_commands()[1] in ci.splitlines()


def test_every_command_and_option_is_in_the_readme() -> None:
    group = get_command(app)
    for name, command in group.commands.items():  # type: ignore[attr-defined]
        assert f"tasklog {name}" in README, name
        for parameter in command.params:
            for option in parameter.opts:
                if option.startswith("--") and option != "--help":
                    assert option in README, f"{name} {option}"
