"""Regenerate completions/ (bash, zsh, fish) from the app: `python scripts/make_completions.py`."""

from pathlib import Path

from tasklog_cli.shell_completion import completion_script

COMPLETIONS = Path(__file__).resolve().parent.parent / "completions"
FILES = {"bash": "tasklog.bash", "zsh": "_tasklog", "fish": "tasklog.fish"}


def scripts() -> dict[str, str]:
    """Each shell's script, as `tasklog completion show SHELL` prints it."""
    return {name: completion_script(shell) for shell, name in FILES.items()}


def main() -> None:
    COMPLETIONS.mkdir(exist_ok=True)
    for name, text in scripts().items():
        (COMPLETIONS / name).write_text(text, encoding="utf-8")
        print(f"wrote completions/{name}")


if __name__ == "__main__":
    main()
