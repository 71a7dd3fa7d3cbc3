"""Database URLs in one place, read by libpq's own parser (psycopg's `conninfo_to_dict`): validate a
postgresql:// URL or key=value string, show it without its password, point it at another database.

Accepted: postgresql://, postgres://, SQLAlchemy's postgresql+driver://, libpq key=value strings and
multi-host URLs (postgresql://u@h1:5432,h2:5433/db).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from dbtool.errors import ConfigError

URL_SCHEMES = ("postgresql", "postgres")
# URL parameters libpq checks only when it connects (its URL parser accepts any value), so a bad one
# would look like an unreachable server (exit 69). The values libpq 18 accepts, case as it compares.
URL_PARAMETER_CHOICES = {
    "sslmode": ("disable", "allow", "prefer", "require", "verify-ca", "verify-full"),
    "gssencmode": ("disable", "prefer", "require"),
    "channel_binding": ("disable", "prefer", "require"),
    "target_session_attrs": ("any", "read-write", "read-only", "primary", "standby", "prefer-standby"),
    "load_balance_hosts": ("disable", "random"),
    "sslnegotiation": ("postgres", "direct"),
    "sslcertmode": ("disable", "allow", "require"),
}
URL_PARAMETER_CHOICES_ANY_CASE = {
    "ssl_min_protocol_version": ("TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"),
    "ssl_max_protocol_version": ("TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"),
}
# Integers: libpq parses these when it connects over TCP; psycopg reads connect_timeout as a number.
URL_INTEGER_PARAMETERS = ("keepalives", "keepalives_idle", "keepalives_interval", "keepalives_count", "tcp_user_timeout")
INTEGER = re.compile(r"\s*[-+]?\d+\s*")
MAX_PORT = 65535
MIN_MASKED_LENGTH = 4  # shorter passwords are masked only inside quotes: bare, they would mangle ordinary words


@dataclass(frozen=True)
class Target:
    """Where a database URL points, without its password."""

    user: str
    host: str  # libpq's host list: one host, a socket directory, or several hosts comma-separated
    port: int  # the first host's port
    dbname: str
    ports: tuple[int, ...] = ()  # every host's port, when there are several hosts

    def __str__(self) -> str:
        hosts = self.host.split(",")
        if len(hosts) > 1:
            return f"{self.user}@{','.join(f'{h}:{p}' for h, p in zip(hosts, self.ports, strict=False))}/{self.dbname}"
        return f"{self.user}@{self.host}:{self.port}/{self.dbname}"


EXPECTED_URL = "expected postgresql://user:password@host:port/dbname or key=value pairs (host=... dbname=...)"
# SQLAlchemy's spelling of a Postgres URL names the Python driver (postgresql+psycopg://); libpq takes the rest.
DRIVER_SCHEME = re.compile(r"(postgres(?:ql)?)\+[A-Za-z0-9_]+(?=://)")
# libpq names what it could not parse in double quotes; only an option's name is safe to repeat.
LIBPQ_QUOTED = re.compile(r'"([^"]*)"')
LIBPQ_OPTION_NAME = re.compile(r'(?:invalid URI query parameter:|invalid connection option) "([a-z_]+)"')
LIBPQ_SYNTAX = {"=", "'", "@", "/", ":", "?"}  # what libpq quotes as the character it expected, not from the input
PASSWORD_MASK = "***"


def is_url(url: str) -> bool:
    """True for a URL (scheme://...), False for a libpq key=value string."""
    return "://" in url.split("=", 1)[0]


def libpq_form(url: str) -> str:
    """`url` as libpq takes it: SQLAlchemy's postgresql+driver:// becomes postgresql://."""
    return DRIVER_SCHEME.sub(r"\1", url, count=1) if is_url(url) else url


def conninfo(url: str) -> dict[str, str]:
    """libpq's own reading of a postgresql:// URL or key=value string; ConfigError (never quoting the input,
    which holds the password) when libpq refuses it or reads it in a way that is surely a mistake."""
    from psycopg import ProgrammingError
    from psycopg.conninfo import conninfo_to_dict

    text = libpq_form(url)
    if is_url(text) and text.split("://", 1)[0] not in URL_SCHEMES:
        raise ConfigError(f"database URL {_foreign_url(text)} must start with postgresql:// or postgres://; {EXPECTED_URL}")
    try:
        info = {k: str(v) for k, v in conninfo_to_dict(text).items()}
    except ProgrammingError as exc:
        raise ConfigError(f"database URL is malformed ({_libpq_reason(exc)}); {EXPECTED_URL}") from None
    if is_url(text) and any("@" in info.get(key, "") for key in ("host", "dbname", "port")):
        # libpq ends the user:password part at the first '/' and '@': a password holding one of those
        # was read as a host, port or database name.
        raise ConfigError(
            "database URL is malformed: its user:password part holds a '/' or '@' that libpq reads as the start of "
            "the host or database name; percent-encode them in the password ('/' as %2F, '@' as %40)"
        )
    return info


def _foreign_url(url: str) -> str:
    """A URL of another scheme (not libpq's to read), as urllib reads it, without password or query."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url)
        host = f"{parts.hostname}:{parts.port}" if parts.port else parts.hostname or ""
    except ValueError:
        return "(not shown: it cannot be read)"
    if "@" in parts.path:  # a password holding '/' ended the host part early: the path holds the rest of it
        return "(not shown: it cannot be read)"
    user = f"{parts.username}@" if parts.username else ""
    return repr(f"{parts.scheme}://{user}{host}{parts.path}")


def _libpq_reason(exc: BaseException) -> str:
    """libpq's complaint, with whatever it quotes from the input dropped unless it is an option's name."""
    reason = " ".join(str(exc).split())
    named = LIBPQ_OPTION_NAME.search(reason)
    if named:
        return f"unknown parameter {named.group(1)!r}"
    return LIBPQ_QUOTED.sub(lambda m: m.group(0) if m.group(1) in LIBPQ_SYNTAX else '"…"', reason)


def mask_url(url: str) -> str:
    """`url` for logs, errors and `dbtool config`: as libpq reads it, password replaced by ***; an input libpq
    cannot read is not shown at all (it may be nothing but a password)."""
    try:
        info = conninfo(url)
    except ConfigError:
        return "(a database URL libpq cannot read)"
    if "password" in info:
        info["password"] = PASSWORD_MASK
    if not is_url(url):
        return _key_values(info)
    return build_url(info, mask=True, password_in_query=_password_in_query(libpq_form(url)))


def _password_in_query(url: str) -> bool:
    """True when libpq takes the URL's password from its query string (?password=...), where it is shown masked."""
    from urllib.parse import parse_qsl

    return any(key == "password" for key, _ in parse_qsl(url_parts(url)[1], keep_blank_values=True))


def url_parts(url: str) -> tuple[str, str]:
    """A URL's user:password part and its query string, split where libpq splits them: the user:password part
    ends at the first '@' before any '/' (so it may hold '?' and '#'), the query starts at the next '?'."""
    rest = url.split("://", 1)[1]
    slash = rest.find("/")
    at = rest.find("@", 0, slash if slash >= 0 else len(rest))
    return (rest[:at] if at >= 0 else ""), rest[max(at, 0):].partition("?")[2]


def build_url(info: dict[str, str], mask: bool = False, password_in_query: bool = False) -> str:
    """A postgresql:// URL for libpq's connection parameters `info`, every part percent-encoded."""
    from urllib.parse import quote, urlencode

    rest = dict(info)
    user, password, dbname = rest.pop("user", None), rest.pop("password", None), rest.pop("dbname", None)
    host, port = rest.pop("host", None), rest.pop("port", None)
    netloc = ""
    if host and "," not in host and not host.startswith("/") and "," not in (port or ""):
        netloc = f"[{host}]" if ":" in host else quote(host, safe="")
        netloc += f":{port}" if port else ""
    else:
        rest = {**({"host": host} if host else {}), **({"port": port} if port else {}), **rest}
    if password is not None and (not user or password_in_query):
        rest["password"] = password  # no user to put it after: a query parameter, as libpq also takes it
        password = None
    if user:
        shown = PASSWORD_MASK if mask else quote(password or "", safe="")
        netloc = f"{quote(user, safe='')}{':' + shown if password is not None else ''}@{netloc}"
    query = urlencode(rest, safe="/,", quote_via=quote)  # libpq reads '+' as itself, not as a space
    if mask:
        query = query.replace(f"password={quote(PASSWORD_MASK, safe='')}", f"password={PASSWORD_MASK}")
    return f"postgresql://{netloc}/{quote(dbname or '', safe='')}" + (f"?{query}" if query else "")


def _key_values(info: dict[str, str]) -> str:
    from psycopg.conninfo import make_conninfo

    return make_conninfo("", **info)


def connection_url(url: str) -> str:
    """The URL a run connects with: `url` itself when it is a plain postgresql:// URL that urllib reads as libpq
    does, else the same connection rebuilt as one (key=value strings, postgresql+driver://, a password holding
    '#' or '?'), so that every later step may take it apart with urllib."""
    info = conninfo(url)
    if is_url(url) and url.split("://", 1)[0] in URL_SCHEMES and "#" not in url and "?" not in url_parts(url)[0]:
        return url
    return build_url(info)


def parse_target(url: str) -> Target:
    """Parse a postgresql:// URL or libpq key=value string into a Target, or raise ConfigError saying what is
    wrong (never with the password)."""
    info = conninfo(url)
    shown = mask_url(url)
    _check_url_parameters(info, shown)
    host = info.get("host") or info.get("hostaddr") or ""
    dbname = info.get("dbname", "")
    if not host:
        raise ConfigError(f"database URL {shown!r} has no host; {EXPECTED_URL}")
    if not dbname:
        raise ConfigError(f"database URL {shown!r} names no database; add /dbname after the host (or dbname=...)")
    hosts = host.split(",")
    ports = [int(p) if p.strip() else 5432 for p in info.get("port", "").split(",")]
    if len(ports) == 1:
        ports *= len(hosts)
    if len(ports) != len(hosts):
        raise ConfigError(f"database URL {shown!r} names {len(hosts)} hosts and {len(ports)} ports; give one port, "
                          "or one per host")
    return Target(user=info.get("user") or "postgres", host=host, port=ports[0], dbname=dbname,
                  ports=tuple(ports) if len(hosts) > 1 else ())


def _check_url_parameters(info: dict[str, str], shown: str) -> None:
    """Raise ConfigError for a parameter value that libpq would reject only when connecting."""
    for name, value in info.items():
        choices = URL_PARAMETER_CHOICES.get(name)
        if choices is not None and value not in choices:
            raise _bad_parameter(shown, name, value, f"use one of {', '.join(choices)}")
        choices = URL_PARAMETER_CHOICES_ANY_CASE.get(name)
        if choices is not None and value and value.lower() not in {c.lower() for c in choices}:
            raise _bad_parameter(shown, name, value, f"use one of {', '.join(choices)}")
        if name in URL_INTEGER_PARAMETERS and not INTEGER.fullmatch(value):
            raise _bad_parameter(shown, name, value, "use a whole number")
        if name == "connect_timeout" and not _is_number(value):
            raise _bad_parameter(shown, name, value, "use a number of seconds")
        if name == "port":
            for port in value.split(","):
                if port and not (INTEGER.fullmatch(port) and 1 <= int(port) <= MAX_PORT):
                    raise _bad_parameter(shown, name, value, f"use a port number 1..{MAX_PORT}")


def _is_number(value: str) -> bool:
    try:
        int(float(value))  # how psycopg reads connect_timeout
    except (ValueError, OverflowError):
        return False
    return True


def _bad_parameter(shown: str, name: str, value: str, expected: str) -> ConfigError:
    return ConfigError(f"database URL {shown!r} is malformed: invalid value {value!r} for parameter {name}; {expected}")


def shown(url: str) -> str:
    """`url` as user@host:port/dbname, never with its password (ConfigError for one libpq cannot read)."""
    return str(parse_target(url))


def password(url: str) -> str:
    """The password libpq reads from `url` (decoded), or "" when there is none or libpq cannot read it."""
    try:
        return conninfo(url).get("password", "")
    except ConfigError:
        return ""


def with_dbname(url: str, dbname: str) -> str:
    """`url` pointing at database `dbname` instead (a dbname= parameter too), in the form it was written."""
    from psycopg.conninfo import make_conninfo

    conninfo(url)  # libpq must read it: ConfigError, without the password, when it cannot
    if not is_url(url):
        return make_conninfo(url, dbname=dbname)
    from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

    parts = urlsplit(connection_url(url))  # a URL urllib reads as libpq does
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "dbname"]
    return urlunsplit(parts._replace(path=f"/{dbname}", query=urlencode(query, safe="/")))


def without_password(url: str) -> str:
    """`url` with its password removed (not masked: the result still connects, through ~/.pgpass or trust)."""
    from psycopg.conninfo import make_conninfo

    info = conninfo(url)
    if not is_url(url):
        return make_conninfo("", **{k: v for k, v in info.items() if k != "password"})
    from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

    parts = urlsplit(connection_url(url))
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, host = netloc.rsplit("@", 1)
        netloc = f"{userinfo.split(':', 1)[0]}@{host}"
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "password"]
    return urlunsplit(parts._replace(netloc=netloc, query=urlencode(query, safe="/")))


def mask_secrets(text: str, secrets: set[str]) -> str:
    """`text` with each of `secrets` shown as ***; a token libpq quoted around one ("...") goes whole."""
    for secret in sorted(secrets - {""}, key=len, reverse=True):
        text = re.sub(f'"[^"]*{re.escape(secret)}[^"]*"', '"***"', text)
        if len(secret) >= MIN_MASKED_LENGTH:
            text = text.replace(secret, "***")
    return text
