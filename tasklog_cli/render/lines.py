"""Lines for a terminal: cells cut and padded by their width on screen, styles as ANSI codes from Rich."""

from collections.abc import Iterable
from functools import cache

from rich.cells import cell_len, set_cell_size

Segment = tuple[str, str]  # (text, style): a style as Rich names it ("bold", "red"), or "" for none
ELLIPSIS = "…"


def cut(text: str, width: int) -> str:
    """The text in at most `width` cells, ending in `…` when it had to be cut."""
    if width <= 0:
        return ""
    if len(text) <= width and text.isascii():
        return text
    if cell_len(text) <= width:
        return text
    return set_cell_size(text, width - 1).rstrip() + ELLIPSIS


def cut_left(text: str, width: int) -> str:
    """The last `width` cells of a text of one-cell characters (a sparkline keeps its latest runs)."""
    return text[-width:] if width > 0 else ""


def fit(text: str, width: int, *, right: bool = False, pad: bool = True) -> str:
    """The text cut to `width` cells and (unless `pad` is false) padded to exactly `width`."""
    shown = cut(text, width)
    if not pad:
        return shown
    room = width - (len(shown) if shown.isascii() else cell_len(shown))
    return " " * room + shown if right else shown + " " * room


def gapped(cells: Iterable[Segment], gap: int) -> list[Segment]:
    """The cells with `gap` spaces between each two."""
    joined: list[Segment] = []
    for index, item in enumerate(cells):
        if index:
            joined.append((" " * gap, ""))
        joined.append(item)
    return joined


@cache
def _codes(style: str) -> tuple[str, str]:
    from rich.color import ColorSystem
    from rich.style import Style

    before, _, after = Style.parse(style).render("\0", color_system=ColorSystem.STANDARD).partition("\0")
    return before, after


class Painter:
    """Turns segments into one line of text, with ANSI styles when colour is on (whatever NO_COLOR says:
    the caller has decided)."""

    def __init__(self, color: bool) -> None:
        self.color = color

    def paint(self, text: str, style: str) -> str:
        """A text in a style (as it is when colour is off, or it has no style)."""
        if not self.color or not style or not text:
            return text
        before, after = _codes(style)
        return before + text + after

    def line(self, segments: Iterable[Segment]) -> str:
        """The segments joined into one line, trailing spaces dropped."""
        parts = [self.paint(text, style) for text, style in segments]
        return "".join(parts).rstrip(" ")
