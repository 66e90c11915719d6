"""The one module importing Red Bird (through the pydantic.v1 shim), and Red Bird repos as a source."""

import importlib
import sys
from collections.abc import Collection, Iterator
from types import ModuleType
from typing import Any

from tasklog_cli.errors import SourceError
from tasklog_cli.models import ROCKETRY_COLUMN_KINDS, ColumnKind, Record
from tasklog_cli.query import Query
from tasklog_cli.sources.base import OpenOptions, RowReader, Source


def load_redbird() -> ModuleType:
    """Import Red Bird 0.7.1 (written for pydantic v1) with `pydantic` pointing at `pydantic.v1`."""
    if "redbird.repos" in sys.modules:
        return sys.modules["redbird"]
    import pydantic.v1
    import sqlalchemy.orm  # noqa: F401 - Red Bird's SQLRepo expects it loaded

    saved = sys.modules["pydantic"]
    sys.modules["pydantic"] = pydantic.v1
    try:
        module = importlib.import_module("redbird")
        importlib.import_module("redbird.repos")
        importlib.import_module("redbird.oper")
    finally:
        sys.modules["pydantic"] = saved
    return module


def filter_by_arguments(query: Query) -> tuple[dict[str, Any], bool]:
    """The part of a Query that Red Bird's `filter_by` expresses, and whether that is all of it."""
    oper = load_redbird().oper
    arguments: dict[str, Any] = {}
    exact = not (query.grep or query.where or query.level is not None or query.task_globs())
    for field, values in (
        ("task_name", () if query.task_globs() else query.tasks),
        ("action", tuple(str(action) for action in query.actions)),
        ("run_id", query.run_ids),
    ):
        if len(values) == 1:
            arguments[field] = values[0]
        elif values:
            arguments[field] = oper.in_(list(values))
    if query.since is not None and query.until is not None:
        arguments["created"] = oper.between(query.since, query.until)  # inclusive: `until` is re-checked
        exact = False
    elif query.since is not None:
        arguments["created"] = oper.greater_equal(query.since)
    elif query.until is not None:
        arguments["created"] = oper.less_than(query.until)
    return arguments, exact


def item_to_dict(item: Any) -> dict[str, Any]:
    """A Red Bird item (dict or pydantic v1 model) as a plain dict."""
    return dict(item) if isinstance(item, dict) else item.dict()


class RedbirdSource(Source):
    """Any Red Bird repository, queried through its own `filter_by`; the rest is applied in Python."""

    kind = "Red Bird repo"

    def __init__(self, repo: Any, label: str, options: OpenOptions) -> None:
        self.repo = repo
        model_fields = getattr(getattr(repo, "model", None), "__fields__", None)
        if model_fields:
            columns = list(model_fields)
        else:
            first = repo.filter_by().first()
            columns = list(item_to_dict(first)) if first is not None else ["task_name", "action", "created"]
        super().__init__(label, columns, options)
        self._kinds = {name: ROCKETRY_COLUMN_KINDS.get(name, ColumnKind.TEXT) for name in self.columns}

    def scan(self, query: Query, fields: Collection[str] | None = None) -> Iterator[Record]:
        arguments, _ = filter_by_arguments(query)
        wanted = self.wanted_fields(fields, query)
        to_record = RowReader(self._kinds, self.options.zone, wanted)
        try:
            items = self.repo.filter_by(**arguments).all()
        except Exception as exc:  # user code: any failure is the source's
            raise SourceError(f"{self.label} failed to answer: {exc}") from exc
        return self.matching(items, lambda item: to_record(item_to_dict(item)), query)


def open_user_repo(spec: str, options: OpenOptions) -> RedbirdSource:
    """Import `package.module:attr` and wrap the Red Bird repo it names (or returns, when callable)."""
    module_name, _, attribute = spec.partition(":")
    load_redbird()
    if "" not in sys.path:
        sys.path.insert(0, "")
    try:
        target: Any = importlib.import_module(module_name)
        for part in attribute.split("."):
            target = getattr(target, part)
        repo = target() if callable(target) and not hasattr(target, "filter_by") else target
    except Exception as exc:  # user code: report it in one line
        raise SourceError(f"cannot load repo {spec}: {type(exc).__name__}: {exc}") from exc
    if not hasattr(repo, "filter_by"):
        raise SourceError(f"{spec} is not a Red Bird repo (it has no filter_by)")
    return RedbirdSource(repo, spec, options)
