"""Regenerate completions/ (bash, zsh, fish) from the app: `python scripts/make_completions.py`."""

from pathlib import Path

from typer._completion_shared import get_completion_script

COMPLETIONS = Path(__file__).resolve().parent.parent / "completions"
FILES = {"bash": "tasklog.bash", "zsh": "_tasklog", "fish": "tasklog.fish"}


def scripts() -> dict[str, str]:
    """Each shell's script, as `tasklog --show-completion SHELL` would print it."""
    return {
        name: get_completion_script(prog_name="tasklog", complete_var="_TASKLOG_COMPLETE", shell=shell) + "\n"
        for shell, name in FILES.items()
    }


def main() -> None:
    COMPLETIONS.mkdir(exist_ok=True)
    for name, text in scripts().items():
        (COMPLETIONS / name).write_text(text, encoding="utf-8")
        print(f"wrote completions/{name}")


if __name__ == "__main__":
    main()
