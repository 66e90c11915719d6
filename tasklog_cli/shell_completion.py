"""Shell completion for bash, zsh and fish: the scripts, the protocol they speak with tasklog (the typed
line in, quoted candidates out), and `tasklog completion install|show`."""

import os
import re
import sys
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, ClassVar

import typer
from typer._click.shell_completion import ShellComplete, add_completion_class

from tasklog_cli.errors import UsageError

COMPLETE_VAR = "_TASKLOG_COMPLETE"
LINE_VAR = "_TASKLOG_COMPLETE_LINE"  # the command line up to the cursor, as typed
BREAKS_VAR = "_TASKLOG_COMPLETE_BREAKS"  # bash's COMP_WORDBREAKS
DEFAULT_BREAKS = " \t\n\"'><=;|&(:"
# What a word must escape in bash (readline's own list for file names, plus glob and brace characters).
_BASH_SPECIAL = frozenset(" \t\n\\\"'@<>=;|&()#$`?*[]!:{}~^")

BASH_SCRIPT = """\
# tasklog completion for bash: `tasklog completion install bash`, or source this file.
_tasklog_completion() {
    local IFS=$'\\n' response
    response=$(%(var)s=complete_bash %(line)s="${COMP_LINE:0:COMP_POINT}" %(breaks)s="$COMP_WORDBREAKS" \\
        "$1" 2>/dev/null) || return 0
    COMPREPLY=()
    [[ -n $response ]] && mapfile -t COMPREPLY <<< "$response"
    if [[ ${#COMPREPLY[@]} -eq 1 && ${COMPREPLY[0]} == */ ]]; then
        compopt -o nospace
    fi
    return 0
}
complete -o default -F _tasklog_completion tasklog
"""

ZSH_SCRIPT = """\
#compdef tasklog
# tasklog completion for zsh: `tasklog completion install zsh`, or put this file on $fpath as _tasklog.
_tasklog() {
  local -a values displays folders
  local line value help
  for line in "${(@f)$(%(var)s=complete_zsh %(line)s="${(j: :)words[1,CURRENT]}" \\
      ${words[1]} 2>/dev/null)}"; do
    [[ -z $line ]] && continue
    value=${line%%%%$'\\t'*}
    help=${line#*$'\\t'}
    if [[ $value == */ ]]; then
      folders+=("$value")
    else
      values+=("$value")
      if [[ $line == *$'\\t'* && -n $help ]]; then
        displays+=("$value  -- $help")
      else
        displays+=("$value")
      fi
    fi
  done
  (( ${#values} )) && compadd -l -d displays -- "${values[@]}"
  (( ${#folders} )) && compadd -S '' -- "${folders[@]}"
  return 0
}
if [[ $funcstack[1] == _tasklog ]]; then
  _tasklog "$@"
else
  compdef _tasklog tasklog
fi
"""

FISH_SCRIPT = """\
# tasklog completion for fish: `tasklog completion install fish`, or copy to ~/.config/fish/completions/.
function __tasklog_complete
    %(var)s=complete_fish %(line)s=(commandline -cp | string collect) tasklog 2>/dev/null
end
complete --command tasklog --no-files --arguments '(__tasklog_complete)'
"""


@dataclass(frozen=True)
class TypedLine:
    """A command line up to the cursor: its finished words and the one being typed (quotes removed);
    `kept` is how much of that word the shell keeps (bash replaces only what follows a `:` or `=`),
    `quote` the quote the cursor is in."""

    words: list[str]
    incomplete: str
    kept: int = 0
    quote: str | None = None


