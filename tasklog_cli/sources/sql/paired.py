"""Runs paired inside the database by window functions, for `runs` on a large table: only the runs cross
the wire. The SQL works on SQLite, PostgreSQL and MySQL 8/MariaDB 10.2+; PAIRED_IN says where it is used.
A task whose history the functions cannot pair as Python does (DESIGN §4: a record without a run id, a
crash row, a run followed by another run of its id, runs that overlap, a value Python would skip) is named
instead, for Python to pair."""

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from tasklog_cli.models import FAILURES
from tasklog_cli.query import Query
from tasklog_cli.runs import Run
from tasklog_cli.sources.sql.rows import EPOCH_RANGE
from tasklog_cli.sources.sql.shape import TableShape
from tasklog_cli.sources.sql.stats import ALL_ACTIONS, FINISH_ACTIONS

RUN_COLUMNS = ("task", "rid", "start", "end", "outcome", "attempt")
# Where pairing in the database beats streaming the history to Python (1M records, 2026-12-01): PostgreSQL
# (runs -n 50 8.6 s against 9.2 s, a full runs 24.6 s against 27.1 s and 71 MB against 176 MB). SQLite
# sorts its window partitions slowly (25 s against 8.8 s), MariaDB 10.11 far more slowly: the same SQL is
# correct there (tests/test_sql_runs.py runs it on all three) but not used.
PAIRED_IN = frozenset({"postgresql"})


def can_pair(shape: TableShape) -> bool:
    """Whether the database pairs this table: a dialect of PAIRED_IN, `created` a float or integer column
    (its arithmetic is Python's), task name, action and run id text."""
    columns = shape.table.c
    return (
        shape.dialect in PAIRED_IN
        and "run_id" in columns
        and isinstance(columns.created.type, sa.Float | sa.Integer)
        and all(shape.is_text(name) for name in ("task_name", "action", "run_id"))
    )


@dataclass(frozen=True)
class RunSelect:
    """Which of the paired runs to return: of the tasks the conditions select (exactly), by outcome, run id
    and moment, the last `last`, newest first with `reverse`."""

    query: Query
    tasks: Sequence[sa.ColumnElement[bool]]
    outcomes: Collection[str]
    last: int | None
    reverse: bool


