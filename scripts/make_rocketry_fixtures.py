"""Regenerate the real Rocketry-written logs used by tasklog's tests and demo.

Creates (or reuses) a throw-away venv with pinned rocketry/redbird/pydantic 1/
SQLAlchemy, then runs ``scripts/rocketry_fixture_app.py`` inside it:

* fixtures (``tests/data/rocketry/``): the app writes the same task history
  to several Red Bird repos; it is SIGKILLed mid-run and restarted on the same
  stores so that Rocketry logs ``crash`` rows, then it shuts down cleanly.
* demo (``tasklog_cli/data/demo.csv``): a TaskRunRecord CSV of ~15 scheduler
  hours (accelerated session clock), also killed once and restarted; then made
  neutral: its naive start/end rewritten from the app's zone to UTC (what
  Rocketry writes under TZ=UTC) and the machine's paths in tracebacks to /app.

Afterwards it checks that every scenario and CSV quirk described in
``tests/data/rocketry/README.md`` is really present, refreshes the counts
table of that README and fails loudly otherwise.

Usage: ``python scripts/make_rocketry_fixtures.py [--venv PATH] [--only fixtures|demo]``
"""

from __future__ import annotations

import argparse
import collections
import csv
import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

REPO_ROOT = Path(__file__).resolve().parent.parent
APP = REPO_ROOT / "scripts" / "rocketry_fixture_app.py"
DEFAULT_VENV = Path(tempfile.gettempdir()) / "tasklog-fixture-venv"
DEFAULT_OUT = REPO_ROOT / "tests" / "data" / "rocketry"
DEFAULT_DEMO = REPO_ROOT / "tasklog_cli" / "data" / "demo.csv"

# Exact versions installed in the throw-away venv (all of the dependency tree).
PINS = (
    "rocketry==2.5.1",
    "redbird==0.7.1",
    "pydantic==1.10.27",
    "SQLAlchemy==1.4.54",
    "python-dateutil==2.9.0.post0",
    "six==1.17.0",
    "typing_extensions==4.16.0",
    "greenlet==3.5.6",
)
FIXTURE_FILES = (
    "minimal.csv",
    "minimal_run.csv",
    "task_run.csv",
    "run.csv",
    "task_run.db",
    "minimal.db",
    "memory.json",
)
ACTIONS = ("run", "success", "fail", "terminate", "inaction", "crash")
FIXTURE_MAX_BYTES = 300_000
DEMO_MAX_BYTES = 500_000
DEMO_MIN_ROWS, DEMO_MAX_ROWS = 200, 2500
UUID_HEX_LEN = 32
DEFAULT_TZ = "Europe/Helsinki"  # start/end are naive local wall-clock times of this zone
NEUTRAL_ROOT = "/app"  # the demo's tracebacks name this checkout as /app and the venv as /app/.venv
DEMO_TIME_COLUMNS = ("start", "end")
COUNTS_BEGIN = "<!-- task_run.csv counts: begin (generated) -->"
COUNTS_END = "<!-- task_run.csv counts: end -->"


class FixtureError(RuntimeError):
    """A generated file lacks a scenario or quirk it must have."""


def log(msg: str) -> None:
    """Progress message on stderr."""
    print(f"[fixtures] {msg}", file=sys.stderr, flush=True)


def ensure_venv(venv: Path, python: str) -> Path:
    """Create the venv with PINS unless it already has them; return its python."""
    venv_python = venv / "bin" / "python"
    stamp = venv / "tasklog-pins.txt"
    wanted = "\n".join(PINS) + "\n"
    if venv_python.exists() and stamp.exists() and stamp.read_text() == wanted:
        log(f"reusing venv {venv}")
        return venv_python
    if not venv_python.exists():
        log(f"creating venv {venv}")
        subprocess.run([python, "-m", "venv", str(venv)], check=True)
    log("installing " + " ".join(PINS))
    pip = [str(venv_python), "-m", "pip", "--disable-pip-version-check"]
    subprocess.run([*pip, "install", "--quiet", *PINS], check=True)
    subprocess.run([*pip, "check"], check=True)
    stamp.write_text(wanted)
    return venv_python


