"""A mark of how far a store was read, and how a store can differ from it (what an index follows)."""

from collections.abc import Mapping
from enum import StrEnum
from typing import Any

Mark = Mapping[str, Any]


class Change(StrEnum):
    """How a store differs from a mark."""

    SAME = "same"
    APPENDED = "appended"
    REWRITTEN = "rewritten"
