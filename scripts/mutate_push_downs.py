"""Drop one filter from one push-down at a time and check that the cross-store suite notices.

    python scripts/mutate_push_downs.py            # every mutation (about 10 minutes; needs the servers)
    python scripts/mutate_push_downs.py M3 M7      # some of them

Each mutation is applied to a copy of the tracked files in a temporary folder (the checkout is never
touched), then tests/test_cross_store.py runs there on the store kinds that take that push-down. A mutation
the suite does not fail on is MISSED, and the script exits 1.

Not listed: the index's SQL without `since`. The runs it lets through start before every run it should keep
and Python's re-check of the window drops them, so no answer can change (an equivalent mutant).
"""

import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SUITE = "tests/test_cross_store.py"


@dataclass(frozen=True)
class Mutation:
    """Replace `old` by `new` in one file; `stores` picks the suite's tests that should notice."""

    name: str
    what: str
    path: str
    old: str
    new: str
    stores: str


SQL_PAIRED = "tasklog_cli/sources/sql/paired.py"
SQL_STATS = "tasklog_cli/sources/sql/stats.py"
SQL_WHERE = "tasklog_cli/sources/sql/where.py"
SQL_TABLE = "tasklog_cli/sources/sql/table.py"
INDEX_CACHE = "tasklog_cli/index/cache.py"
INDEX_RUNS = "tasklog_cli/index/run_index.py"
PG = "postgresql"
SQL = "sqlite or postgresql or mariadb"
INDEXED = "index"

MUTATIONS = (
    Mutation(
        "M1",
        "SQL pairing: tasks dropped",
        SQL_PAIRED,
        '.where(*select.tasks).subquery("history")',
        '.subquery("history")',
        PG,
    ),
    Mutation(
        "M2", "SQL pairing: outcomes dropped", SQL_PAIRED, "    if select.outcomes:", "    if False:", PG
    ),
    Mutation(
        "M3",
        "SQL pairing: run ids dropped",
        SQL_PAIRED,
        "    if query.run_ids:\n        conditions",
        "    if False:\n        conditions",
        PG,
    ),
    Mutation(
        "M4",
        "SQL pairing: since dropped",
        SQL_PAIRED,
        "    if query.since is not None:\n        conditions",
        "    if False:\n        conditions",
        PG,
    ),
    Mutation(
        "M5",
        "SQL pairing: until dropped",
        SQL_PAIRED,
        "    if query.until is not None:\n        conditions",
        "    if False:\n        conditions",
        PG,
    ),
    Mutation(
        "M6",
        "SQL pairing: -n dropped",
        SQL_PAIRED,
        ".where(sa.or_(k.bad == 1, k.position <= select.last))",
        "",
        PG,
    ),
    Mutation(
        "M7",
        "SQL statistics: tasks dropped",
        SQL_STATS,
        '.where(*tasks).subquery("paired")',
        '.subquery("paired")',
        PG,
    ),
    Mutation(
        "M8",
        "SQL statistics: since dropped",
        SQL_STATS,
        "    if query.since is not None:\n        in_window",
        "    if False:\n        in_window",
        PG,
    ),
    Mutation(
        "M9",
        "SQL statistics: until dropped",
        SQL_STATS,
        "    if query.until is not None:\n        in_window",
        "    if False:\n        in_window",
        PG,
    ),
    Mutation(
        "M10",
        "SQL glob resolution: globs dropped",
        SQL_TABLE,
        "        if query.task_globs():\n            column",
        "        if False:\n            column",
        PG,
    ),
    Mutation(
        "M11",
        "SQL WHERE: tasks dropped",
        SQL_WHERE,
        'clauses.append(text_in(shape, "task_name", query.tasks))',
        "pass",
        SQL,
    ),
    Mutation(
        "M12",
        "SQL WHERE: actions dropped",
        SQL_WHERE,
        'clauses.append(text_in(shape, "action", [str(action) for action in query.actions]))',
        "pass",
        SQL,
    ),
    Mutation(
        "M13",
        "SQL WHERE: run ids dropped",
        SQL_WHERE,
        'clauses.append(text_in(shape, "run_id", query.run_ids) if "run_id" in columns else sa.false())',
        "pass",
        SQL,
    ),
    Mutation(
        "M14",
        "SQL WHERE: since dropped",
        SQL_WHERE,
        "clauses.append(shape.created >= shape.bound_time(query.since, zone))",
        "pass",
        SQL,
    ),
    Mutation(
        "M15",
        "SQL WHERE: until dropped",
        SQL_WHERE,
        "clauses.append(shape.created < shape.bound_time(query.until, zone))",
        "pass",
        SQL,
    ),
    Mutation(
        "M16",
        "SQL WHERE: numeric --where dropped",
        SQL_WHERE,
        "clauses.append(_compare(columns[condition.field], condition.op, condition.number))",
        "pass",
        SQL,
    ),
    Mutation(
        "M17",
        "SQL WHERE: text --where dropped",
        SQL_WHERE,
        'clauses.append(equal if condition.op == "=" else sa.or_(sa.not_(equal), column.is_(None)))',
        "pass",
        SQL,
    ),
    Mutation(
        "M18",
        "index: tasks dropped",
        INDEX_RUNS,
        "        if not query.tasks:\n            return names",
        "        if True:\n            return names",
        INDEXED,
    ),
    Mutation(
        "M20",
        "index: until dropped",
        INDEX_CACHE,
        "    if until is not None:\n        conditions",
        "    if False:\n        conditions",
        INDEXED,
    ),
    Mutation(
        "M21",
        "index: run ids dropped",
        INDEX_CACHE,
        '    if wanted:\n        conditions += f" AND run_id',
        '    if False:\n        conditions += f" AND run_id',
        INDEXED,
    ),
    Mutation(
        "M22",
        "index: outcomes of runs -n dropped",
        INDEX_CACHE,
        "        if wanted:\n            conditions",
        "        if False:\n            conditions",
        INDEXED,
    ),
    Mutation(
        "M23",
        "index: tasks of runs -n dropped",
        INDEX_CACHE,
        "        if names is not None:\n            conditions",
        "        if False:\n            conditions",
        INDEXED,
    ),
)


