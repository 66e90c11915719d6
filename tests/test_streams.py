"""Paths that are not files (DESIGN §1.6, issue #11.8): standard input and FIFOs are read once, front to
back, as CSV or JSON sniffed from their first bytes; sockets and devices are one error line, exit 3."""

import csv
import io
import json
import os
import pty
import socket
import subprocess
import sys
import threading
import time
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import ROCKETRY, assert_one_error_line, run_cli
from typer.testing import CliRunner

from tasklog_cli.cli import app
from tasklog_cli.query import Query
from tasklog_cli.sources import OpenOptions, Selection, open_source
from tasklog_cli.sources.stream import Stream, stream_source

TASKLOG = [sys.executable, "-m", "tasklog_cli"]
TASK_RUN_CSV = ROCKETRY / "task_run.csv"
MEMORY_JSON = ROCKETRY / "memory.json"


def tasklog(
    *args: str, stdin: bytes | int | None = None, timeout: float = 30
) -> subprocess.CompletedProcess[bytes]:
    """Run tasklog in its own process, with real standard streams."""
    return subprocess.run(
        [*TASKLOG, *args],
        input=stdin if isinstance(stdin, bytes) else None,
        stdin=stdin if isinstance(stdin, int) else None,
        capture_output=True,
        timeout=timeout,
        check=False,
        env=dict(os.environ, PYTHONUTF8="1"),
    )


def json_lines_of(path: Path) -> bytes:
    """The records of a MemoryRepo dump as JSON lines (U+2028 and friends written raw)."""
    items = json.loads(path.read_text("utf-8"))
    return "".join(json.dumps(item, ensure_ascii=False) + "\n" for item in items).encode("utf-8")