def read_line(line: str, breaks: str = DEFAULT_BREAKS) -> TypedLine:
    """Split a typed command line as the shell would, the last word possibly unfinished."""
    words: list[str] = []
    current: list[str] | None = None
    quote: str | None = None
    kept = 0
    position = 0
    while position < len(line):
        char = line[position]
        following = line[position + 1] if position + 1 < len(line) else ""
        if quote is not None and current is not None:
            if char == quote:
                quote, kept = None, len(current)
            elif quote == '"' and char == "\\" and following in '"\\$`':
                current.append(following)
                position += 1
            else:
                current.append(char)
        elif char in " \t\n":
            if current is not None:
                words.append("".join(current))
                current = None
        else:
            if current is None:
                current, kept = [], 0
            if char == "\\":
                current.append(following)
                position += 1
            elif char in "'\"":
                quote, kept = char, len(current)
            else:
                current.append(char)
                if char in breaks:
                    kept = len(current)
        position += 1
    if current is None:
        return TypedLine(words, "")
    return TypedLine(words, "".join(current), kept, quote)


def bash_quote(text: str, quote: str | None = None) -> str:
    """Text as bash reads it back: inside the open quote, else with backslashes (or $'...')."""
    if quote == "'":
        return text.replace("'", "'\\''")
    if quote == '"':
        return re.sub(r'(["\\$`])', r"\\\1", text)
    if not text.isprintable():
        escaped = text.replace("\\", "\\\\").replace("'", "\\'")
        return "$'" + "".join(char if char.isprintable() else f"\\x{ord(char):02x}" for char in escaped) + "'"
    return "".join(f"\\{char}" if char in _BASH_SPECIAL else char for char in text)


class LineComplete(ShellComplete):
    """A shell's side of the protocol: the typed line from LINE_VAR, candidates one per line."""

    script: ClassVar[str]

    def source_vars(self) -> dict[str, Any]:
        """The names the script passes the line in."""
        return {"var": COMPLETE_VAR, "line": LINE_VAR, "breaks": BREAKS_VAR}

    def source(self) -> str:
        """The completion script of this shell."""
        return self.script % self.source_vars()

    def typed_line(self) -> TypedLine:
        """The command line the shell sent."""
        return read_line(os.environ.get(LINE_VAR, ""))

    def get_completion_args(self) -> tuple[list[str], str]:
        """The finished words after the program name, and the one being typed."""
        typed = self.typed_line()
        return typed.words[1:], typed.incomplete

    def candidates(self, typed: TypedLine) -> list[tuple[str, str]]:
        """Whole words that complete the one being typed, with their help (`--fields=` kept in front)."""
        option, equals, _ = typed.incomplete.partition("=")
        prefix = option + equals if equals and option.startswith("-") else ""
        found = []
        for item in self.get_completions(typed.words[1:], typed.incomplete):
            word = prefix + str(item.value)
            if item.type == "plain" and word.startswith(typed.incomplete):
                found.append((word, " ".join((item.help or "").split())))
        return found

    def format_completion(self, item: Any) -> str:  # the protocol is line-based: see complete()
        raise NotImplementedError

    def complete(self) -> str:
        """One `word<TAB>help` line per candidate, for zsh and fish (they quote what they insert)."""
        return "\n".join(f"{word}\t{help_text}" for word, help_text in self.candidates(self.typed_line()))


class BashComplete(LineComplete):
    """bash inserts words as they are: quote them here, and only the part readline replaces."""

    name = "bash"
    script = BASH_SCRIPT

    def typed_line(self) -> TypedLine:
        """The command line, split at bash's COMP_WORDBREAKS too."""
        return read_line(os.environ.get(LINE_VAR, ""), os.environ.get(BREAKS_VAR, DEFAULT_BREAKS))

    def complete(self) -> str:
        """One quoted replacement per line."""
        typed = self.typed_line()
        return "\n".join(bash_quote(word[typed.kept :], typed.quote) for word, _ in self.candidates(typed))


class ZshComplete(LineComplete):
    """zsh: `compadd` quotes and matches the candidates."""

    name = "zsh"
    script = ZSH_SCRIPT


class FishComplete(LineComplete):
    """fish: it escapes and matches the candidates itself."""

    name = "fish"
    script = FISH_SCRIPT


