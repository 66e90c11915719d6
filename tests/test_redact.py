"""Passwords and secret URL parameters are never printed: redact_url and redact_text on many shapes, and
every command on real failed connections (PostgreSQL, MariaDB), with and without --debug."""

import json
import uuid

import pytest
import sqlalchemy as sa
from conftest import assert_one_error_line, run_cli
from test_services import SERVERS, reachable

from tasklog_cli.redact import redact_text, redact_url

SECRET = "S3cr3t-pw"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgresql://u:PW@host/db?password=PW", "postgresql://u:***@host/db?password=***"),
        ("postgresql://u:PW@host:5432/db", "postgresql://u:***@host:5432/db"),
        ("postgresql+psycopg://u:p%40ss%3Aw%2Frd%25@host/db", "postgresql+psycopg://u:***@host/db"),
        ("postgresql://u:p@ss:w/rd@host/db", "postgresql://u:***@host/db"),  # raw @ : / in the password
        ("postgresql://u:p?w#x@host/db", "postgresql://u:***@host/db"),  # raw ? and # too
        ("mysql://root:@host/db", "mysql://root:***@host/db"),
        ("redis://:PW@host:6379/0", "redis://:***@host:6379/0"),
        ("redis://user@host:6379/0", "redis://user@host:6379/0"),
        (
            "postgresql://host/db?PassWord=PW&sslmode=require",
            "postgresql://host/db?PassWord=***&sslmode=require",
        ),
        (
            "postgresql://host/db?sslpassword=PW&passwd=PW&pwd=PW",
            "postgresql://host/db?sslpassword=***&passwd=***&pwd=***",
        ),
        (
            "postgresql://h/db?secret=PW&token=PW&api_key=PW&access_token=PW",
            "postgresql://h/db?secret=***&token=***&api_key=***&access_token=***",
        ),
        ("postgresql://h/db?table=tasks#logs", "postgresql://h/db?table=tasks#logs"),
        ("postgresql://h/db#logs?password=PW", "postgresql://h/db#logs?password=***"),
        ("mysql://h/db?options=a@b", "mysql://h/db?options=a@b"),
        ("sqlite:///path/with@sign.db", "sqlite:///path/with@sign.db"),
        ("sqlite:////abs/path.db?mode=ro", "sqlite:////abs/path.db?mode=ro"),
        ("no url at all", "no url at all"),
    ],
)
def test_redact_url(url: str, expected: str) -> None:
    assert redact_url(url) == expected
    assert redact_url(expected) == expected  # redacting twice changes nothing


def test_redact_text_finds_every_url_and_keyword_secret() -> None:
    text = (
        "cannot read postgresql://u:PW1@h/db?password=PW2: failed; retried 'mysql+pymysql://root:PW3@m/db' "
        "and (redis://:PW4@r:6379/0). dsn: host=h password=PW5 sslpassword='PW 6' user=u, token=PW7"
    )
    redacted = redact_text(text)
    for number in range(1, 8):
        assert f"PW{number}" not in redacted
        assert f"PW {number}" not in redacted
    assert redacted == (
        "cannot read postgresql://u:***@h/db?password=***: failed; retried 'mysql+pymysql://root:***@m/db' "
        "and (redis://:***@r:6379/0). dsn: host=h password=*** sslpassword=*** user=u, token=***"
    )


def test_redact_text_leaves_plain_text_alone() -> None:
    text = "no table 'tasks' in /var/lib/app.db (tables: logs, runs); user 'root'@'127.0.0.1' denied"
    assert redact_text(text) == text