@pytest.fixture
def fifo(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "log.fifo"
    os.mkfifo(path)
    yield path


def feed(path: Path, data: bytes, *, pieces: int = 1, pause: float = 0.0) -> threading.Thread:
    """A writer thread: opens the FIFO (waiting for a reader), writes `data` in pieces, closes it."""

    def write() -> None:
        with path.open("wb") as file:
            size = -(-len(data) // pieces)
            for start in range(0, len(data), size):
                file.write(data[start : start + size])
                file.flush()
                time.sleep(pause)

    thread = threading.Thread(target=write, daemon=True)
    thread.start()
    return thread


# --- the same answers from a stream as from the file ---------------------------------------------------


@pytest.mark.parametrize(
    "command",
    [
        ("ls", "-o", "jsonl"),
        ("ls", "-n", "3", "-a", "fail", "-o", "jsonl"),
        ("tail", "-n", "4", "-o", "jsonl"),
        ("runs", "-o", "jsonl"),
        ("runtimes", "-o", "jsonl"),
        ("tasks", "-o", "jsonl"),
        ("timeline", "succeeds", "-o", "jsonl"),
        ("check", "--max-failures", "2"),
        ("ls", "-t", "no such task"),
    ],
)
def test_every_command_reads_standard_input_like_the_file(command: tuple[str, ...]) -> None:
    expected = tasklog(*command, "-r", str(TASK_RUN_CSV))
    assert expected.returncode in (0, 1), expected.stderr
    result = tasklog(*command, "-r", "-", stdin=TASK_RUN_CSV.read_bytes())
    assert (result.returncode, result.stdout, result.stderr) == (expected.returncode, expected.stdout, b"")


def test_json_lines_and_a_json_array_on_standard_input() -> None:
    expected = tasklog("runs", "-o", "jsonl", "-r", str(MEMORY_JSON)).stdout
    assert expected
    for data in (json_lines_of(MEMORY_JSON), MEMORY_JSON.read_bytes()):
        result = tasklog("runs", "-o", "jsonl", "-r", "-", stdin=data)
        assert (result.returncode, result.stdout, result.stderr) == (0, expected, b"")


def test_info_on_standard_input() -> None:
    result = tasklog("info", "-o", "json", "-r", "-", stdin=TASK_RUN_CSV.read_bytes())
    assert result.returncode == 0, result.stderr
    facts = json.loads(result.stdout)
    assert facts["kind"] == "CSV stream"
    assert facts["records"] == 306


def test_a_fifo_is_read_once_front_to_back(fifo: Path) -> None:
    expected = tasklog("runs", "-o", "jsonl", "-r", str(TASK_RUN_CSV)).stdout
    writer = feed(fifo, TASK_RUN_CSV.read_bytes(), pieces=7)
    result = tasklog("runs", "-o", "jsonl", "-r", str(fifo))
    writer.join(timeout=10)
    assert (result.returncode, result.stdout, result.stderr) == (0, expected, b"")


def test_a_fifo_through_the_api_serves_every_scan_from_what_it_read(fifo: Path) -> None:
    """Runs need the whole history and `tail` reads backwards: the second and third scans read the spool."""
    writer = feed(fifo, TASK_RUN_CSV.read_bytes(), pieces=5, pause=0.01)
    source = open_source(str(fifo), OpenOptions())
    try:
        everything = list(source.scan(Query()))
        writer.join(timeout=10)
        assert len(everything) == 306
        assert list(source.scan(Query())) == everything
        assert source.summary().records == 306
        assert list(source.select(Query(), Selection(last=3))) == everything[-3:]
    finally:
        source.close()


def test_a_process_substitution_like_fifo_of_json_lines(fifo: Path) -> None:
    writer = feed(fifo, json_lines_of(MEMORY_JSON), pieces=3)
    result = tasklog("ls", "-o", "jsonl", "-n", "2", "-r", str(fifo))
    writer.join(timeout=10)
    expected = tasklog("ls", "-o", "jsonl", "-n", "2", "-r", str(MEMORY_JSON)).stdout
    assert (result.returncode, result.stdout) == (0, expected), result.stderr


def test_stream_rows_keep_unicode_line_separators_inside_fields(tmp_path: Path) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["task_name", "action", "created", "message"])
    writer.writerow(["a\u2028b", "run", "1.5", "x\x85y\u2029z\ufeff"])
    result = tasklog("ls", "-o", "jsonl", "--fields", "all", "-r", "-", stdin=buffer.getvalue().encode())
    assert result.returncode == 0, result.stderr
    [item] = map(json.loads, result.stdout.splitlines())
    assert (item["task_name"], item["message"]) == ("a\u2028b", "x\x85y\u2029z\ufeff")


# --- tail -f on a stream: what arrives, until its end --------------------------------------------------


def test_tail_follow_on_a_stream_prints_what_arrives_until_its_end(fifo: Path) -> None:
    header = b"task_name,action,created,run_id\r\n"
    process = subprocess.Popen(
        [*TASKLOG, "tail", "-f", "-n", "5", "--interval", "0.05", "-o", "jsonl", "-r", str(fifo)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=dict(os.environ, PYTHONUNBUFFERED="1"),
    )
    try:
        with fifo.open("wb", buffering=0) as writer:
            writer.write(header + b"a,run,1,r1\r\n")
            assert process.stdout is not None
            assert json.loads(process.stdout.readline())["run_id"] == "r1"  # printed before the stream ends
            writer.write(b"a,success,2,r1\r\nb,ru")
            assert json.loads(process.stdout.readline())["run_id"] == "r1"
            time.sleep(0.3)
            writer.write(b"n,3,r2\r\nc,run,4,r3")  # the last row has no line end: printed at the end
        out, errors = process.communicate(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0, errors
    assert [json.loads(line)["run_id"] for line in out.splitlines()] == ["r2", "r3"]
    assert errors == b""


def test_tail_follow_on_standard_input_ends_at_its_end() -> None:
    result = tasklog("tail", "-f", "-n", "2", "-o", "jsonl", "-r", "-", stdin=TASK_RUN_CSV.read_bytes())
    assert result.returncode == 0, result.stderr
    assert len(result.stdout.splitlines()) >= 2  # the backlog is what had arrived, then the rest as it came
    tail = tasklog("tail", "-n", "2", "-o", "jsonl", "-r", str(TASK_RUN_CSV)).stdout.splitlines()
    assert result.stdout.splitlines()[-2:] == tail


def test_tail_follow_on_a_json_array_stream_prints_its_tail_and_ends() -> None:
    result = tasklog("tail", "-f", "-n", "3", "-o", "jsonl", "-r", "-", stdin=MEMORY_JSON.read_bytes())
    expected = tasklog("tail", "-n", "3", "-o", "jsonl", "-r", str(MEMORY_JSON)).stdout
    assert (result.returncode, result.stdout) == (0, expected), result.stderr


# --- what is no file ---------------------------------------------------------------------------------


def test_standard_input_from_a_terminal_is_a_usage_error() -> None:
    controller, terminal = pty.openpty()
    try:
        result = tasklog("ls", "-r", "-", stdin=terminal)
    finally:
        os.close(terminal)
        os.close(controller)
    assert result.returncode == 2
    assert result.stdout == b""
    assert result.stderr.decode().startswith("tasklog: error: -r - reads standard input, which is a terminal")
    assert len(result.stderr.splitlines()) == 1


def test_empty_standard_input_is_not_a_task_log() -> None:
    result = tasklog("ls", "-r", "-", stdin=b"")
    assert (result.returncode, result.stdout) == (3, b"")
    assert result.stderr == b"tasklog: error: <stdin> is empty: not a task log\n"


@pytest.mark.parametrize("device", ["/dev/null", "/dev/zero"])
def test_a_device_is_exit_3_without_reading_it(device: str) -> None:
    result = tasklog("ls", "-r", device, timeout=10)  # /dev/zero never ends: reading it would hang
    assert (result.returncode, result.stdout) == (3, b"")
    assert (
        result.stderr.decode()
        == f"tasklog: error: cannot read {device}: it is a device, not a file or folder\n"
    )


def test_a_unix_socket_is_exit_3(tmp_path: Path) -> None:
    path = tmp_path / "log.sock"
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        server.bind(str(path))
        server.listen()
        assert_one_error_line(run_cli("ls", "-r", str(path), expect=3), str(path), "a socket")
        assert_one_error_line(run_cli("tail", "-f", "-r", str(path), expect=3), "a socket")
    finally:
        server.close()


def test_a_fifo_of_garbage_is_one_error_line(fifo: Path) -> None:
    writer = feed(fifo, b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00")
    result = tasklog("ls", "-r", str(fifo))
    writer.join(timeout=10)
    assert (result.returncode, result.stdout) == (3, b"")
    assert result.stderr.startswith(b"tasklog: error: ")
    assert len(result.stderr.splitlines()) == 1


def test_standard_input_through_the_cli_runner() -> None:
    """The in-process runner hands no real file descriptor: the stream is read all the same."""
    result = CliRunner().invoke(
        app, ["ls", "-r", "-", "-o", "jsonl", "-a", "crash"], input=TASK_RUN_CSV.read_bytes()
    )
    expected = run_cli("ls", "-r", str(TASK_RUN_CSV), "-o", "jsonl", "-a", "crash")
    assert (result.exit_code, result.stdout) == (0, expected.stdout)


@pytest.mark.parametrize("follow", [False, True])
def test_json_lines_with_a_bom_on_standard_input(follow: bool) -> None:
    data = b"\xef\xbb\xbf" + json_lines_of(MEMORY_JSON)
    command = ("tail", "-f", "-n", "3") if follow else ("tail", "-n", "3")
    result = tasklog(*command, "-o", "jsonl", "-r", "-", stdin=data)
    assert result.returncode == 0, result.stderr
    assert result.stdout == tasklog("tail", "-n", "3", "-o", "jsonl", "-r", str(MEMORY_JSON)).stdout
    assert result.stderr == b""


def test_a_json_dump_with_a_bom_and_no_extension_is_read_as_json(tmp_path: Path) -> None:
    path = tmp_path / "dump"
    path.write_bytes(b"\xef\xbb\xbf" + MEMORY_JSON.read_bytes())
    assert (
        run_cli("tail", "-n", "2", "-r", str(path)).stdout
        == run_cli("tail", "-n", "2", "-r", str(MEMORY_JSON)).stdout
    )


def test_wait_on_standard_input_does_not_wait_for_a_file_named_dash() -> None:
    result = tasklog(
        "tail", "--wait", "-n", "1", "-o", "jsonl", "-r", "-", stdin=TASK_RUN_CSV.read_bytes(), timeout=20
    )
    assert result.returncode == 0, result.stderr
    assert len(result.stdout.splitlines()) == 1


def test_memory_stays_flat_while_following_a_stream() -> None:
    """`tail -f` on a pipe keeps nothing of what it printed (no spool, no history)."""
    read_end, write_end = os.pipe()
    os.write(write_end, b"task_name,action,created,run_id,exc_text\r\n")
    source = stream_source(Stream(os.fdopen(read_end, "rb", buffering=0), "<pipe>"), OpenOptions())
    watch = source.watch(Query(), None, lambda note: None)
    traceback = '"Traceback (most recent call last):\n  File ""x.py""\nValueError: ✗"'
    printed = 0
    try:
        assert watch.backlog(5) == []
        tracemalloc.start()
        middle = 0
        for number in range(400):
            os.write(
                write_end, "".join(f"t,fail,{number}.{k},r{k},{traceback}\r\n" for k in range(5)).encode()
            )
            printed += len(watch.poll())
            if number == 200:
                middle = tracemalloc.get_traced_memory()[0]
        growth = tracemalloc.get_traced_memory()[0] - middle
        tracemalloc.stop()
        os.close(write_end)
        assert watch.poll() == []
        assert getattr(watch, "finished", False)
        spool = source.stream.path  # type: ignore[attr-defined]
        assert spool.stat().st_size < 100  # the header: what was followed was not kept
    finally:
        watch.close()
        source.close()
    assert printed == 2000
    assert growth < 100_000, growth
    assert not spool.exists()  # closing the source removes its spool


@pytest.mark.parametrize("spec", ["-", "fifo"])
def test_shell_completion_never_reads_a_stream(fifo: Path, spec: str) -> None:
    """Completing `-t` must not open a FIFO (it would wait for a writer, then take the command's data)."""
    from tasklog_cli.store_facts import refresh_facts

    answer: list[list[str]] = []
    thread = threading.Thread(
        target=lambda: answer.append(refresh_facts(str(fifo) if spec == "fifo" else spec, None).tasks)
    )
    thread.start()
    thread.join(timeout=5)
    if thread.is_alive():  # it opened the FIFO: let it go, then fail
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        thread.join(timeout=5)
    assert answer == [[]]
