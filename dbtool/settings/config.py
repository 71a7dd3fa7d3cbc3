"""Settings for one dbtool run, validated before anything touches the network."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, fields, replace
from functools import cached_property
from pathlib import Path
from typing import Any

from dbtool.errors import ConfigError
from dbtool.seed.profiles import GENERIC_ROWS, MAX_SCALE, ProjectProfile
from dbtool.settings.options import ADVISORY_LOCK_KEY, STRATEGIES, default
from dbtool.settings.project import Project, find_project
from dbtool.settings.urls import Target, connection_url, parse_target

DEFAULT_POOL_MAX: int = default("pool_max")
MIN_POOL_MAX = 2  # one connection holds the lock, at least one more does the work
MAX_POOL_MAX = 100
DEFAULT_LOCK_TIMEOUT: float = default("lock_timeout")
MAX_LOCK_TIMEOUT = 86_400.0
DEFAULT_SEED: int = default("seed")
MAX_SEED = 0xFFFFFFFF  # Mulberry32 has a 32-bit state
BIGINT_MIN, BIGINT_MAX = -(2**63), 2**63 - 1
MAX_WORKERS = 32
# Unquoted Postgres identifiers only: a schema name is spliced into DDL.
SCHEMA_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")
# Postgres reserves pg_* (pg_catalog, pg_toast, pg_temp_N, pg_toast_temp_N) and information_schema.
SYSTEM_SCHEMA = re.compile(r"pg_.*|information_schema")


@dataclass(frozen=True)
class Settings:
    """Everything one run needs; construct through `Settings.from_options` to validate."""

    database_url: str | None = None
    pool_max: int = DEFAULT_POOL_MAX
    lock_timeout: float = DEFAULT_LOCK_TIMEOUT
    lock_key: int = ADVISORY_LOCK_KEY
    profile: str = default("profile")
    seed: int = DEFAULT_SEED
    scale: int = default("scale")
    schema: str = default("schema")
    force: bool = False
    workers: int = default("workers")  # generator processes; 0 = automatic (1 for small profiles)
    connect_timeout: float = 10.0
    alembic_config: str | None = default("alembic_config")  # alembic.ini or pyproject.toml; None: look in the cwd
    strict: bool = default("strict")  # a table that cannot be filled automatically is an error (exit 2), not a note
    strategy: str = default("strategy")  # reset: one transaction, a shadow schema swapped in, or chosen per run
    profiles: dict[str, ProjectProfile] = field(default_factory=dict, compare=False)  # [tool.dbtool.profiles.*]
    sources: dict[str, str] = field(default_factory=dict, compare=False)
    # The Alembic project this run migrates: found once, relative to the working directory, when the
    # Settings are built (None asks for that), and carried along by dataclasses.replace.
    project: Project = field(default=None, compare=False, repr=False)  # type: ignore[assignment]  # None only until __post_init__ finds the project

    def __post_init__(self) -> None:
        if self.project is None:
            if self.alembic_config is not None:
                _require_utf8("alembic_config", self.alembic_config)  # before it is named in an error
            object.__setattr__(self, "project", find_project(self.alembic_config, Path.cwd()))

    @classmethod
    def from_options(cls, **options: object) -> Settings:
        """Validate raw option values (flags, env or file) and build Settings."""
        known = {f.name for f in fields(cls)}
        unknown = set(options) - known
        if unknown:
            raise ConfigError(f"unknown setting(s) {', '.join(sorted(unknown))}; known: {', '.join(sorted(known))}")
        values: dict[str, Any] = {k: v for k, v in options.items() if v is not None}  # raw: validate() checks them
        settings = cls(**values)
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
    def seed_profiles(self) -> dict[str, ProjectProfile]:
        """The profiles this run may use: those the project ships beside its migrations (dbtool.toml
        there), replaced name by name by those of the settings file."""
        from dbtool.settings.file import DBTOOL_TOML, read_profile_file

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
        if self.database_url is not None:
            parse_target(self.database_url)


def _require_utf8(name: str, value: str) -> None:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ConfigError(f"setting {name} is not valid UTF-8; fix the flag or environment variable") from None
