"""Log text made harmless for a terminal: control characters, escapes and bidi controls shown as `\\xNN`."""

import re

# C0 controls (tab and newline included: a cell is one line), DEL, C1 controls, and the bidi controls and
# marks that reorder what a line shows (U+061C, U+200E/F, U+202A-E, U+2066-9), and the line separators.
_HIDDEN = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def visible(text: str) -> str:
    """One line of untrusted text with every control character shown as an escape (`\\x1b`, `\\u202e`)."""
    return _HIDDEN.sub(_escape, text)


def visible_lines(text: str) -> list[str]:
    """Untrusted multi-line text (a message, a traceback) as lines, each with its controls shown."""
    return [visible(line.expandtabs(4)) for line in text.replace("\r\n", "\n").split("\n")]
