"""A Query compiled to SQL WHERE conditions on a table's shape; text compares byte for byte."""

from collections.abc import Collection
from typing import Any

import sqlalchemy as sa

from tasklog_cli.models import ColumnKind
from tasklog_cli.query import Query
from tasklog_cli.sources.sql.shape import TableShape
from tasklog_cli.times import Zone


def where_clauses(shape: TableShape, query: Query, zone: Zone) -> tuple[list[sa.ColumnElement[bool]], bool]:
    """SQL conditions every match satisfies, and whether they are exactly the query."""
    columns = shape.table.c
    clauses: list[sa.ColumnElement[bool]] = []
    exact = True
    if query.tasks:
        globs = query.task_globs()
        if not globs:
            clauses.append(text_in(shape, "task_name", query.tasks))
        else:
            exact = False
    if query.actions:
        clauses.append(text_in(shape, "action", [str(action) for action in query.actions]))
    if query.run_ids:
        clauses.append(text_in(shape, "run_id", query.run_ids) if "run_id" in columns else sa.false())
    if shape.created_in_sql:
        if query.since is not None:
            clauses.append(shape.created >= shape.bound_time(query.since, zone))
        if query.until is not None:
            clauses.append(shape.created < shape.bound_time(query.until, zone))
    elif query.since is not None or query.until is not None:
        exact = False
    for condition in query.where:
        kind = shape.kinds.get(condition.field)
        if kind is None or condition.op == "~":
            exact = False
        elif condition.field in shape.numeric and condition.number is not None:
            clauses.append(_compare(columns[condition.field], condition.op, condition.number))
        elif (
            kind is ColumnKind.TEXT
            and shape.is_text(condition.field)
            and condition.number is None
            and condition.op in ("=", "!=")
            and condition.value
        ):
            column = columns[condition.field]
            equal = text_in(shape, condition.field, [condition.value])
            clauses.append(equal if condition.op == "=" else sa.or_(sa.not_(equal), column.is_(None)))
        else:
            exact = False
    if query.grep is not None or query.level is not None:
        exact = False
    return clauses, exact


def text_in(shape: TableShape, name: str, values: Collection[str]) -> sa.ColumnElement[bool]:
    """`name IN values`, exactly: the plain comparison (which an index serves) and the byte-exact one."""
    column = shape.table.c[name]
    if not shape.is_text(name):
        return column.in_(list(values))
    return sa.and_(column.in_(list(values)), shape.exact(column).in_(list(values)))


def _compare(column: sa.ColumnElement[Any], op: str, value: Any) -> sa.ColumnElement[bool]:
    if op == "!=":
        return sa.or_(column != value, column.is_(None))
    operations: dict[str, sa.ColumnElement[bool]] = {
        "=": column == value,
        "<": column < value,
        "<=": column <= value,
        ">": column > value,
        ">=": column >= value,
    }
    return operations[op]
