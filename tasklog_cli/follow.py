"""The polling loop of `tail -f`; sleep is a parameter, so tests drive it without waiting."""

import time
from collections.abc import Callable, Iterator

from tasklog_cli.models import Record
from tasklog_cli.sources.base import Watch


def poll_records(
    watch: Watch, *, interval: float, sleep: Callable[[float], None] = time.sleep, polls: int | None = None
) -> Iterator[Record]:
    """Each new matching record as it is written, polling every `interval` seconds, for as long as it is
    read, until the watch is `finished` (a stream at its end), or for `polls` polls."""
    done = 0
    while polls is None or done < polls:
        yield from watch.poll()
        if getattr(watch, "finished", False):
            return  # a stream that ended: nothing more will come
        done += 1
        sleep(interval)
