"""The five machine formats, one class each: no Rich and no colour, one row at a time."""

import csv
import json
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from tasklog_cli.render.display import Display, OutputFormat, Row, Writer
from tasklog_cli.render.safe import escaped, json_safe
from tasklog_cli.render.text import machine_text, machine_value


class MachineFormat(OutputFormat):
    """Rows as lines of text: a header (maybe), one line per row, an ending (maybe)."""

    header: ClassVar[bool] = False

    def __init__(self, columns: Sequence[str], out: Writer, display: Display) -> None:
        super().__init__(columns, out, display)
        if self.header and display.headers:
            self.line(self.columns)

    def line(self, values: Sequence[Any]) -> None:
        """Write one row's values."""
        self.out.write("\t".join(escaped(machine_text(value)) for value in values) + "\n")

    def write(self, row: Row) -> None:
        """Write one row."""
        self.line([row.get(name) for name in self.columns])
        self.count += 1

    @classmethod
    def write_facts(cls, facts: Mapping[str, Any], out: Writer, display: Display) -> None:
        """Key/value facts (as `info` reports them), one per line; a mapping's items one per line too,
        as `key.name` (a task name may hold a comma)."""
        stream = cls(["key", "value"], out, display)
        for key, value in facts.items():
            if isinstance(value, Mapping):
                for name, item in value.items():
                    stream.line([f"{key}.{name}", flat_text(item)])
            else:
                stream.line([key, flat_text(value)])


class Plain(MachineFormat):
    """Tab-separated, no header, with `\\t \\n \\r \\\\` escaped: one record per line."""

    name = "plain"


class Tsv(Plain):
    """Plain with a header line."""

    name = "tsv"
    header = True


class Csv(MachineFormat):
    """Standard CSV with a header line."""

    name = "csv"
    header = True

    def __init__(self, columns: Sequence[str], out: Writer, display: Display) -> None:
        self.writer = csv.writer(out, lineterminator="\n")
        self.on_terminal = display.is_terminal
        super().__init__(columns, out, display)

    def line(self, values: Sequence[Any]) -> None:
        texts = [machine_text(value) for value in values]
        # Byte-exact when piped; on a terminal, shown as plain is (a field could clear the screen).
        self.writer.writerow([escaped(text) for text in texts] if self.on_terminal else texts)


class JsonLines(MachineFormat):
    """One JSON object per line."""

    name = "jsonl"
    every_column = True

    def write(self, row: Row) -> None:
        get = row.get
        self.out.write(json_safe(_encode({name: machine_value(get(name)) for name in self.columns})) + "\n")
        self.count += 1

    @classmethod
    def write_facts(cls, facts: Mapping[str, Any], out: Writer, display: Display) -> None:
        out.write(json_safe(json.dumps(facts, ensure_ascii=False, default=machine_value)) + "\n")


class Json(MachineFormat):
    """One JSON array of objects."""

    name = "json"
    every_column = True

    def __init__(self, columns: Sequence[str], out: Writer, display: Display) -> None:
        super().__init__(columns, out, display)
        out.write("[")

    def write(self, row: Row) -> None:
        self.out.write(
            (",\n" if self.count else "\n") + json_text({name: row.get(name) for name in self.columns})
        )
        self.count += 1

    def close(self) -> None:
        self.out.write("\n]\n" if self.count else "]\n")

    @classmethod
    def write_facts(cls, facts: Mapping[str, Any], out: Writer, display: Display) -> None:
        out.write(json_safe(json.dumps(facts, ensure_ascii=False, default=machine_value, indent=2)) + "\n")


_encode = json.JSONEncoder(ensure_ascii=False, default=str).encode  # built once: dumps() builds one a call


def json_text(row: Mapping[str, Any]) -> str:
    """A row as one JSON object (on one line: U+2028/9 and the controls JSON leaves raw are escaped)."""
    return json_safe(_encode({name: machine_value(value) for name, value in row.items()}))


def flat_text(value: Any) -> str:
    """One line of text for a fact: lists joined, nested mappings as `key=value`."""
    if isinstance(value, Mapping):
        return ", ".join(f"{key}={flat_text(item)}" for key, item in value.items())
    if isinstance(value, list | tuple):
        return ", ".join(flat_text(item) for item in value)
    return machine_text(value)
