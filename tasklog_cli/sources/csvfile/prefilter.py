"""The byte-cheap prefilter: texts a CSV row must contain to match a query, tested before any parsing."""

import re

from tasklog_cli.query import GLOB_CHARS, Query

_GLOB_PARTS = re.compile(r"\[!?\]?[^\]]*\]|[*?\[]")  # fnmatch: a `]` right after `[` or `[!` is a member


def csv_needle(value: str) -> str | None:
    """The text a CSV row holding `value` must contain (quotes doubled), or None when unusable."""
    if not value or "\r" in value:
        return None
    return value.replace('"', '""')


def glob_needle(pattern: str) -> str | None:
    """The longest literal run of a glob: every name it matches contains it."""
    literal = max(_GLOB_PARTS.split(pattern), key=len)
    return csv_needle(literal)


def prefilter_groups(query: Query) -> list[tuple[str, ...]]:
    """Groups of needles; a matching row contains at least one needle of every group."""
    groups: list[tuple[str, ...]] = []
    for values, is_glob_option in ((query.tasks, True), (query.actions, False), (query.run_ids, False)):
        if not values:
            continue
        needles = [
            glob_needle(value) if is_glob_option and GLOB_CHARS & set(value) else csv_needle(value)
            for value in values
        ]
        if all(needles):
            groups.append(tuple(dict.fromkeys(needle for needle in needles if needle)))
    return groups


def keep_containing(texts: list[str], groups: list[tuple[str, ...]]) -> list[str]:
    """Keep the texts holding a needle of every group (C-speed `in` tests, no parsing)."""
    for group in groups:
        if len(group) == 1:
            needle = group[0]
            texts = [text for text in texts if needle in text]
        else:
            texts = [text for text in texts if any(needle in text for needle in group)]
    return texts
