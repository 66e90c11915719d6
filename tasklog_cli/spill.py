"""Sorting more items than memory should hold: sorted runs of them spilled to temporary files, merged back."""

import pickle
import tempfile
from collections.abc import Iterable, Iterator
from heapq import merge
from itertools import islice
from typing import IO, Any

CHUNK = 100_000  # items sorted in memory at a time
BLOCK = 1_024  # items pickled together (a merge holds one block per spilled chunk)


def _spill(items: list[Any]) -> IO[bytes]:
    """Write sorted items to an anonymous temporary file (gone when closed), a block per pickle."""
    file = tempfile.TemporaryFile()  # noqa: SIM115 (open until the merge has read it back)
    for start in range(0, len(items), BLOCK):
        pickle.dump(items[start : start + BLOCK], file, pickle.HIGHEST_PROTOCOL)
    file.seek(0)
    return file


def _read_back(file: IO[bytes]) -> Iterator[Any]:
    with file:
        while True:
            try:
                block = pickle.load(file)
            except EOFError:
                return
            yield from block


def sort_spilling(items: Iterable[Any], *, reverse: bool = False) -> Iterator[Any]:
    """Read every item now and hand them back sorted (they must compare without ties, e.g. tuples ending in
    a sequence number), holding at most CHUNK of them at a time, and then one block per spilled chunk
    while merging; the temporary files go when the result is exhausted or closed."""
    stream, chunk = iter(items), CHUNK
    files: list[IO[bytes]] = []
    try:
        while len(batch := sorted(islice(stream, chunk), reverse=reverse)) == chunk:
            files.append(_spill(batch))
    except BaseException:
        _close(files)
        raise
    return _merged(files, batch, reverse) if files else iter(batch)


def _merged(files: list[IO[bytes]], batch: list[Any], reverse: bool) -> Iterator[Any]:
    try:
        yield from merge(*map(_read_back, files), batch, reverse=reverse)
    finally:
        _close(files)


def _close(files: list[IO[bytes]]) -> None:
    for file in files:
        file.close()
