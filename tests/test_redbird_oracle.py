"""Red Bird as the oracle: tasklog's readers return exactly what Red Bird's own repos return on one store.

Every store is a real Rocketry-written fixture, copied to a temporary folder first (Red Bird opens SQLite
read-write, and the fixtures may be regenerated while the tests run). Nothing here hard-codes what the
fixtures hold: task names, times and counts are read from the stores at test time.

Records are compared as (task_name, action, run_id or None, created) with `created` equal within 1 µs.
Red Bird's `between` includes its end while tasklog's window is [since, until): where a Red Bird query uses
`between`, its answer is cut with `created < until` before comparing, and nowhere else.
"""

import csv
import json
import math
import shutil
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pydantic.v1 as pydantic_v1
import pytest
import sqlalchemy as sa
from conftest import ROCKETRY
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tasklog_cli.models import Action, Record
from tasklog_cli.query import Query
from tasklog_cli.sources import OpenOptions, Source, open_source
from tasklog_cli.sources.redbird import filter_by_arguments, load_redbird

Key = tuple[str, str, str | None, float]

KNOWN_CSV = {"minimal.csv", "minimal_run.csv", "task_run.csv", "run.csv"}
CSV_FIXTURES = sorted(KNOWN_CSV | {path.name for path in ROCKETRY.glob("*.csv")})
SQLITE_TABLES = {"task_run.db": "tasks", "minimal.db": "logs"}
MEMORY_DUMP = "memory.json"
ABSENT_TASK = "no such task, never logged"
CREATED_TOLERANCE = 1e-6

# The store fixture is function-scoped but only read, so Hypothesis may reuse it across examples.
oracle_settings = settings(suppress_health_check=[HealthCheck.function_scoped_fixture])


@dataclass
class OracleStore:
    """One store opened twice: by tasklog (open_source) and by the Red Bird repo that reads its kind."""

    name: str
    source: Source
    repo: Any
    oracle_keys: list[Key]

    @property
    def task_names(self) -> list[str]:
        return sorted({key[0] for key in self.oracle_keys})

    @property
    def created_values(self) -> list[float]:
        return sorted(key[3] for key in self.oracle_keys)

    def created_at(self, fraction: float) -> float:
        """The created time of the record at this fraction of the store's span (by rank)."""
        created = self.created_values
        return created[int(fraction * (len(created) - 1))]


def record_key(record: Record) -> Key:
    """What a tasklog Record is compared by."""
    return (record.task_name, record.action, record.run_id, record.created)


def item_key(item: Any) -> Key:
    """What a Red Bird item (a dict or a pydantic v1 model) is compared by."""
    data = item if isinstance(item, dict) else item.dict()
    return (data["task_name"], data["action"], data.get("run_id") or None, float(data["created"]))


def _sort_key(key: Key) -> tuple[str, str, str, float]:
    return (key[0], key[1], key[2] or "", key[3])


def assert_same_records(ours: Iterable[Key], theirs: Iterable[Key]) -> None:
    """Same multiset of (task_name, action, run_id), and created equal within 1 µs pairwise."""
    mine, other = sorted(ours, key=_sort_key), sorted(theirs, key=_sort_key)
    assert [key[:3] for key in mine] == [key[:3] for key in other]
    far = [(a, b) for a, b in zip(mine, other, strict=True) if abs(a[3] - b[3]) > CREATED_TOLERANCE]
    assert not far, f"created differs by more than 1 µs: {far[:3]}"


def csv_item_model(header: Sequence[str]) -> type[pydantic_v1.BaseModel]:
    """A pydantic v1 model for CSVFileRepo: `created` a float (so ranges compare), the rest text."""
    text_fields: dict[str, Any] = {name: (str | None, None) for name in header if name != "created"}
    return pydantic_v1.create_model("CsvRow", created=(float, ...), **text_fields)


@contextmanager
def opened_store(name: str, folder: Path) -> Iterator[OracleStore]:
    """Copy a fixture into `folder`, then open the copy with tasklog and with Red Bird."""
    redbird = load_redbird()
    path = folder / name
    shutil.copyfile(ROCKETRY / name, path)
    engine: sa.Engine | None = None
    if path.suffix == ".csv":
        with path.open(newline="", encoding="utf-8") as file:
            header = next(csv.reader(file))
        repo = redbird.repos.CSVFileRepo(filename=path, fieldnames=header, model=csv_item_model(header))
    elif path.suffix == ".db":
        engine = sa.create_engine(f"sqlite:///{path}")
        repo = redbird.repos.SQLRepo(engine=engine, table=SQLITE_TABLES[name], model=dict)
    else:
        # Red Bird has no reader for a dump file: a dump is what a MemoryRepo held, so load it back into one.
        repo = redbird.repos.MemoryRepo(collection=json.loads(path.read_text("utf-8")), model=dict)
    source = open_source(str(path), OpenOptions())
    try:
        yield OracleStore(name, source, repo, [item_key(item) for item in repo.filter_by().all()])
    finally:
        source.close()
        if engine is not None:
            repo.session.remove()
            engine.dispose()


