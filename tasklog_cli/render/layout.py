"""How wide each table column is: what a column may give up, what it never does, and which go first.

Numbers, durations, rates and outcomes are never cut; long text, ids and task names shrink to a floor; times
shorten (milliseconds, then seconds) but keep their date. When even the floors do not fit, whole columns go,
least important first: the sparkline and outcome strip, then ids, then the lesser statistics.
"""

from collections.abc import Sequence
from dataclasses import dataclass

# Long free text: the column that takes what room is left.
FLEXIBLE_COLUMNS = frozenset(
    {"message", "exc_text", "msg", "formatted_message", "error", "pathname", "problem"}
)
ID_COLUMNS = frozenset({"run_id", "id", "task_id"})
TIME_COLUMNS = frozenset({"created", "start", "end", "last_start", "bucket", "first", "last"})
STRIP_COLUMNS = frozenset({"recent", "outcomes"})  # drawn runs, cut from the left (the latest stay)
NUMBER_COLUMNS = frozenset(
    {"runs", "success", "fail", "failed", "terminate", "inaction", "crash", "running", "success_rate",
     "min", "p50", "p95", "max", "mean", "duration", "last_duration", "attempt", "value", "limit"}
)  # fmt: skip
# How much a column matters: when the floors do not fit, the least important goes first.
IMPORTANCE = {
    "task_name": 100, "bucket": 95, "action": 90, "outcome": 90, "last_outcome": 88, "created": 85,
    "start": 80, "duration": 78, "streak": 76, "success_rate": 75, "failed": 74, "fail": 74, "check": 72,
    "message": 70, "problem": 70, "p50": 68, "runs": 66, "success": 64, "last_start": 62, "exc_text": 60,
    "last_duration": 58, "p95": 56, "status": 52, "attempt": 50, "max": 48, "end": 46, "terminate": 44,
    "crash": 44, "inaction": 42, "running": 42, "mean": 40, "min": 38, "value": 36, "limit": 36,
    "run_id": 30, "task_id": 28, "id": 26, "recent": 10, "outcomes": 5,
}  # fmt: skip
DEFAULT_IMPORTANCE = 50
TIME_FLOOR = len("2025-03-04 17:00")
TIME_COMFORT = len("2025-03-04 17:00:00")
TIME_GROW_ORDER = 1


@dataclass(frozen=True)
class Want:
    """What one column would like: its natural width, how narrow it may get, how wide it grows before
    the others get more, when it grows (lower first), how much it matters, and whether it takes what
    room is left at the end (free text)."""

    natural: int
    floor: int
    comfort: int
    grow_order: int
    importance: int
    fills: bool = False


def want(name: str, natural: int, header: int) -> Want:
    """What a column of this name wants, given the widest of its cells and its header's width."""
    importance = IMPORTANCE.get(name, DEFAULT_IMPORTANCE)
    natural = max(natural, header)
    if name in TIME_COLUMNS:
        floor = min(natural, max(TIME_FLOOR, header))
        return Want(natural, floor, max(floor, min(natural, TIME_COMFORT)), TIME_GROW_ORDER, importance)
    if name in NUMBER_COLUMNS or name in ("action", "outcome", "last_outcome", "streak"):
        return Want(natural, natural, natural, 0, importance)
    if name in STRIP_COLUMNS:
        return Want(natural, min(natural, 5), natural, 4, importance)
    if name in ID_COLUMNS:
        return Want(natural, min(natural, 8), min(natural, 8), 3, importance)
    if name in FLEXIBLE_COLUMNS:
        return Want(natural, min(natural, 12), min(natural, 40), 2, importance, fills=True)
    if name == "task_name":
        return Want(natural, min(natural, 16), min(natural, 30), 0, importance)
    return Want(natural, min(natural, 10), min(natural, 20), 2, importance)


def plan(wants: Sequence[Want], width: int | None, gap: int) -> list[int | None]:
    """Each column's width in `width` cells with `gap` between columns (None: the column is dropped);
    no width (a pipe) gives every column its natural width."""
    if width is None:
        return [item.natural for item in wants]
    kept = list(range(len(wants)))

    def needed(widths: Sequence[int]) -> int:
        return sum(widths) + gap * (len(widths) - 1)

    while len(kept) > 1 and needed([wants[p].floor for p in kept]) > width:
        # The least important goes; of equals, the rightmost.
        kept.remove(min(reversed(kept), key=lambda position: wants[position].importance))
    widths = {position: wants[position].floor for position in kept}
    room = width - needed(list(widths.values()))
    # Up to comfortable widths in grow order; then to natural widths, free text last (it takes the rest).
    # Times grow all together or not at all, so the time columns of a table show one precision.
    comfort_order = sorted(kept, key=lambda position: (wants[position].grow_order, position))
    natural_order = sorted(kept, key=lambda position: (wants[position].fills, position))
    times = [position for position in kept if wants[position].grow_order == TIME_GROW_ORDER]
    for target, growers in (("comfort", comfort_order), ("natural", natural_order)):
        for position in growers:
            if position in times:
                if position != times[0]:
                    continue
                group = times
            else:
                group = [position]
            deficits = [max(0, getattr(wants[member], target) - widths[member]) for member in group]
            if position in times and sum(deficits) > room:
                continue
            for member, deficit in zip(group, deficits, strict=True):
                extra = min(room, deficit)
                widths[member] += extra
                room -= extra
    if room < 0:  # one column alone wider than the screen
        widths[kept[0]] = max(1, widths[kept[0]] + room)
    return [widths.get(position) for position in range(len(wants))]
