"""Settings for one dbtool run, validated before anything touches the network."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, fields, replace
from functools import cached_property
from pathlib import Path

from dbtool.errors import ConfigError
from dbtool.project import Project, find_project
from dbtool.seed.profiles import GENERIC_ROWS, MAX_SCALE, ProjectProfile

ADVISORY_LOCK_KEY = 0x47524F4F  # 1196576591, the key the original scripts used
DEFAULT_POOL_MAX = 6
MIN_POOL_MAX = 2  # one connection holds the lock, at least one more does the work
MAX_POOL_MAX = 100
DEFAULT_LOCK_TIMEOUT = 600.0
MAX_LOCK_TIMEOUT = 86_400.0
DEFAULT_SEED = 42
MAX_SEED = 0xFFFFFFFF  # Mulberry32 has a 32-bit state
BIGINT_MIN, BIGINT_MAX = -(2**63), 2**63 - 1
MAX_WORKERS = 32
STRATEGIES = ("auto", "transaction", "swap")  # how a reset replaces the schema (see dbtool/swap.py)
URL_SCHEMES = ("postgresql", "postgres")
# Unquoted Postgres identifiers only: a schema name is spliced into DDL.
SCHEMA_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")
# Postgres reserves pg_* (pg_catalog, pg_toast, pg_temp_N, pg_toast_temp_N) and information_schema.
SYSTEM_SCHEMA = re.compile(r"pg_.*|information_schema")
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


@dataclass(frozen=True)
class Settings:
    """Everything one run needs; construct through `Settings.from_options` to validate."""

    database_url: str | None = None
    pool_max: int = DEFAULT_POOL_MAX
    lock_timeout: float = DEFAULT_LOCK_TIMEOUT
    lock_key: int = ADVISORY_LOCK_KEY
    profile: str = "dev"
    seed: int = DEFAULT_SEED
    scale: int = 1
    schema: str = "public"
    force: bool = False
    workers: int = 0  # generator processes; 0 = automatic (1 for small profiles)
    connect_timeout: float = 10.0
    alembic_config: str | None = None  # the project's alembic.ini or pyproject.toml; None: look in the cwd
    strict: bool = False  # a table that cannot be filled automatically is an error (exit 2), not a note
    strategy: str = "auto"  # reset: one transaction, a shadow schema swapped in, or chosen per run
    profiles: dict[str, ProjectProfile] = field(default_factory=dict, compare=False)  # [tool.dbtool.profiles.*]
    sources: dict[str, str] = field(default_factory=dict, compare=False)

    @classmethod
    def from_options(cls, **options: object) -> Settings:
        """Validate raw option values (flags, env or file) and build Settings."""
        known = {f.name for f in fields(cls)}
        unknown = set(options) - known
        if unknown:
            raise ConfigError(f"unknown setting(s) {', '.join(sorted(unknown))}; known: {', '.join(sorted(known))}")
        values = {k: v for k, v in options.items() if v is not None}
        settings = cls(**values)  # type: ignore[arg-type]
        settings.validate()
        if settings.database_url is not None:
            settings = replace(settings, database_url=connection_url(settings.database_url))
        return settings

    @property
    def target(self) -> Target:
        """The database this run points at, printable (no password)."""
        if self.database_url is None:
            raise ConfigError("no database URL; pass --database-url or set DATABASE_URL")
        return parse_target(self.database_url)

    @cached_property
    def project(self) -> Project:
        """The Alembic project this run migrates (found once, relative to the working directory)."""
        return find_project(self.alembic_config, Path.cwd())

    @cached_property
    def seed_profiles(self) -> dict[str, ProjectProfile]:
        """The profiles this run may use: those the project ships beside its migrations (dbtool.toml
        there), replaced name by name by those of the settings file."""
        from dbtool.settings_file import DBTOOL_TOML, read_profile_file

        location = self.project.script_location()
        shipped = location / DBTOOL_TOML if location else None
        found = read_profile_file(shipped) if shipped and shipped.is_file() else {}
        return {**found, **self.profiles}

    def seed_profile(self) -> ProjectProfile:
        """The profile this run seeds with (the generic one of its name when no file declares it)."""
        return self.seed_profiles.get(self.profile) or ProjectProfile()

    def validate(self) -> None:
        """Raise ConfigError for the first invalid setting, with what to do about it."""
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, str):
                _require_utf8(f.name, value)
        if self.pool_max < MIN_POOL_MAX:
            raise ConfigError(
                f"pool max_size is {self.pool_max}; need at least {MIN_POOL_MAX} (one connection holds the "
                f"advisory lock, at least one more does the work; with {self.pool_max} the run would deadlock "
                f"waiting for a second connection); pass --pool-max {MIN_POOL_MAX} or more"
            )
        if self.pool_max > MAX_POOL_MAX:
            raise ConfigError(f"--pool-max {self.pool_max} is too large; use {MIN_POOL_MAX}..{MAX_POOL_MAX}")
        if not 0 <= self.lock_timeout <= MAX_LOCK_TIMEOUT:
            raise ConfigError(
                f"--lock-timeout {self.lock_timeout:g} is out of range; use 0 (try once) to {MAX_LOCK_TIMEOUT:g} seconds"
            )
        if not BIGINT_MIN <= self.lock_key <= BIGINT_MAX:
            raise ConfigError(f"--lock-key {self.lock_key} does not fit a Postgres bigint; use a 64-bit signed integer")
        if not 0 <= self.seed <= MAX_SEED:
            raise ConfigError(f"--seed {self.seed} is out of range; use 0..{MAX_SEED} (Mulberry32 has a 32-bit state)")
        if self.profile not in GENERIC_ROWS and self.profile not in self.seed_profiles:
            known = [*GENERIC_ROWS, *(p for p in self.seed_profiles if p not in GENERIC_ROWS)]
            raise ConfigError(f"unknown profile {self.profile!r}; choose one of: {', '.join(known)}")
        if not 1 <= self.scale <= MAX_SCALE:
            raise ConfigError(f"--scale {self.scale} is out of range; use 1..{MAX_SCALE}")
        if not 0 <= self.workers <= MAX_WORKERS:
            raise ConfigError(f"--workers {self.workers} is out of range; use 0 (automatic) to {MAX_WORKERS}")
        if self.strategy not in STRATEGIES:
            raise ConfigError(f"unknown strategy {self.strategy!r}; choose one of: {', '.join(STRATEGIES)}")
        if not SCHEMA_NAME.fullmatch(self.schema):
            raise ConfigError(
                f"schema name {self.schema!r} is not a plain lowercase identifier; use letters, digits and _ only"
            )
        if SYSTEM_SCHEMA.fullmatch(self.schema):
            raise ConfigError(
                f"schema {self.schema} is a Postgres system schema; dbtool never manages one; "
                "pass --schema with your application's schema (default public)"
            )
        self.project  # an --alembic-config that names nothing usable is bad input: say so before connecting
        if self.database_url is not None:
            parse_target(self.database_url)


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
            return f"{self.user}@{','.join(f'{h}:{p}' for h, p in zip(hosts, self.ports))}/{self.dbname}"
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


def _require_utf8(name: str, value: str) -> None:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ConfigError(f"setting {name} is not valid UTF-8; fix the flag or environment variable") from None
