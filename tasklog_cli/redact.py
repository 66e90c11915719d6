"""Secrets hidden from anything tasklog prints: URL passwords and secret query parameters, in a URL or in
any text (a driver's error message, a traceback)."""

import re

HIDDEN = "***"

# Query parameters (and libpq keywords) whose value is a secret: password, passwd, pwd, sslpassword,
# secret, client_secret, token, access_token, api_key, apikey, auth, authorization, credentials...
_SECRET_NAME = re.compile(r"pass|pwd|secret|token|api_?key|auth|credential|signature", re.IGNORECASE)

# A URL as it appears in text: scheme://, then anything up to whitespace, a quote or a bracket, less the
# punctuation that ends a sentence or a clause after it.
_URL = re.compile(r"""[A-Za-z][A-Za-z0-9+.\-]*://[^\s'"<>`]*(?<![.,:;!?)\]])""")

# `name=value` pairs of a query string or a libpq/ODBC connection string in free text.
_SECRET_PAIR = re.compile(
    r"""(?P<name>\b[\w.\-]*(?:pass|pwd|secret|token|api_?key|auth|credential|signature)[\w.\-]*)"""
    r"""(?P<eq>\s*=\s*)(?P<value>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"|[^\s&;,'"]+)""",
    re.IGNORECASE,
)


def redact_url(url: str) -> str:
    """The URL with its password (`user:***@`) and secret query parameters (`?password=***`) hidden;
    everything else (scheme, user, host, path, other parameters, fragment) as it was."""
    scheme, separator, rest = url.partition("://")
    if not separator:
        return _redact_query(url)
    at = _userinfo_end(rest)
    if at is not None:
        user, colon, _password = rest[:at].partition(":")
        userinfo = f"{user}:{HIDDEN}" if colon else user
        rest = rest[at:]
    else:
        userinfo = None
    query_at = min((found for found in (rest.find("?"), rest.find("#")) if found != -1), default=len(rest))
    head = rest[:query_at] if userinfo is None else f"{userinfo}{rest[:query_at]}"
    return f"{scheme}://{head}{_redact_query(rest[query_at:])}"


def _userinfo_end(rest: str) -> int | None:
    """Where the `user:password` before the host ends (at its `@`), if the URL after `://` has one: the
    last `@` before the query; else (a password with a raw `?` or `#`) the first `@`, when what comes before
    it holds a `:` and no `/`."""
    if rest.startswith("/"):
        return None  # sqlite:///path: no host, so no user
    query_at = min((found for found in (rest.find("?"), rest.find("#")) if found != -1), default=len(rest))
    at = rest.rfind("@", 0, query_at)
    if at != -1:
        return at
    first = rest.find("@")
    if first != -1 and ":" in rest[:first] and "/" not in rest[:first]:
        return first
    return None


def redact_text(text: str) -> str:
    """The text with every URL in it redacted, and every `password=...`-like pair outside URLs too."""
    redacted = _URL.sub(lambda match: redact_url(match.group()), text)
    return _SECRET_PAIR.sub(_hide_pair, redacted)


def _redact_query(tail: str) -> str:
    """A `?query#fragment` tail with the values of secret parameters hidden (in the fragment too)."""
    return re.sub(
        r"(?P<lead>[?&#;])(?P<name>[^=&#;?]*)=(?P<value>[^&#;]*)",
        lambda match: (
            f"{match['lead']}{match['name']}={HIDDEN}"
            if _SECRET_NAME.search(match["name"]) and not match["value"].startswith(HIDDEN)
            else match.group()
        ),
        tail,
    )


def _hide_pair(match: re.Match[str]) -> str:
    if match["value"].startswith(HIDDEN):
        return match.group()
    return f"{match['name']}{match['eq']}{HIDDEN}"
