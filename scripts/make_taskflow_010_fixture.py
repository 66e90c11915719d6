"""Regenerate tests/data/taskflow/taskflow-0.10.db: a store written by the real fastapi-taskflow 0.10.0.

Builds a throw-away venv (in a temporary folder, deleted afterwards) with fastapi-taskflow==0.10.0 and
httpx, and runs ``scripts/make_taskflow_fixture.py taskflow-0.10.db`` in it: the app of
``tests/taskflow_app.py`` on 0.10.0's ``SqliteBackend``.

Usage: ``python scripts/make_taskflow_010_fixture.py`` with any Python 3.11+ (about a minute: pip install).
"""

import subprocess
import sys
import tempfile
import venv
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("fastapi-taskflow==0.10.0", "httpx")


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="taskflow-0.10-") as folder:
        venv.create(folder, with_pip=True)
        python = str(Path(folder) / "bin" / "python")
        subprocess.run([python, "-m", "pip", "install", "-q", *PACKAGES], check=True)
        script = REPO_ROOT / "scripts" / "make_taskflow_fixture.py"
        return subprocess.run([python, str(script), "taskflow-0.10.db"], check=False).returncode


if __name__ == "__main__":
    sys.exit(main())
