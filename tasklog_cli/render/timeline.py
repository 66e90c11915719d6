"""The human timeline: per task a heading, per run a header line, its records and retry separators.

Lines are built as (text, style) segments: the table format styles them with Rich, plain joins the text.
"""

from collections.abc import Iterator, Sequence
from datetime import datetime

from tasklog_cli.render.display import Display
from tasklog_cli.render.lines import Painter, cut
from tasklog_cli.render.safe import visible
from tasklog_cli.render.text import OUTCOME_STYLES, human_value, precision_of, time_text
from tasklog_cli.results import Timeline, TimelineRun
from tasklog_cli.times import Zone

Line = list[tuple[str, str]]
# fastapi-taskflow statuses that say no more than the outcome; the others (cancelled, ...) are shown.
PLAIN_STATUSES = ("success", "failed")
INDENT = " " * 29


def timeline_lines(timelines: Sequence[Timeline], zone: Zone, *, full: bool) -> list[Line]:
    """Every line of the timelines of several tasks."""
    lines: list[Line] = []
    for timeline in timelines:
        if lines:
            lines.append([])
        precision = precision_of(_moments(timeline))
        lines.append(
            [
                (visible(timeline.task_name), "bold"),
                (f"  {len(timeline.runs)} of {timeline.total_runs} runs", ""),
            ]
        )
        previous: TimelineRun | None = None
        for item in timeline.runs:
            # Rocketry's attempts are inferred from the retry window (runs without a stored status);
            # fastapi-taskflow retries inside a run, and its separators come from its own log lines.
            inferred = item.run.status is None
            if previous is not None and item.run.attempt == previous.run.attempt + 1 and inferred:
                lines.append([(f"  --- Retry {item.run.attempt - 1} (inferred) ---", "yellow")])
            lines.append(_run_header(item, zone, precision))
            lines.extend(_record_lines(item, zone, precision, full=full))
            previous = item
    return lines


def _moments(timeline: Timeline) -> Iterator[datetime]:
    for item in timeline.runs:
        yield from (record.created for record in item.records)


def _run_header(item: TimelineRun, zone: Zone, precision: str) -> Line:
    run = item.run
    status = f" ({visible(run.status)})" if run.status not in (None, *PLAIN_STATUSES) else ""
    duration = human_value(run.duration, zone, "duration") or "-"
    start_width = 23 if precision == "ms" else 19
    start = time_text(run.start, zone, precision) if run.start is not None else "(start unknown)"
    return [
        ("  ", ""),
        (start.ljust(start_width), "bold"),
        ("  ", ""),
        (run.outcome, OUTCOME_STYLES.get(run.outcome, "")),
        (status.ljust(9 - len(run.outcome)), ""),
        (f"  {duration:>8}  attempt {run.attempt}  run #{item.number}", ""),
        (f"  id {visible(run.run_id)}" if run.run_id else "", ""),
    ]


def _record_lines(item: TimelineRun, zone: Zone, precision: str, *, full: bool) -> list[Line]:
    lines: list[Line] = []
    attempt = None
    for record in item.records:
        tagged = record.get("attempt")
        if isinstance(tagged, int):
            if attempt is not None and tagged != attempt:
                # Every separator between the two attempts: an attempt may have logged nothing.
                retries = range(min(attempt, tagged - 1), tagged)
                lines.extend([(f"      --- Retry {retry} ---", "yellow")] for retry in retries)
            attempt = tagged
        # A store that logs whole seconds (fastapi-taskflow's log lines) shows no false `.000`.
        clock = time_text(record.created, zone, precision if record.created.microsecond else "s")[11:]
        message, *more = [visible(line) for line in str(record.get("message") or "").splitlines()] or [""]
        lines.append(
            [
                (f"      {clock.ljust(12)}  ", ""),
                (visible(record.action).ljust(9), OUTCOME_STYLES.get(record.action, "")),
                (f"  {message}{' …' if more and not full else ''}", ""),
            ]
        )
        if full:
            lines.extend([(INDENT + line, "")] for line in more)
        trace = [visible(line) for line in str(record.get("exc_text") or "").rstrip().splitlines()]
        if trace:
            shown = trace if full else trace[-1:]
            lines.extend([(INDENT + line, "red")] for line in shown)
    return lines


def write_timeline(timelines: Sequence[Timeline], display: Display, *, styled: bool, full: bool) -> int:
    """Write the timeline (styled for tables and cut to the width unless `full`, plain text otherwise);
    returns the runs shown."""
    lines = timeline_lines(timelines, display.zone, full=full)
    painter = Painter(display.color and styled)
    width = display.width if styled and not full else None
    for line in lines:
        display.stdout.write(painter.line(line if width is None else _cut_line(line, width)) + "\n")
    return sum(len(timeline.runs) for timeline in timelines)


def _cut_line(line: Line, width: int) -> Line:
    from rich.cells import cell_len

    kept: Line = []
    room = width
    for text, style in line:
        size = cell_len(text)
        if size > room:
            kept.append((cut(text, room), style))
            break
        kept.append((text, style))
        room -= size
    return kept
