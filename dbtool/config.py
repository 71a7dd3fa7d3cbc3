"""Settings for one dbtool run, validated before anything touches the network."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, fields
from functools import cached_property
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

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
    host: str
    port: int
    dbname: str

    def __str__(self) -> str:
        return f"{self.user}@{self.host}:{self.port}/{self.dbname}"


def parse_target(url: str) -> Target:
    """Parse a postgresql:// URL into a Target, or raise ConfigError saying what is wrong."""
    shown = mask_url(url)
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise ConfigError(f"database URL {shown!r} is malformed ({exc}); expected postgresql://user:password@host:port/dbname") from None
    if parts.scheme not in URL_SCHEMES:
        raise ConfigError(
            f"database URL {shown!r} must start with postgresql://; expected postgresql://user:password@host:port/dbname"
        )
    _check_url_parameters(parse_qs(parts.query, keep_blank_values=True), shown)
    query = parse_qs(parts.query)
    host = parts.hostname or (query.get("host") or [""])[0]
    dbname = unquote(parts.path.lstrip("/")) or (query.get("dbname") or [""])[0]
    if not host:
        raise ConfigError(f"database URL {shown!r} has no host; expected postgresql://user:password@host:port/dbname")
    if not dbname:
        raise ConfigError(f"database URL {shown!r} names no database; add /dbname after the host")
    user = unquote(parts.username) if parts.username else (query.get("user") or ["postgres"])[0]
    return Target(user=user, host=host, port=port or 5432, dbname=dbname)


def _check_url_parameters(query: dict[str, list[str]], shown: str) -> None:
    """Raise ConfigError for a parameter value that libpq would reject only when connecting."""
    for name, values in query.items():
        for value in values:
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
    return ConfigError(f"database URL {shown!r}: invalid value {value!r} for parameter {name}; {expected}")


def mask_url(url: str) -> str:
    """Return `url` with any password replaced by ***, for logs and errors."""
    masked = re.sub(r"(://[^:/@?#]*:)[^@/?#]*@", r"\1***@", url)
    return re.sub(r"([?&]password=)[^&#]*", r"\1***", masked)


def _require_utf8(name: str, value: str) -> None:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ConfigError(f"setting {name} is not valid UTF-8; fix the flag or environment variable") from None