def app_env(tz: str) -> dict[str, str]:
    """Environment of the app processes (TZ decides the naive start/end times)."""
    env = dict(os.environ)
    env.update(TZ=tz, PYTHONDONTWRITEBYTECODE="1", PYTHONUNBUFFERED="1")
    return env


def run_killed(
    cmd: Sequence[str], env: dict[str, str], marker: Path, min_seconds: float, limit: float
) -> None:
    """Start the app, wait for ``marker`` and ``min_seconds``, then SIGKILL its process group."""
    started = time.monotonic()
    proc = subprocess.Popen(cmd, env=env, start_new_session=True)
    try:
        while not (marker.exists() and time.monotonic() - started >= min_seconds):
            if proc.poll() is not None:
                raise FixtureError(f"app exited early with {proc.returncode}: {cmd}")
            if time.monotonic() - started > limit:
                raise FixtureError(f"marker {marker} not written within {limit}s")
            time.sleep(0.2)
        log(f"SIGKILL app (pid {proc.pid}) while {marker.read_text().strip()} is running")
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def run_clean(cmd: Sequence[str], env: dict[str, str], limit: float) -> None:
    """Run the app until it shuts itself down."""
    proc = subprocess.run(cmd, env=env, timeout=limit, check=False)
    if proc.returncode != 0:
        raise FixtureError(f"app failed with {proc.returncode}: {cmd}")


def generate_fixtures(python: Path, out: Path, env: dict[str, str]) -> None:
    """Write FIXTURE_FILES into ``out`` (first run killed, second run clean)."""
    out.mkdir(parents=True, exist_ok=True)
    for name in FIXTURE_FILES:
        (out / name).unlink(missing_ok=True)
    base = [str(python), str(APP), "--mode", "fixtures", "--out", str(out)]
    with tempfile.TemporaryDirectory() as tmp:
        marker = Path(tmp) / "running"
        log("fixtures: first run (will be killed)")
        run_killed([*base, "--phase", "first", "--marker", str(marker)], env, marker, 20, 60)
    log("fixtures: restart, runs 30 s and shuts down")
    run_clean([*base, "--phase", "restart", "--run-seconds", "30"], env, 120)


def generate_demo(python: Path, demo: Path, env: dict[str, str], venv: Path) -> None:
    """Write the demo CSV (accelerated clock, killed once and restarted), then make it neutral."""
    demo.parent.mkdir(parents=True, exist_ok=True)
    demo.unlink(missing_ok=True)
    clock = ["--clock-real-origin", repr(time.time())]  # one session clock for both runs
    base = [str(python), str(APP), "--mode", "demo", "--out", str(demo), *clock]
    with tempfile.TemporaryDirectory() as tmp:
        marker = Path(tmp) / "running"
        log("demo: first run (will be killed)")
        run_killed([*base, "--phase", "first", "--marker", str(marker)], env, marker, 15, 60)
    log("demo: restart, runs 75 s and shuts down")
    run_clean([*base, "--phase", "restart", "--run-seconds", "75"], env, 180)
    roots = {str(venv.resolve()): f"{NEUTRAL_ROOT}/.venv", str(REPO_ROOT): NEUTRAL_ROOT}
    neutralise_demo(demo, ZoneInfo(env["TZ"]), roots)


def neutralise_demo(demo: Path, zone: ZoneInfo, roots: dict[str, str]) -> None:
    """Rewrite the demo so it reads the same on every machine: naive start/end from `zone` to UTC,
    and each path prefix in `roots` to its neutral one (same CSV dialect as Red Bird's)."""
    with demo.open(newline="", encoding="utf-8") as file:
        reader = csv.DictReader(file)
        header = list(reader.fieldnames or ())
        rows = list(reader)
    for row in rows:
        for name in DEMO_TIME_COLUMNS:
            if row[name]:
                local = datetime.fromisoformat(row[name]).replace(tzinfo=zone)
                row[name] = str(local.astimezone(UTC).replace(tzinfo=None))
        for name in header:
            for machine_root, neutral_root in roots.items():
                row[name] = row[name].replace(machine_root, neutral_root)
    with demo.open("w", newline="", encoding="utf-8") as file:
        writer = csv.DictWriter(file, header)
        writer.writeheader()
        writer.writerows(rows)


# --------------------------------------------------------------------------
# Verification
# --------------------------------------------------------------------------