def copy_of_checkout(folder: Path) -> None:
    """The files git tracks, and those it does not ignore, as they are in the working tree."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT, check=True, capture_output=True, text=True,
    )  # fmt: skip
    for name in listed.stdout.splitlines():
        source, target = ROOT / name, folder / name
        if source.is_file():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)


def caught(mutation: Mutation, folder: Path) -> bool:
    """Whether the suite fails with the mutation applied (the file is restored after)."""
    path = folder / mutation.path
    original = path.read_text(encoding="utf-8")
    if original.count(mutation.old) != 1:
        raise SystemExit(f"{mutation.name}: the text to mutate is not in {mutation.path} exactly once")
    path.write_text(original.replace(mutation.old, mutation.new), encoding="utf-8")
    try:
        selected = f"every_filter and ({mutation.stores}) and not taskflow"
        test = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", SUITE, "-k", selected],
            cwd=folder,
            env={**os.environ, "PYTHONPATH": str(folder), "TASKLOG_REQUIRE_SERVICES": "1"},
            capture_output=True,
            text=True,
            check=False,
        )
    finally:
        path.write_text(original, encoding="utf-8")
    if test.returncode not in (0, 1):
        raise SystemExit(f"{mutation.name}: pytest exited {test.returncode}\n{test.stdout[-2000:]}")
    return test.returncode == 1


def main(names: list[str]) -> int:
    chosen = [mutation for mutation in MUTATIONS if not names or mutation.name in names]
    missed = 0
    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(temporary)
        copy_of_checkout(folder)
        for mutation in chosen:
            verdict = "caught" if caught(mutation, folder) else "MISSED"
            missed += verdict == "MISSED"
            print(f"{mutation.name:4} {verdict:7} {mutation.what}", flush=True)
    print(f"{len(chosen) - missed} of {len(chosen)} mutations caught")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
