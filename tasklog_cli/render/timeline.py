"""The human timeline: per task a heading, per run a header line, its records and retry separators.

Lines are built as (text, style) segments: the table format styles them with Rich, plain joins the text.
"""

from collections.abc import Sequence

from tasklog_cli.render.display import Display
from tasklog_cli.render.text import OUTCOME_STYLES, human_value
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
        lines.append(
            [(timeline.task_name, "bold"), (f"  {len(timeline.runs)} of {timeline.total_runs} runs", "")]
        )
        previous: TimelineRun | None = None
        for item in timeline.runs:
            # A store that logs attempts within its runs (fastapi-taskflow) retries inside a run, not across.
            logged = any(isinstance(record.get("attempt"), int) for record in item.records)
            if previous is not None and item.run.attempt == previous.run.attempt + 1 and not logged:
                lines.append([(f"  --- Retry {item.run.attempt - 1} ---", "yellow")])
            lines.append(_run_header(item, zone))
            lines.extend(_record_lines(item, zone, full=full))
            previous = item
    return lines


def _run_header(item: TimelineRun, zone: Zone) -> Line:
    run = item.run
    status = f" ({run.status})" if run.status not in (None, *PLAIN_STATUSES) else ""
    duration = human_value(run.duration, zone, "duration") or "-"
    return [
        ("  ", ""),
        (human_value(run.start, zone) if run.start is not None else "(start unknown)".ljust(23), "bold"),
        ("  ", ""),
        (run.outcome, OUTCOME_STYLES.get(run.outcome, "")),
        (status.ljust(9 - len(run.outcome)), ""),
        (f"  {duration:>8}  attempt {run.attempt}  run #{item.number}", ""),
        (f"  id {run.run_id}" if run.run_id else "", ""),
    ]


def _record_lines(item: TimelineRun, zone: Zone, *, full: bool) -> list[Line]:
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
        clock = human_value(record.created, zone)[11:]
        message, *more = str(record.get("message") or "").splitlines() or [""]
        lines.append(
            [
                (f"      {clock}  ", ""),
                (record.action.ljust(9), OUTCOME_STYLES.get(record.action, "")),
                (f"  {message}{' …' if more and not full else ''}", ""),
            ]
        )
        if full:
            lines.extend([(INDENT + line, "")] for line in more)
        trace = str(record.get("exc_text") or "").rstrip()
        if trace:
            shown = trace.splitlines() if full else trace.splitlines()[-1:]
            lines.extend([(INDENT + line, "red")] for line in shown)
    return lines


def write_timeline(timelines: Sequence[Timeline], display: Display, *, styled: bool, full: bool) -> int:
    """Write the timeline (styled through Rich for tables, plain text otherwise); returns the runs shown."""
    lines = timeline_lines(timelines, display.zone, full=full)
    if styled:
        from rich.text import Text

        from tasklog_cli.render.table import console

        out = console(display)
        for line in lines:
            out.print(Text.assemble(*line), overflow="ellipsis", no_wrap=not full, crop=not full)
    else:
        display.stdout.write("".join("".join(text for text, _ in line) + "\n" for line in lines))
    return sum(len(timeline.runs) for timeline in timelines)
