"""`-n/--last` and `--head`: which of the matching items to keep, decided in this one place."""

from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import islice
from typing import TypeVar

from tasklog_cli.errors import UsageError

T = TypeVar("T")


@dataclass(frozen=True)
class Selection:
    """Which of the matching records to return: the first N, the last N, and in what order (`reverse`:
    newest first, after the first or last N are chosen)."""

    head: int | None = None
    last: int | None = None
    sort_created: bool = False
    reverse: bool = False

    def __post_init__(self) -> None:
        if self.head is not None and self.last is not None:
            raise UsageError("-n/--last and --head exclude each other: pick one")
        if (self.head or 0) < 0 or (self.last or 0) < 0:
            raise UsageError("-n/--last and --head take a count of 0 or more")

    @property
    def nothing(self) -> bool:
        """Whether the selection keeps nothing at all (`-n 0`, `--head 0`)."""
        return self.head == 0 or self.last == 0


def last_n(items: Iterable[T], count: int | None) -> list[T]:
    """The last `count` items (all when None, none when 0), holding no more than `count` at a time."""
    if count is None:
        return list(items)
    if count <= 0:
        return []
    return list(deque(items, maxlen=count))


def first_n(items: Iterable[T], count: int | None) -> Iterator[T]:
    """The first `count` items (all when None, none when 0), lazily."""
    return iter(items) if count is None else islice(items, max(count, 0))


def cut(
    rows: Iterable[T], *, head: int | None = None, last: int | None = None, reverse: bool = False
) -> tuple[Iterable[T], int]:
    """The first `head` or the last `last` of rows (newest first with `reverse`) and how many rows there
    were, holding no more than the count. Without a limit the rows stream through (unless reversed) and
    the number is 0."""
    count = head if head is not None else last
    if count is None:
        return (reversed(list(rows)) if reverse else rows), 0
    seen = 0

    def counted() -> Iterator[T]:
        nonlocal seen
        for row in rows:
            seen += 1
            yield row

    stream = counted()
    kept = list(first_n(stream, count)) if head is not None else last_n(stream, count)
    if head is not None:
        deque(stream, maxlen=0)  # counted to the end
    return (kept[::-1] if reverse else kept), seen