@pytest.fixture(params=[*CSV_FIXTURES, *SQLITE_TABLES])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[OracleStore]:
    """A CSV or SQLite fixture read by tasklog and by Red Bird, both on the same private copy."""
    with opened_store(request.param, tmp_path) as opened:
        yield opened


def redbird_keys(repo: Any, arguments: dict[str, Any], *, cut_at: float | None = None) -> list[Key]:
    """What Red Bird's filter_by returns, cut to `created < cut_at` when given (after a `between`)."""
    keys = [item_key(item) for item in repo.filter_by(**arguments).all()]
    return [key for key in keys if cut_at is None or key[3] < cut_at]


def tasklog_keys(source: Source, query: Query) -> list[Key]:
    return [record_key(record) for record in source.scan(query)]


def handwritten_arguments(query: Query) -> tuple[dict[str, Any], float | None]:
    """The query written by hand in `redbird.oper`, and the `until` to cut at when `between` was used.

    Shaped differently from filter_by_arguments on purpose (always `in_`, `between` for any window), so a bug
    there cannot hide behind a shared one.
    """
    oper = load_redbird().oper
    arguments: dict[str, Any] = {}
    if query.tasks:
        arguments["task_name"] = oper.in_(list(query.tasks))
    if query.actions:
        arguments["action"] = oper.in_([action.value for action in query.actions])
    if query.since is None and query.until is None:
        return arguments, None
    arguments["created"] = oper.between(query.since, query.until, none_as_open=True)
    return arguments, query.until


def redbird_queries(store: OracleStore) -> st.SearchStrategy[Query]:
    """Queries Red Bird can express: task and action equality or `in_`, time ranges over the store's span."""
    names = [*store.task_names, ABSENT_TASK]
    created = store.created_values
    tasks = st.one_of(
        st.just(()),
        st.tuples(st.sampled_from(names)),
        st.lists(st.sampled_from(names), min_size=2, max_size=4, unique=True).map(tuple),
    )
    actions = st.one_of(
        st.just(()),
        st.tuples(st.sampled_from(list(Action))),
        st.lists(st.sampled_from(list(Action)), min_size=2, max_size=4, unique=True).map(tuple),
    )
    moments = st.one_of(
        st.sampled_from(created),  # a record's own time: the window's edges must be [since, until)
        st.floats(min_value=created[0] - 1, max_value=created[-1] + 1, allow_nan=False),
    )
    windows = st.one_of(
        st.just((None, None)),
        moments.map(lambda since: (since, None)),
        moments.map(lambda until: (None, until)),
        st.tuples(moments, moments).map(lambda pair: (min(pair), max(pair))),
    )
    return st.builds(
        lambda task_names, action_names, window: Query(
            tasks=task_names, actions=action_names, since=window[0], until=window[1]
        ),
        tasks,
        actions,
        windows,
    )


@oracle_settings
@given(data=st.data())
def test_scan_equals_redbird_filter_by(store: OracleStore, data: st.DataObject) -> None:
    """For any query Red Bird can express, tasklog's scan returns exactly what Red Bird's repo returns."""
    query = data.draw(redbird_queries(store), label="query")
    ours = tasklog_keys(store.source, query)

    arguments, exact = filter_by_arguments(query)
    # An `exact` translation must need no cut; otherwise the only thing left to apply is `created < until`.
    assert_same_records(ours, redbird_keys(store.repo, arguments, cut_at=None if exact else query.until))

    literal, cut_at = handwritten_arguments(query)
    assert_same_records(ours, redbird_keys(store.repo, literal, cut_at=cut_at))


@pytest.mark.parametrize("store", CSV_FIXTURES, indirect=True)
def test_csv_scan_keeps_redbird_file_order(store: OracleStore) -> None:
    """Both read a CSV file top to bottom, so their full scans agree record by record, in order."""
    ours = tasklog_keys(store.source, Query())
    assert [key[:3] for key in ours] == [key[:3] for key in store.oracle_keys]
    assert all(abs(a[3] - b[3]) <= CREATED_TOLERANCE for a, b in zip(ours, store.oracle_keys, strict=True))


