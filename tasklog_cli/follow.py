"""The polling loop of `tail -f`; sleep is a parameter, so tests drive it without waiting."""

import time
from collections.abc import Callable

from tasklog_cli.models import Record
from tasklog_cli.sources.base import Watch


def follow(
    watch: Watch,
    emit: Callable[[Record], None],
    *,
    interval: float,
    sleep: Callable[[float], None] = time.sleep,
    polls: int | None = None,
) -> int:
    """Emit each new matching record as it is written, polling every `interval` seconds, until
    interrupted, the watch is `finished` (a stream at its end), or after `polls` polls; returns how many
    records were emitted."""
    emitted = 0
    done = 0
    while polls is None or done < polls:
        for record in watch.poll():
            emit(record)
            emitted += 1
        if getattr(watch, "finished", False):
            break  # a stream that ended: nothing more will come
        done += 1
        sleep(interval)
    return emitted
