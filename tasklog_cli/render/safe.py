"""Log text is untrusted: control characters, escape sequences and bidi controls are shown, never obeyed."""

import re

# C0 controls (tab and newline included), DEL, C1 controls, the bidi controls, and the line and paragraph
# separators: any of them could move the cursor, recolour, retitle or reorder what a terminal shows.
_CONTROLS = "\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029"
UNSAFE = re.compile(f"[{_CONTROLS}]")
UNSAFE_OR_BACKSLASH = re.compile(f"[{_CONTROLS}\\\\]")
# What JSON leaves raw inside strings (it escapes C0 itself): DEL, C1, bidi controls, U+2028/9.
JSON_UNSAFE = re.compile("[\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]")
_SHORT_ESCAPES = {"\t": "\\t", "\n": "\\n", "\r": "\\r", "\\": "\\\\"}


def escape_char(char: str) -> str:
    """The visible form of one character: `\\t`, `\\n`, `\\r`, `\\\\`, `\\x1b`, `\\u202e`."""
    short = _SHORT_ESCAPES.get(char)
    if short is not None:
        return short
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def _escape_match(match: re.Match[str]) -> str:
    return escape_char(match.group())


def visible(text: str) -> str:
    """Text for a terminal: every control character shown as its escape (`ESC[2J` as `\\x1b[2J`)."""
    return UNSAFE.sub(_escape_match, text) if UNSAFE.search(text) else text


def escaped(text: str) -> str:
    """Text for one field of plain/tsv output: backslashes doubled, every control character escaped, so
    a record is one line and the escapes can be read back unambiguously."""
    return UNSAFE_OR_BACKSLASH.sub(_escape_match, text) if UNSAFE_OR_BACKSLASH.search(text) else text


def _json_escape_match(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group()):04x}"


def json_safe(text: str) -> str:
    """JSON text with the characters JSON leaves raw (DEL, C1, bidi, U+2028/9) as `\\uXXXX` escapes."""
    return JSON_UNSAFE.sub(_json_escape_match, text) if JSON_UNSAFE.search(text) else text
