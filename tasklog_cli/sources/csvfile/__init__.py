"""CSV files as Red Bird's CSVFileRepo writes them: `records` finds records in raw bytes (forwards and
backwards), `prefilter` skips rows by their text, `source` reads them as Records, `follow` is `tail -f`."""

from tasklog_cli.sources.csvfile.source import CsvSource

__all__ = ["CsvSource"]