def paired_runs(shape: TableShape, select: RunSelect, retry_window: float) -> sa.Select[Any]:
    """One row per selected run of the regular tasks by (moment, task name) (`bad` 0), after one row for
    every task the window functions cannot pair (`bad` 1, the rest of it meaningless). Each level computes
    window functions over plain columns only: MariaDB 10.11 misjudges a window function inside AND/OR."""
    columns, exact = shape.table.c, shape.exact
    task, action, rid = (exact(columns[name]) for name in ("task_name", "action", "run_id"))
    created = columns.created
    by_id, in_order = [task, rid], [created, *shape.store_order]
    skipped_by_python = [
        created.is_(None), sa.not_(created.between(*EPOCH_RANGE)),
        task.is_(None), task == "", action.is_(None), action == "", rid.is_(None), rid == "",
    ]  # fmt: skip
    if shape.dialect == "sqlite":  # a column of any type holds any value
        skipped_by_python += [
            sa.func.typeof(created).not_in(("integer", "real")),
            *(sa.func.typeof(columns[name]) != "text" for name in ("task_name", "action", "run_id")),
        ]
    history = sa.select(  # values as stored; compared and grouped byte for byte (`shape.exact`)
        columns.task_name.label("task"), columns.run_id.label("rid"), columns.action.label("action"),
        created.label("created"),
        sa.func.lag(action).over(partition_by=by_id, order_by=in_order).label("prev_action"),
        sa.func.lag(created).over(partition_by=by_id, order_by=in_order).label("prev_created"),
        sa.func.lead(action).over(partition_by=by_id, order_by=in_order).label("next_action"),
        sa.case((sa.or_(*skipped_by_python, action.not_in(ALL_ACTIONS)), 1), else_=0).label("invalid"),
    ).where(*select.tasks).subquery("history")  # fmt: skip
    h = history.c
    finish = exact(h.action).in_(FINISH_ACTIONS)
    closes = sa.and_(finish, exact(h.prev_action) == "run")
    starts = exact(h.action) == "run"
    last_of_id = sa.or_(h.next_action.is_(None), exact(h.next_action).not_in(FINISH_ACTIONS))
    open_at_end = sa.and_(starts, last_of_id)
    irregular = sa.or_(h.invalid == 1, sa.and_(starts, exact(h.next_action) == "run"))
    marked = sa.select(
        h.task, h.rid,
        sa.case((closes, h.prev_created), (open_at_end, h.created)).label("start"),
        sa.case((finish, h.created)).label("end"),
        sa.case((finish, h.action), (open_at_end, "running")).label("outcome"),
        sa.case((closes, h.prev_created), else_=h.created).label("moment"),
        sa.case((sa.or_(finish, open_at_end), 1), else_=0).label("is_run"),
        sa.case((irregular, 1), else_=0).label("irregular"),
    ).subquery("marked")  # fmt: skip
    m = marked.c
    run_names = ("task", "rid", "start", "end", "outcome", "moment")
    runs = sa.select(
        *(m[name] for name in (*run_names, "is_run")),
        sa.func.max(m.irregular).over(partition_by=exact(m.task)).label("bad_task"),
    ).subquery("runs")
    r = runs.c
    in_task = exact(r.task)
    chained = sa.select(
        *(r[name] for name in (*run_names, "bad_task")),
        sa.func.row_number().over(partition_by=in_task, order_by=r.moment).label("number"),
        sa.func.lag(r.end).over(partition_by=in_task, order_by=r.moment).label("previous_end"),
        sa.func.lag(r.outcome).over(partition_by=in_task, order_by=r.moment).label("previous_outcome"),
    ).where(sa.or_(r.is_run == 1, r.bad_task == 1)).subquery("chained")  # fmt: skip
    c = chained.c
    overlaps = sa.and_(c.number > 1, sa.or_(c.previous_end.is_(None), c.previous_end >= c.moment))
    retry = sa.and_(
        sa.literal(retry_window > 0), c.start.is_not(None),
        exact(c.previous_outcome).in_(sorted(map(str, FAILURES))), c.start - c.previous_end <= retry_window,
    )  # fmt: skip
    flagged = sa.select(
        *(c[name] for name in (*run_names, "number")),
        sa.case((sa.or_(c.bad_task == 1, overlaps), 1), else_=0).label("bad_run"),
        sa.case((retry, 0), else_=1).label("new_chain"),
    ).subquery("flagged")
    f = flagged.c
    islands = sa.select(
        *(f[name] for name in (*run_names, "number")),
        sa.func.sum(f.new_chain).over(partition_by=exact(f.task), order_by=f.moment, rows=(None, 0))
        .label("chain"),
        sa.func.max(f.bad_run).over(partition_by=exact(f.task)).label("bad"),
    ).subquery("islands")  # fmt: skip
    i = islands.c
    attempts = sa.select(
        *(i[name] for name in ("task", "rid", "start", "end", "outcome")),
        sa.func.row_number().over(partition_by=[exact(i.task), i.chain], order_by=i.moment).label("attempt"),
        i.moment, i.bad, i.number,
    ).subquery("attempts")  # fmt: skip
    a = attempts.c
    chosen = sa.select(*(a[name] for name in (*RUN_COLUMNS, "moment", "bad"))).where(
        sa.or_(sa.and_(a.bad == 0, *_selected(shape, a, select)), sa.and_(a.bad == 1, a.number == 1))
    )
    if select.last is None:
        return chosen.order_by(a.bad.desc(), *_by_moment(shape, a, select.reverse))
    position = sa.func.row_number().over(partition_by=a.bad, order_by=_by_moment(shape, a, True))
    ranked = chosen.add_columns(position.label("position")).subquery("ranked")
    k = ranked.c  # the last `last` of the regular runs, and every task named
    return (
        sa.select(*(k[name] for name in (*RUN_COLUMNS, "moment", "bad")))
        .where(sa.or_(k.bad == 1, k.position <= select.last))
        .order_by(k.bad.desc(), *_by_moment(shape, k, select.reverse))
    )


def _by_moment(shape: TableShape, columns: Any, descending: bool) -> list[sa.ColumnElement[Any]]:
    order = [columns.moment, shape.exact(columns.task)]
    return [column.desc() for column in order] if descending else order


def _selected(shape: TableShape, columns: Any, select: RunSelect) -> list[sa.ColumnElement[bool]]:
    """The selection's conditions on a paired run (text compared byte for byte)."""
    query, conditions = select.query, list[sa.ColumnElement[bool]]()
    if select.outcomes:
        conditions.append(shape.exact(columns.outcome).in_(sorted(select.outcomes)))
    if query.run_ids:
        conditions.append(shape.exact(columns.rid).in_(sorted(query.run_ids)))
    if query.since is not None:
        conditions.append(columns.moment >= query.since)
    if query.until is not None:
        conditions.append(columns.moment < query.until)
    return conditions


def run_of_row(row: Any) -> Run:
    """A paired row as the run Python's pairing gives (times as floats)."""
    task, rid, start, end, outcome, attempt = row[:6]
    return Run(
        task, rid, None if start is None else float(start), None if end is None else float(end), outcome,
        int(attempt),
    )  # fmt: skip