SHELLS: dict[str, type[LineComplete]] = {"bash": BashComplete, "zsh": ZshComplete, "fish": FishComplete}
for _shell, _complete in SHELLS.items():
    add_completion_class(_complete, _shell)


def completion_script(shell: str) -> str:
    """The completion script of a shell, as `tasklog completion show SHELL` prints it."""
    return SHELLS[shell].script % {"var": COMPLETE_VAR, "line": LINE_VAR, "breaks": BREAKS_VAR}


def _home_dir(variable: str, default: str) -> Path:
    return Path(os.environ.get(variable) or Path.home() / default)


def script_path(shell: str) -> Path:
    """Where the shell looks for a user's completion of `tasklog`."""
    if shell == "bash":  # bash-completion loads it the first time `tasklog` is completed
        user_dir = os.environ.get("BASH_COMPLETION_USER_DIR")
        base = Path(user_dir) if user_dir else _home_dir("XDG_DATA_HOME", ".local/share") / "bash-completion"
        return base / "completions" / "tasklog"
    if shell == "zsh":
        return _home_dir("ZDOTDIR", "") / ".zfunc" / "_tasklog"
    return _home_dir("XDG_CONFIG_HOME", ".config") / "fish" / "completions" / "tasklog.fish"


BASH_COMPLETION_SCRIPTS = (Path("/usr/share/bash-completion/bash_completion"), Path("/etc/bash_completion"))
ZSHRC_LINES = "fpath=(~/.zfunc $fpath)  # tasklog completion\nautoload -Uz compinit && compinit\n"


def install(shell: str) -> list[str]:
    """Write the shell's script where it is loaded from; return what was done, one line each."""
    path = script_path(shell)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(completion_script(shell), encoding="utf-8")
    done = [f"wrote {path}"]
    if shell == "bash" and not any(script.is_file() for script in BASH_COMPLETION_SCRIPTS):
        done.append(f"bash-completion is not installed: install it, or add `source {path}` to ~/.bashrc")
    if shell == "zsh":
        zshrc = _home_dir("ZDOTDIR", "") / ".zshrc"
        text = zshrc.read_text(encoding="utf-8") if zshrc.is_file() else ""
        if ".zfunc" not in text:
            zshrc.write_text(text + ("\n" if text and not text.endswith("\n") else "") + ZSHRC_LINES, "utf-8")
            done.append(f"added ~/.zfunc to $fpath (and compinit) in {zshrc}")
    done.append("open a new shell to use it")
    return done


class ShellName(StrEnum):
    """The shells tasklog completes in."""

    BASH = "bash"
    ZSH = "zsh"
    FISH = "fish"


def shell_of(name: ShellName | None) -> str:
    """The shell named, else the user's login shell ($SHELL)."""
    if name is not None:
        return str(name)
    login = Path(os.environ.get("SHELL", "")).name
    if login not in SHELLS:
        raise UsageError(
            f"cannot tell your shell from SHELL={login or '(unset)'}: name one of bash, zsh, fish"
        )
    return login


completion_app = typer.Typer(
    name="completion",
    help="Shell completion for bash, zsh and fish: install it, or print its script.",
    add_completion=False,
    rich_markup_mode=None,
    no_args_is_help=True,
)
ShellArgument = Annotated[
    ShellName | None,
    typer.Argument(
        metavar="[SHELL]", help="bash, zsh or fish [default: the one in $SHELL].", show_default=False
    ),
]


@completion_app.command("install")
def install_command(shell: ShellArgument = None) -> None:
    """Install completion for your shell where it loads it from, and say where."""
    for line in install(shell_of(shell)):
        print(line)


@completion_app.command("show")
def show_command(shell: ShellArgument = None) -> None:
    """Print the completion script, to install it by hand."""
    sys.stdout.write(completion_script(shell_of(shell)))
