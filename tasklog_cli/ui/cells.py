"""Table cells as Rich Text (never markup: log text is shown as it is, its control characters escaped)."""

from datetime import datetime

from rich.text import Text

from tasklog_cli.render.safe import visible
from tasklog_cli.render.text import OUTCOME_STYLES, sparkline, time_text
from tasklog_cli.results import Record, Run, Runtime, TaskHealth
from tasklog_cli.times import Zone, human_duration

FLASH_STYLE = "bold reverse"
TASK_COLUMNS = ("task", "last", "streak", "ok%", "p50", "p95", "last start", "", "recent", "outcomes")
RUN_COLUMNS = ("start", "outcome", "duration", "attempt", "end", "run id")
RECORD_COLUMNS = ("created", "task", "action", "run id", "message")


def outcome(value: str) -> Text:
    """An outcome or action, coloured as tables colour it."""
    return Text(visible(value), style=OUTCOME_STYLES.get(value.split(" ", maxsplit=1)[0], ""))


def duration(seconds: float | None) -> Text:
    """A human duration, right-aligned; a dash when there is none."""
    return Text("-" if seconds is None else human_duration(seconds), justify="right")


def moment(value: datetime | None, zone: Zone) -> Text:
    """A local time to the millisecond."""
    return Text("" if value is None else time_text(value, zone))


def ago(value: datetime | None, now: datetime) -> Text:
    """How long ago a moment was (`3m 04s ago`); `in ...` for one ahead of the clock."""
    if value is None:
        return Text("never", style="dim")
    seconds = (now - value).total_seconds()
    return Text(f"{human_duration(abs(seconds))} {'ago' if seconds >= 0 else 'ahead'}", justify="right")


def task_cells(
    health: TaskHealth, stats: Runtime | None, zone: Zone, now: datetime, *, flash: bool = False
) -> list[Text]:
    """A tasks-view row: name, last outcome, streak, success rate, p50, p95, last start, recent runs."""
    rate = "" if health.success_rate is None else f"{health.success_rate:.0%}"
    cells = [
        Text(visible(health.task_name), style="bold"),
        outcome(health.last_outcome),
        outcome(health.streak),
        Text(rate, justify="right"),
        duration(stats.p50 if stats else None),
        duration(stats.p95 if stats else None),
        ago(health.last_start, now),
        Text(time_text(health.last_start, zone, "s")[5:] if health.last_start else "", style="dim"),
        Text(sparkline(stats.recent) if stats else "", style="cyan"),
        Text.assemble(*(("■", OUTCOME_STYLES.get(item, "")) for item in (stats.outcomes if stats else ()))),
    ]
    if flash:
        for cell in cells:
            cell.stylize(FLASH_STYLE)
    return cells


def run_cells(run: Run, zone: Zone) -> list[Text]:
    """A runs-view row: start, outcome (with a store's own status), duration, attempt, end, run id."""
    status = f" ({visible(run.status)})" if run.status not in (None, "success", "failed") else ""
    return [
        Text(time_text(run.start, zone) if run.start else "(start unknown)"),
        Text.assemble(outcome(run.outcome), status),
        duration(run.duration),
        Text(str(run.attempt), justify="right", style="yellow" if run.attempt > 1 else ""),
        moment(run.end, zone),
        Text(visible(run.run_id or ""), style="dim"),
    ]


def record_cells(record: Record, zone: Zone) -> list[Text]:
    """A live-tail row: created, task, action, run id, the message's first line."""
    message = str(record.get("message") or "")
    first, _, more = message.strip().partition("\n")
    return [
        moment(record.created, zone),
        Text(visible(record.task_name), style="bold"),
        outcome(record.action),
        Text(visible(record.run_id or ""), style="dim"),
        Text(visible(first) + (" …" if more else "")),
    ]
