"""The incremental run index: a store's paired runs and per-task state, cached under
`$XDG_CACHE_HOME/tasklog/index/` so that later commands read only what was appended since."""

from tasklog_cli.index.run_index import RunIndex, open_index

__all__ = ["RunIndex", "open_index"]
