"""tasklog: inspect the task logs that schedulers write."""

__version__ = "0.1.0"
