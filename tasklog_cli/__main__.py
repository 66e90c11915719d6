"""Run tasklog as `python -m tasklog_cli`."""

from tasklog_cli.entry import main

main()