@dataclass(frozen=True)
class ExplicitCase:
    """A Red Bird query written literally with `redbird.oper`, and the tasklog Query that means the same."""

    name: str
    build: Callable[[OracleStore, Any], tuple[Query, dict[str, Any]]]


EXPLICIT_CASES = (
    ExplicitCase(
        "one task by equality",
        lambda s, oper: (Query(tasks=(s.task_names[0],)), {"task_name": s.task_names[0]}),
    ),
    ExplicitCase(
        "absent task",
        lambda s, oper: (Query(tasks=(ABSENT_TASK,)), {"task_name": oper.equal(ABSENT_TASK)}),
    ),
    ExplicitCase(
        "two tasks by in_",
        lambda s, oper: (Query(tasks=tuple(s.task_names[-2:])), {"task_name": oper.in_(s.task_names[-2:])}),
    ),
    ExplicitCase(
        "failures by in_",
        lambda s, oper: (
            Query(actions=(Action.FAIL, Action.TERMINATE, Action.CRASH)),
            {"action": oper.in_(["fail", "terminate", "crash"])},
        ),
    ),
    ExplicitCase(
        "task and action",
        lambda s, oper: (
            Query(tasks=(s.task_names[0],), actions=(Action.SUCCESS,)),
            {"task_name": s.task_names[0], "action": "success"},
        ),
    ),
    ExplicitCase(
        "since the median",
        lambda s, oper: (Query(since=s.created_at(0.5)), {"created": oper.greater_equal(s.created_at(0.5))}),
    ),
    ExplicitCase(
        "until the median",
        lambda s, oper: (Query(until=s.created_at(0.5)), {"created": oper.less_than(s.created_at(0.5))}),
    ),
    ExplicitCase(
        "until the median, less_equal m is until the next float after m",
        lambda s, oper: (
            Query(until=math.nextafter(s.created_at(0.5), math.inf)),
            {"created": oper.less_equal(s.created_at(0.5))},
        ),
    ),
    ExplicitCase(
        "runs after the median, greater_than m is since the next float after m",
        lambda s, oper: (
            Query(actions=(Action.RUN,), since=math.nextafter(s.created_at(0.5), math.inf)),
            {"action": oper.equal("run"), "created": oper.greater_than(s.created_at(0.5))},
        ),
    ),
)


@pytest.mark.parametrize("case", EXPLICIT_CASES, ids=lambda case: case.name)
def test_explicit_redbird_queries(store: OracleStore, case: ExplicitCase) -> None:
    """Literal `redbird.oper` queries agree with the same Query through tasklog and filter_by_arguments."""
    query, literal = case.build(store, load_redbird().oper)
    ours = tasklog_keys(store.source, query)
    assert_same_records(ours, redbird_keys(store.repo, literal))
    arguments, exact = filter_by_arguments(query)
    assert exact
    assert_same_records(ours, redbird_keys(store.repo, arguments))


def test_window_between_quartiles(store: OracleStore) -> None:
    """`between(q1, q3)` cut at q3 is the window [q1, q3): q1's records are in it, q3's are not."""
    oper = load_redbird().oper
    first, third = store.created_at(0.25), store.created_at(0.75)
    query = Query(since=first, until=third)
    ours = tasklog_keys(store.source, query)
    assert_same_records(ours, redbird_keys(store.repo, {"created": oper.between(first, third)}, cut_at=third))
    assert any(key[3] == first for key in ours)
    assert all(key[3] != third for key in ours)


@pytest.mark.parametrize("name", [*CSV_FIXTURES, *SQLITE_TABLES, MEMORY_DUMP])
def test_counts_per_task_and_action_equal_redbird(name: str, tmp_path: Path) -> None:
    """A full scan counts the same records per (task_name, action) as Red Bird's `filter_by().all()`."""
    with opened_store(name, tmp_path) as opened:
        ours = Counter((record.task_name, record.action) for record in opened.source.scan(Query()))
        summary = opened.source.summary()
        skipped = opened.source.skipped
    theirs = Counter(key[:2] for key in opened.oracle_keys)
    assert theirs, f"Red Bird read {name} as empty"
    assert ours == theirs
    assert skipped == 0
    per_task: Counter[str] = Counter()
    for (task, _), count in theirs.items():
        per_task[task] += count
    assert summary.records == len(opened.oracle_keys)
    assert summary.tasks == dict(per_task)
    assert summary.first == min(key[3] for key in opened.oracle_keys)
    assert summary.last == max(key[3] for key in opened.oracle_keys)
