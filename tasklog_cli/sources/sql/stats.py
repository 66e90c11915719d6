"""Runtime statistics computed inside PostgreSQL: pairing by window functions where the rules allow it,
so `runtimes` on a large table moves little more than the answer."""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Engine

from tasklog_cli.query import Query
from tasklog_cli.sources.sql.connect import read_only_connection
from tasklog_cli.sources.sql.rows import EPOCH_RANGE
from tasklog_cli.sources.sql.shape import TableShape

FINISH_ACTIONS = ("success", "fail", "terminate", "inaction")
ALL_ACTIONS = ("run", *FINISH_ACTIONS, "crash")
OUTCOMES = (*FINISH_ACTIONS, "running")  # a regular history has no crash


def runtime_statistics(
    engine: Engine, shape: TableShape, query: Query, tasks: Sequence[sa.ColumnElement[bool]]
) -> tuple[dict[str, dict[str, Any]], list[str]]:
    """Per-task statistics of the tasks the conditions select (exactly) whose history pairs by window
    functions (every record has a run id, no crash rows, no run directly followed by another run of the
    same id), and the other tasks; names, run ids and actions group and compare byte for byte, whatever
    their collation."""
    columns = shape.table.c
    order = [columns.created, *shape.store_order]
    task, run_id, action = (
        shape.exact(columns[name]) if shape.is_text(name) else columns[name]
        for name in ("task_name", "run_id", "action")
    )
    partition = [task, run_id]
    paired = sa.select(
        task.label("task"), run_id.label("rid"), action.label("action"), columns.created,
        sa.func.lag(action).over(partition_by=partition, order_by=order).label("prev_action"),
        sa.func.lag(columns.created).over(partition_by=partition, order_by=order).label("prev_created"),
        sa.func.lead(action).over(partition_by=partition, order_by=order).label("next_action"),
    ).where(*tasks).subquery("paired")  # fmt: skip
    p = paired.c
    finish = p.action.in_(FINISH_ACTIONS)
    closes_run = sa.and_(finish, p.prev_action == "run")
    orphan = sa.and_(finish, sa.or_(p.prev_action.is_(None), p.prev_action != "run"))
    starts = p.action == "run"
    open_at_end = sa.and_(starts, sa.or_(p.next_action.is_(None), p.next_action.not_in(FINISH_ACTIONS)))
    moment = sa.case((closes_run, p.prev_created), (finish, p.created), (open_at_end, p.created))
    in_window: list[sa.ColumnElement[bool]] = []
    if query.since is not None:
        in_window.append(moment >= query.since)
    if query.until is not None:
        in_window.append(moment < query.until)
    counted = sa.and_(sa.or_(finish, open_at_end), *in_window)
    irregular_row = sa.or_(
        p.rid.is_(None),
        p.action.not_in(ALL_ACTIONS),
        p.action == "crash",
        sa.and_(starts, p.next_action == "run"),
        sa.not_(p.created.between(*EPOCH_RANGE)),  # NaN, ±Infinity or past year 9999: rows Python skips
    )
    ending = sa.func.coalesce(sa.case((starts, p.next_action), else_=p.action), "")  # what ended the run
    code = sa.case(
        *((ending == action, number) for number, action in enumerate(FINISH_ACTIONS)),
        else_=len(FINISH_ACTIONS),
    )
    # The latest run without a sort: arrays compare element by element, so max() picks the greatest
    # (moment, has a start, outcome code).
    latest = postgresql.array([moment, sa.case((orphan, 0.0), else_=1.0), code])
    runs = (
        sa.select(
            p.task,
            sa.case((irregular_row, 1), else_=0).label("irregular"),
            sa.case((finish, p.action), (open_at_end, "running")).label("outcome"),
            sa.case((closes_run, p.created - p.prev_created)).label("duration"),
            latest.label("latest"),
        )
        .where(sa.or_(counted, irregular_row))
        .subquery("runs")
    )
    r = runs.c
    statistics = sa.select(
        r.task,
        sa.func.sum(r.irregular).label("irregular"),
        sa.func.count(r.outcome).label("runs"),
        *(sa.func.count().filter(r.outcome == outcome).label(outcome) for outcome in OUTCOMES),
        sa.func.min(r.duration).label("min"),
        sa.func.max(r.duration).label("max"),
        sa.func.avg(r.duration).label("mean"),
        sa.func.percentile_cont(0.5).within_group(r.duration).label("p50"),
        sa.func.percentile_cont(0.95).within_group(r.duration).label("p95"),
        sa.func.max(r.latest).filter(r.outcome.is_not(None)).label("latest"),
    ).group_by(r.task)  # fmt: skip
    with read_only_connection(engine) as connection:
        rows = [dict(row._mapping) for row in connection.execute(statistics)]
    stats = {}
    irregular = []
    for row in rows:
        if row["irregular"]:
            irregular.append(row["task"])
        elif row["runs"]:
            stats[row["task"]] = _as_runtime_stats(row)
    return stats, sorted(irregular)


def _latest_run(latest: list[float] | None) -> dict[str, Any]:
    """last_start and last_outcome from the (created, is a run, outcome code) of the latest run."""
    if latest is None:
        return {"last_start": None, "last_outcome": None}
    created, is_run, code = latest
    return {
        "last_start": created if is_run else None,
        "last_outcome": OUTCOMES[int(code)],
    }


def _as_runtime_stats(row: dict[str, Any]) -> dict[str, Any]:
    """The database's aggregates shaped as `statistics.runtime_stats` gives them."""
    counts = {outcome: int(row[outcome]) for outcome in OUTCOMES}
    rated = counts["success"] + counts["fail"] + counts["terminate"]
    durations = {
        name: None if row[name] is None else float(row[name]) for name in ("min", "p50", "p95", "max", "mean")
    }
    return {
        "runs": int(row["runs"]), **counts, "crash": 0,
        "success_rate": counts["success"] / rated if rated else None,
        **durations, **_latest_run(row["latest"]),
    }  # fmt: skip