def read_rows(path: Path) -> list[dict[str, str]]:
    """Rows of a Red Bird CSV file."""
    with path.open(newline="", encoding="utf-8") as file:
        return list(csv.DictReader(file))


def require(ok: bool, what: str) -> None:
    """Raise FixtureError unless ``ok``."""
    if not ok:
        raise FixtureError(what)


def csv_quirks(path: Path) -> dict[str, bool]:
    """Which raw-format quirks a CSV file shows."""
    raw = path.read_bytes()
    text = raw.decode("utf-8")
    rows = read_rows(path)
    values = [v for r in rows for v in r.values()]
    return {
        "CRLF row ends": raw.endswith(b"\r\n") and raw.count(b"\r\n") >= len(rows) + 1,
        "bare LF inside quoted fields": any("\n" in v and "\r" not in v for v in values),
        "doubled quotes": '""' in text,
        "empty fields for None": any(v == "" for v in values),
        "runtime like 0:00:00.000001": any(r.get("runtime", "").startswith("0:00:00.") for r in rows),
        "non-ASCII": not text.isascii(),
    }


def counts_table(rows: list[dict[str, str]]) -> str:
    """Markdown table of rows per task and action."""
    counts = collections.Counter((r["task_name"], r["action"]) for r in rows)
    names = sorted({r["task_name"] for r in rows})
    lines = ["| task_name | " + " | ".join(ACTIONS) + " |", "|---" * (len(ACTIONS) + 1) + "|"]
    for name in names:
        cells = " | ".join(str(counts[name, a]) for a in ACTIONS)
        lines.append(f"| `{name}` | {cells} |")
    total = " | ".join(str(sum(counts[n, a] for n in names)) for a in ACTIONS)
    lines.append(f"| **total ({len(rows)} rows)** | {total} |")
    return "\n".join(lines)


def run_ids_in_order(rows: list[dict[str, str]], task: str) -> list[str]:
    """run_id of every row of ``task`` in file order ('' for crash rows)."""
    return [r["run_id"] for r in rows if r["task_name"] == task]


def verify_fixtures(out: Path) -> str:
    """Check the fixture scenarios; return the counts table of task_run.csv."""
    for name in FIXTURE_FILES:
        size = (out / name).stat().st_size
        require(size < FIXTURE_MAX_BYTES, f"{name} is {size} bytes")
    rows = read_rows(out / "task_run.csv")
    actions = {r["action"] for r in rows}
    require(actions == set(ACTIONS), f"task_run.csv actions {actions}")
    for name in ("minimal.csv", "minimal_run.csv", "run.csv"):
        require(len(read_rows(out / name)) == len(rows), f"{name} row count differs")
    with sqlite3.connect(out / "task_run.db") as con:
        n_tasks = con.execute("SELECT count(*) FROM tasks").fetchone()[0]
    with sqlite3.connect(out / "minimal.db") as con:
        n_logs = con.execute("SELECT count(*) FROM logs").fetchone()[0]
    require(n_tasks == len(rows) == n_logs, f"db rows {n_tasks}/{n_logs} != {len(rows)}")
    memory = json.loads((out / "memory.json").read_text(encoding="utf-8"))
    require(0 < len(memory) < len(rows), "memory.json must hold only the restarted run")

    by_task = collections.defaultdict(list)
    for row in rows:
        by_task[row["task_name"]].append(row)
    long_running = by_task["long_running"]
    require([r["action"] for r in long_running] == ["run", "crash"], "long_running: run then crash")
    require(long_running[1]["run_id"] == "", "long_running: crash row without run_id")
    inc = run_ids_in_order(rows, "multilaunch_increment")
    require(set(inc) - {""} == {"1", "2", "3"}, f"increment ids {set(inc)}")
    restarted = memory[0]["created"]  # memory.json starts with the restart's first row
    later = [
        r["run_id"]
        for r in by_task["multilaunch_increment"]
        if r["action"] == "run" and float(r["created"]) >= restarted
    ]
    require(later[:1] == ["1"], "increment ids restart at 1 after the restart")
    uuids = set(run_ids_in_order(rows, "multilaunch_uuid")) - {""}
    require(all(len(u) == UUID_HEX_LEN for u in uuids), "uuid run ids are 32 hex chars")
    flaky = "".join(r["action"][0] for r in by_task["flaky_retry"] if r["action"] != "run")
    require("fff" in flaky and "s" in flaky, f"flaky_retry outcomes {flaky}")
    for task, reason in (("timeout_process", "(timeouted)"), ("timeout_thread", "(task terminated)")):
        require(any(r["message"].endswith(reason) for r in by_task[task]), f"{task} {reason}")
    finishes = {r["action"] for r in by_task["nothing_to_do"]} - {"run"}
    require(finishes == {"inaction"}, f"nothing_to_do finishes {finishes}")
    late = late_rows(rows)
    require(any(task.startswith("process_") for task, _ in late), f"late process rows {late}")
    quirks = csv_quirks(out / "task_run.csv")
    require(all(quirks.values()), f"task_run.csv quirks {quirks}")
    return counts_table(rows)


