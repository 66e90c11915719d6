"""Run tasklog as `python -m tasklog_cli`."""

from tasklog_cli.cli import app

app(prog_name="tasklog")
