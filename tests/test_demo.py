"""The bundled demo reads right on every machine: its times agree in any zone, its paths are neutral."""

import json
import re
from datetime import datetime

import pytest
from conftest import local_zone, run_cli

from tasklog_cli.sources import demo_path


def demo_records(*options: str) -> list[dict[str, object]]:
    return list(json.loads(run_cli("ls", "-r", "demo", "--fields", "all", "-o", "json", *options).stdout))


@pytest.mark.parametrize("zone", ["UTC", "Europe/Helsinki", "America/New_York", "Asia/Kolkata"])
@pytest.mark.parametrize("options", [(), ("--utc",)])
def test_start_is_just_before_created_in_any_zone(zone: str, options: tuple[str, ...]) -> None:
    """A run record's start is when the scheduler began it: seconds before created on the demo's fast clock."""
    with local_zone(zone):
        runs = [record for record in demo_records(*options) if record["action"] == "run"]
    assert len(runs) > 300
    for record in runs:
        created = datetime.fromisoformat(str(record["created"]))
        start = datetime.fromisoformat(str(record["start"]))
        assert 0 <= (created - start).total_seconds() < 60, record


def test_machine_output_is_the_same_in_any_local_zone() -> None:
    command = ("ls", "-r", "demo", "-n", "5", "--fields", "created,start,end", "-o", "plain")
    in_utc = run_cli(*command).stdout
    with local_zone("Europe/Helsinki"):
        assert run_cli(*command).stdout == in_utc


def test_tracebacks_name_neutral_paths_only() -> None:
    failures = [record for record in demo_records("-a", "fail") if record["exc_text"]]
    assert failures
    paths = {path for record in failures for path in re.findall(r'File "([^"]+)"', str(record["exc_text"]))}
    assert paths and all(path.startswith("/app/") for path in paths), sorted(paths)


def test_the_demo_is_small_and_has_every_action() -> None:
    assert demo_path().stat().st_size < 1_000_000
    actions = {record["action"] for record in demo_records()}
    assert actions == {"run", "success", "fail", "terminate", "inaction", "crash"}