def late_rows(rows: list[dict[str, str]]) -> list[tuple[str, str]]:
    """(task, action) of rows whose ``created`` is older than a row above them."""
    late, newest = [], 0.0
    for row in rows:
        created = float(row["created"])
        if created < newest:
            late.append((row["task_name"], row["action"]))
        newest = max(newest, created)
    return late


def verify_demo(demo: Path) -> str:
    """Check the demo CSV; return its counts table."""
    size = demo.stat().st_size
    require(size < DEMO_MAX_BYTES, f"demo is {size} bytes")
    rows = read_rows(demo)
    require(DEMO_MIN_ROWS <= len(rows) <= DEMO_MAX_ROWS, f"demo has {len(rows)} rows")
    actions = {r["action"] for r in rows}
    require(actions == set(ACTIONS), f"demo actions {actions}")
    for row in rows:
        if row["action"] == "run":  # start comes up to 8 ms before created: ~5 s on the 600x clock
            start = datetime.fromisoformat(row["start"]).replace(tzinfo=UTC).timestamp()
            require(0 <= float(row["created"]) - start < 60, f"demo start/end not in UTC: {row}")
    paths = re.findall(r'File "([^"]+)"', demo.read_text(encoding="utf-8").replace('""', '"'))
    require(bool(paths), "demo has tracebacks")
    foreign = sorted({path for path in paths if not path.startswith(f"{NEUTRAL_ROOT}/")})
    require(not foreign, f"demo tracebacks name this machine's paths: {foreign}")
    return counts_table(rows)


def update_readme(readme: Path, table: str) -> None:
    """Replace the generated counts block of the README, if it has one."""
    if not readme.exists():
        return
    text = readme.read_text(encoding="utf-8")
    if COUNTS_BEGIN not in text or COUNTS_END not in text:
        return
    head, rest = text.split(COUNTS_BEGIN, 1)
    _, tail = rest.split(COUNTS_END, 1)
    readme.write_text(f"{head}{COUNTS_BEGIN}\n{table}\n{COUNTS_END}{tail}", encoding="utf-8")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--venv", type=Path, default=DEFAULT_VENV, help=f"default {DEFAULT_VENV}")
    parser.add_argument("--python", default=sys.executable, help="interpreter for the venv")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="fixture directory")
    parser.add_argument("--demo", type=Path, default=DEFAULT_DEMO, help="demo CSV path")
    parser.add_argument("--tz", default=DEFAULT_TZ, help=f"TZ of the app processes, default {DEFAULT_TZ}")
    parser.add_argument("--only", choices=("fixtures", "demo"), help="generate just one part")
    parser.add_argument("--verify-only", action="store_true", help="check existing outputs")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Generate and verify; return the exit code."""
    args = parse_args(argv)
    do_fixtures = args.only in (None, "fixtures")
    do_demo = args.only in (None, "demo")
    try:
        if not args.verify_only:
            python = ensure_venv(args.venv, args.python)
            if do_fixtures:
                generate_fixtures(python, args.out, app_env(args.tz))
            if do_demo:
                generate_demo(python, args.demo, app_env(args.tz), args.venv)
        if do_fixtures:
            table = verify_fixtures(args.out)
            update_readme(args.out / "README.md", table)
            print(f"{args.out / 'task_run.csv'}:\n{table}\n")
        if do_demo:
            print(f"{args.demo}:\n{verify_demo(args.demo)}\n")
    except (FixtureError, subprocess.SubprocessError) as exc:
        log(f"FAILED: {exc}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
