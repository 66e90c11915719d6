"""The filter bar's text: the CLI's filter options (`-t nightly_* -a fail -S 2h`) read into a ViewFilter."""

import shlex
from collections.abc import Collection, Sequence
from dataclasses import dataclass, fields, replace

from tasklog_cli.api import Filters
from tasklog_cli.errors import UsageError
from tasklog_cli.query import Moment
from tasklog_cli.redact import redact_text
from tasklog_cli.times import iso_utc

# Each ViewFilter field as the CLI spells its option, shortest first (the first is how `args` writes it).
FIELD_OPTIONS = {
    "task": ("-t", "--task"), "action": ("-a", "--action"), "run_id": ("--run-id",),
    "since": ("-S", "--since"), "until": ("-U", "--until"), "grep": ("-g", "--grep"),
    "ignore_case": ("-i", "--ignore-case"), "where": ("-w", "--where"), "level": ("--level",),
}  # fmt: skip
OPTION_FIELDS = {option: name for name, options in FIELD_OPTIONS.items() for option in options}
REPEATED = ("task", "action", "run_id", "where")
FLAGS = ("ignore_case",)
# The time range presets `t` steps through: how far back `--since` reaches (None: all of it).
TIME_PRESETS: tuple[str | None, ...] = (None, "1h", "24h", "7d")


@dataclass(frozen=True)
class ViewFilter:
    """What every view of the dashboard shows: the CLI's filters, as typed."""

    task: tuple[str, ...] = ()
    action: tuple[str, ...] = ()
    run_id: tuple[str, ...] = ()
    since: str | None = None
    until: str | None = None
    grep: str | None = None
    ignore_case: bool = False
    where: tuple[str, ...] = ()
    level: str | None = None

    @classmethod
    def of(cls, filters: Filters, action: Sequence[str] = ()) -> "ViewFilter":
        """The filter that the API's keyword filters (and actions) mean."""

        def names(key: str) -> tuple[str, ...]:
            value = filters.get(key) or ()
            return (value,) if isinstance(value, str) else tuple(value)  # type: ignore[arg-type]

        level = filters.get("level")
        return cls(
            task=names("task"), action=tuple(action), run_id=names("run_id"),
            since=_text(filters.get("since")), until=_text(filters.get("until")), grep=filters.get("grep"),
            ignore_case=filters.get("ignore_case", False), where=names("where"),
            level=None if level is None else str(level),
        )  # fmt: skip

    def api(self) -> Filters:
        """The filters as the API's keyword arguments (the action apart: it selects records only)."""
        return Filters(
            task=self.task, run_id=self.run_id, since=self.since, until=self.until, grep=self.grep,
            ignore_case=self.ignore_case, where=self.where, level=self.level,
        )  # fmt: skip

    def args(self, omit: Collection[str] = ()) -> list[str]:
        """The filters as CLI words, in the order of the options (less the fields in `omit`)."""
        words: list[str] = []
        for item in fields(self):
            if item.name in omit:
                continue
            value, option = getattr(self, item.name), FIELD_OPTIONS[item.name][0]
            if item.name in FLAGS:
                words += [option] if value else []
            elif item.name in REPEATED:
                for one in value:
                    words += [option, one]
            elif value is not None:
                words += [option, value]
        return words

    def text(self) -> str:
        """The filters as they are typed in the filter bar."""
        return shlex.join(self.args())

    def next_time_preset(self) -> "ViewFilter":
        """The next time range preset (all, 1h, 24h, 7d, then all again); a typed range goes to all."""
        if self.until is None and self.since in TIME_PRESETS:
            position = TIME_PRESETS.index(self.since)
            return replace(self, since=TIME_PRESETS[(position + 1) % len(TIME_PRESETS)])
        return replace(self, since=None, until=None)

    def time_range(self) -> str:
        """The time range in words, for the status line."""
        if self.since is None and self.until is None:
            return "all time"
        if self.until is None:
            return f"since {self.since}"
        return f"{self.since or 'start'} to {self.until}"


def _text(moment: Moment | None) -> str | None:
    """A time as the filter bar shows it: as typed, or ISO for a datetime or epoch the API was given."""
    if moment is None or isinstance(moment, str):
        return moment
    return iso_utc(moment)


def parse_filter(text: str) -> ViewFilter:
    """The filter bar's text as a ViewFilter: options as the CLI takes them; bare words are task names."""
    try:
        words = shlex.split(text)
    except ValueError as exc:
        raise UsageError(f"filter: {exc}") from None
    repeated: dict[str, list[str]] = {name: [] for name in REPEATED}
    single: dict[str, str | bool] = {}
    position = 0
    while position < len(words):
        word = words[position]
        position += 1
        if not word.startswith("-") or word == "-":
            repeated["task"].append(word)
            continue
        option, equals, value = word.partition("=") if word.startswith("--") else (word, "", "")
        name = OPTION_FIELDS.get(option)
        if name is None:
            known = ", ".join(options[-1] for options in FIELD_OPTIONS.values())
            raise UsageError(f"filter: unknown option {option!r}: use {known}")
        if name in FLAGS:
            single[name] = True
            continue
        if not equals:
            if position == len(words):
                raise UsageError(f"filter: {option} needs a value")
            value, position = words[position], position + 1
        if name in REPEATED:
            repeated[name].append(value)
        else:
            single[name] = value
    return ViewFilter(**{name: tuple(found) for name, found in repeated.items()}, **single)  # type: ignore[arg-type]


def cli_command(command: str, repo: str | None, *words: str) -> str:
    """The tasklog command line that prints what a view shows (secrets in a repo URL hidden)."""
    source = ["-r", redact_text(repo)] if repo else []
    return shlex.join(["tasklog", command, *source, *words])
