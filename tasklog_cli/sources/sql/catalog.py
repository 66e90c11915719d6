"""The task-log tables of a database, for `--table` completion."""

import sqlalchemy as sa

from tasklog_cli.sources.sql.connect import TASKFLOW_TABLE, make_engine

_RECORD_COLUMNS = {"task_name", "action", "created"}


def log_tables(url_text: str) -> list[str]:
    """Tables with task_name, action and created, and fastapi-taskflow's snapshots (a URL's `#table` or
    `?table=` is ignored)."""
    url = sa.engine.make_url(url_text.partition("#")[0])
    engine = make_engine(url.difference_update_query(["table"]))
    try:
        columns = sa.inspect(engine).get_multi_columns()
    finally:
        engine.dispose()
    return sorted(
        name
        for (_schema, name), table_columns in columns.items()
        if {column["name"] for column in table_columns} >= _RECORD_COLUMNS or name == TASKFLOW_TABLE
    )
