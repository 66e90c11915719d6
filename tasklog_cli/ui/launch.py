"""Start the dashboard on an opened repo and run it until the user quits (exit 0)."""

import gc
from collections.abc import Sequence

from tasklog_cli.api import Filters, Repo
from tasklog_cli.errors import ExitCode
from tasklog_cli.ui.app import Dashboard, Settings
from tasklog_cli.ui.query_text import ViewFilter
from tasklog_cli.ui.store import Store

__all__ = ["Settings", "run_dashboard"]


def run_dashboard(repo: Repo, settings: Settings, filters: Filters, action: Sequence[str] = ()) -> int:
    """Run `tasklog ui` in this terminal; the filters are checked against the store before it starts."""
    view = ViewFilter.of(filters, action)
    store = Store(repo, retry_window=settings.retry_window)
    store.check(view)
    gc.enable()  # hours of use: let the collector run
    app = Dashboard(store, settings, view)
    try:
        app.run()
    finally:
        app.stop_following()
    return ExitCode.OK if app.return_code in (None, 0) else ExitCode.SOURCE
