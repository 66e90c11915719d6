"""How `-r SPEC` picks a store kind (DESIGN §1): URL schemes and file kinds are registries, opened lazily."""

import importlib
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROCKETRY, assert_one_error_line, run_cli

from tasklog_cli.sources import URL_OPENERS, OpenOptions, Source, open_source, url_scheme
from tasklog_cli.sources.csvfile import CsvSource


@pytest.mark.parametrize(
    ("spec", "scheme"),
    [
        ("sqlite:///app.db", "sqlite"),
        ("postgresql+psycopg://u@h/db", "postgresql"),
        ("MySQL+PyMySQL://u@h/db", "mysql"),
        ("mariadb://u@h/db", "mariadb"),
        ("rediss://h:6380/0", "rediss"),
    ],
)
def test_a_url_is_known_by_its_scheme_without_the_driver(spec: str, scheme: str) -> None:
    assert url_scheme(spec) == scheme
    assert scheme in URL_OPENERS


def test_an_unknown_url_scheme_is_one_error_line_naming_the_known_ones() -> None:
    result = run_cli("ls", "-r", "ftp://host/log.csv", expect=3)
    assert_one_error_line(result, "unknown URL scheme 'ftp'", "sqlite://", "postgresql://", "redis://")


def test_a_new_kind_of_url_is_one_registry_entry(monkeypatch: pytest.MonkeyPatch) -> None:
    opened: list[str] = []

    def open_example(spec: str, options: OpenOptions) -> Source:
        opened.append(spec)
        return CsvSource(ROCKETRY / "minimal.csv", options, label=spec)

    monkeypatch.setitem(URL_OPENERS, "example", open_example)
    source = open_source("example+v2://anything", OpenOptions())
    assert (source.label, opened) == ("example+v2://anything", ["example+v2://anything"])


def test_sqlite_urls_with_a_driver_reach_the_sql_opener() -> None:
    source = open_source(f"sqlite+pysqlite:///{ROCKETRY / 'task_run.db'}", OpenOptions())
    try:
        assert source.summary().records > 0
    finally:
        source.close()


@pytest.mark.parametrize("spec", ["redis://127.0.0.1:6379/0", "rediss://cache:6380/1?prefix=x"])
def test_redis_urls_reach_the_taskflow_redis_opener(monkeypatch: pytest.MonkeyPatch, spec: str) -> None:
    """The opener is looked up by its dotted path when a Redis URL is opened (the module loads lazily)."""
    taskflow = importlib.import_module("tasklog_cli.sources.taskflow")
    opened: list[str] = []

    def open_redis(url: str, options: OpenOptions) -> Source:
        opened.append(url)
        return CsvSource(ROCKETRY / "minimal.csv", options)

    monkeypatch.setattr(taskflow, "open_redis", open_redis)
    open_source(spec, OpenOptions())
    assert opened == [spec]


def test_opening_a_csv_file_imports_no_other_kind(tmp_path: Path) -> None:
    script = (
        "import sys\n"
        "from tasklog_cli.sources import OpenOptions, open_source\n"
        f"open_source({str(ROCKETRY / 'task_run.csv')!r}, OpenOptions())\n"
        "kinds = ['sqlalchemy', 'tasklog_cli.sources.taskflow', 'tasklog_cli.sources.stream',\n"
        "         'tasklog_cli.sources.jsonfile', 'tasklog_cli.sources.csvfile.follow']\n"
        "print([kind for kind in kinds if kind in sys.modules])\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