def secret_urls() -> list[str]:
    """Failing connections with the secret in every place a URL can hold it."""
    return [
        f"postgresql://nobody:{SECRET}@127.0.0.1:5432/test?password={SECRET}",
        f"postgresql+psycopg2://nobody:{SECRET}@127.0.0.1:5432/test?sslpassword={SECRET}",
        f"postgresql://postgres:{SECRET}@127.0.0.1:5432/no_such_database?Password={SECRET}#tasks",
        f"postgresql://u:{SECRET}@127.0.0.1:1/test?password={SECRET}",  # refused
        f"mysql://root:{SECRET}@127.0.0.1:3306/test",  # a wrong password
        f"mysql+pymysql://root@127.0.0.1:3306/test?password={SECRET}",
        f"mysql+pymysql://root:{SECRET}@127.0.0.1:3306/test?passwd={SECRET}&charset=nope",
        f"mysql+pymysql://root:{SECRET}@127.0.0.1:3306/test?ssl_ca=/no/such/file",
    ]


COMMANDS = [
    ("ls",), ("tail", "-n", "3"), ("runs",), ("runtimes",), ("tasks",), ("timeline", "t"), ("check", "--max-failures", "1"),
    ("info",),
]  # fmt: skip


@pytest.mark.services
@pytest.mark.parametrize("url", secret_urls())
def test_failed_connections_never_print_the_secret(url: str) -> None:
    reachable(SERVERS["mysql" if url.startswith("mysql") else "postgresql"]).dispose()
    for command in COMMANDS:
        result = run_cli(*command, "-r", url, expect=3)
        assert_one_error_line(result)
        assert SECRET not in result.stderr
        debug = run_cli(*command, "-r", url, "--debug", expect=3)
        assert debug.stdout == ""
        assert SECRET not in debug.stderr
        assert debug.stderr.splitlines()[-1].startswith("tasklog: error: ")


@pytest.mark.services
def test_info_on_a_url_with_a_password_hides_it() -> None:
    """PostgreSQL here trusts every local connection, so a URL with a password opens: `info` names the
    source without it."""
    engine = reachable(SERVERS["postgresql"])
    name = f"tasklog_redact_{uuid.uuid4().hex[:8]}"
    with engine.begin() as connection:
        connection.execute(
            sa.text(f"CREATE TABLE {name} (task_name TEXT, action TEXT, created DOUBLE PRECISION)")
        )
        connection.execute(sa.text(f"INSERT INTO {name} VALUES ('t', 'run', 1.0)"))
    try:
        url = f"postgresql://postgres:{SECRET}@127.0.0.1:5432/test?password={SECRET}#{name}"
        for fmt in ("json", "plain", "table"):
            out = run_cli("info", "-r", url, "-o", fmt).stdout
            assert SECRET not in out
        info = json.loads(run_cli("info", "-r", url, "-o", "json").stdout)
        assert info["source"] == "postgresql://postgres:***@127.0.0.1:5432/test?password=***"
        bad_table = run_cli("ls", "-r", url.replace(name, "no_such_table"), expect=3)
        assert_one_error_line(bad_table, "no_such_table")
        assert SECRET not in bad_table.stderr
    finally:
        with engine.begin() as connection:
            connection.execute(sa.text(f"DROP TABLE {name}"))
        engine.dispose()


@pytest.mark.services
@pytest.mark.parametrize("dialect", sorted(SERVERS))
def test_real_driver_errors_are_redacted(dialect: str) -> None:
    """The text of a real driver error for a wrong password, with the URL pasted in (as a traceback or a
    log line would), keeps no secret through redact_text."""
    reachable(SERVERS[dialect]).dispose()
    url = (
        f"postgresql+psycopg://nobody:{SECRET}@127.0.0.1:5432/test?password={SECRET}"
        if dialect == "postgresql"
        else f"mysql+pymysql://root:{SECRET}@127.0.0.1:3306/test"
    )
    engine = sa.create_engine(url)
    try:
        with pytest.raises(sa.exc.OperationalError) as caught:
            engine.connect()
    finally:
        engine.dispose()
    message = f"{caught.value}\nwhile connecting to {url}"
    assert SECRET in message
    assert SECRET not in redact_text(message)
