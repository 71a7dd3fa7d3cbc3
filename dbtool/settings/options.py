"""Every option dbtool takes, declared once: flag, environment variable, settings-file key, type,
default, choices and help.

The CLI (dbtool/cli/app.py), the settings file (dbtool/settings/file.py: its keys, their types and
choices, what `dbtool init` writes), `dbtool config`, the Settings defaults (dbtool/settings/config.py) and the
pytest plugin's options all read this table; tests/unit/test_options.py checks that they do and that
the settings reference (docs/reference/settings.md) lists the same file keys. Imports neither typer nor psycopg.
"""

from __future__ import annotations

import builtins
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

ADVISORY_LOCK_KEY = 0x47524F4F  # 1196576591, the key the original scripts used
STRATEGIES = ("auto", "transaction", "swap")  # how a reset replaces the schema (see dbtool/run/swap.py)
LOG_FORMATS = ("text", "json")
CLONE_STRATEGIES = ("wal_log", "file_copy")  # how `dbtool clone` copies a template (see dbtool/testdb/template.py)
DATABASE_URL_VARIABLE = "DATABASE_URL"


@dataclass(frozen=True)
class Option:
    """One option: how it is spelled on the command line, in the environment and in a settings file."""

    name: str  # the command's parameter and the Settings field
    flags: tuple[str, ...]
    type: type  # of one value; a None default makes the option optional
    default: Any
    help: str
    env: str | None = None
    file_key: str | None = None  # None: not accepted in a settings file
    choices: tuple[str, ...] = ()  # checked by Settings and the settings file, with dbtool's own messages
    init: bool = False  # `dbtool init` writes it with its default
    variants: Mapping[str, str] = field(default_factory=dict)  # other help texts, for commands that use it otherwise
    plugin: tuple[str, ...] = ()  # () or the pytest plugin's help of --dbtool-<file key> and of ini value dbtool_<name>

    @property
    def file_types(self) -> tuple[builtins.type, ...]:  # builtins.: in this class `type` is the field
        """The TOML value types a settings file may give (an integer where a number is wanted)."""
        return (int, float) if self.type is float else (self.type,)

    def help_for(self, variant: str | None = None) -> str:
        """The help text, or the one of `variant`."""
        return self.variants[variant] if variant else self.help


_URL_HELP = "Target database, postgresql://user:password@host:port/dbname{}. Default: the embedded local server."

OPTIONS: dict[str, Option] = {o.name: o for o in (
    # Common options: settings of a run (file keys in this order in `dbtool config` and the settings reference).
    Option("database_url", ("--database-url",), str, None, _URL_HELP.format(""), env=DATABASE_URL_VARIABLE,
           file_key="database-url", variants={"repeat": _URL_HELP.format("; repeat it for several")}),
    Option("pool_max", ("--pool-max",), int, 6, "Pool max size, >= 2 (one connection holds the lock).",
           env="DBTOOL_POOL_MAX", file_key="pool-max", init=True),
    Option("lock_timeout", ("--lock-timeout",), float, 600.0, "Seconds to wait for the lock; 0 = try once.",
           env="DBTOOL_LOCK_TIMEOUT", file_key="lock-timeout", init=True),
    Option("lock_key", ("--lock-key",), int, ADVISORY_LOCK_KEY, "Advisory lock key (bigint).",
           env="DBTOOL_LOCK_KEY", file_key="lock-key"),
    Option("profile", ("--profile",), str, "dev", "Seed profile (see `dbtool profiles`).",
           env="DBTOOL_PROFILE", file_key="profile", init=True,
           plugin=("seed profile of dbtool_db (default: settings file, else dev)", "seed profile of dbtool_db")),
    Option("seed", ("--seed",), int, 42, "PRNG seed, 0..4294967295.", env="DBTOOL_SEED", file_key="seed", init=True,
           plugin=("PRNG seed of dbtool_db (default: settings file, else 42)", "PRNG seed of dbtool_db")),
    Option("scale", ("--scale",), int, 1, "Multiply the profile's row counts.", env="DBTOOL_SCALE", file_key="scale"),
    Option("workers", ("--workers",), int, 0, "Generator processes; 0 = automatic. Never changes the data.",
           env="DBTOOL_WORKERS", file_key="workers"),
    Option("schema", ("--schema",), str, "public", "Managed schema.", env="DBTOOL_SCHEMA", file_key="schema", init=True),
    Option("log_format", ("--log-format",), str, "text", "text or json (one JSON object per step).",
           env="DBTOOL_LOG_FORMAT", file_key="log-format", choices=LOG_FORMATS,
           variants={"root": "text or json; also accepted after the command."}),
    Option("alembic_config", ("--alembic-config",), str, None,
           "The project's alembic.ini or pyproject.toml. Default: ./alembic.ini, else [tool.alembic] "
           "in ./pyproject.toml, else the built-in example.",
           env="DBTOOL_ALEMBIC_CONFIG", file_key="alembic-config",
           plugin=("the project's alembic.ini or pyproject.toml (default: found in the rootdir, else the built-in example)",
                   "the project's alembic.ini or pyproject.toml, relative to the rootdir")),
    Option("strategy", ("--strategy",), str, "auto",
           "reset only: transaction (one transaction), swap (build a shadow schema on "
           "the other pool connections, then rename it in), or auto.",
           env="DBTOOL_STRATEGY", file_key="strategy", choices=STRATEGIES),
    Option("strict", ("--strict",), bool, False,
           "Exit 2 when a table cannot be filled automatically, instead of leaving it empty.",
           env="DBTOOL_STRICT", file_key="strict"),
    # Command-line only: skipping a safety check must be visible on the command line (not in a file).
    Option("force", ("--force",), bool, False, "Reset a non-empty database dbtool did not create (never a protected one).",
           variants={"protection": "Required by unprotect: undoing protection is deliberate."}),
    Option("yes", ("--yes", "-y"), bool, False, "Do not ask for confirmation.", env="DBTOOL_YES"),
    # How a command reports.
    Option("as_json", ("--json",), bool, False, "Print one JSON document."),
    Option("verbose", ("--verbose", "-v"), bool, False, "Debug logs on stderr (also before the command)."),
    Option("version", ("--version",), bool, False, "Show the version."),
    # Fleets: several targets in one command (see dbtool/run/fleet.py).
    Option("targets", ("--targets",), str, None,
           "File listing the targets, one 'name = URL' or URL per line; ${VAR} is taken from the environment.",
           env="DBTOOL_TARGETS"),
    Option("shard", ("--shard",), str, None,
           "Only shard INDEX/COUNT of the targets (0-based: a Kubernetes Indexed Job's completion index).",
           env="DBTOOL_SHARD"),
    Option("parallel", ("--parallel",), int, 0, "Targets in flight at once; 0 = automatic (4 per core, at most 16).",
           env="DBTOOL_PARALLEL"),
    # Options of one command.
    Option("data_dir", ("--data-dir",), str, None, "Data directory (default .dbtool/pgdata).", env="DBTOOL_LOCAL_DIR"),
    Option("revision", ("--revision",), str, "head", "Target revision: head, base, or an id."),
    Option("clone_strategy", ("--strategy",), str, "wal_log",
           "wal_log, or file_copy (file cloning on Postgres 18: fast on copy-on-write file systems).",
           choices=CLONE_STRATEGIES),
    Option("prune", ("--prune",), bool, False, "Drop this project's templates of older migrations "
           "unused for --unused-for minutes, and clones left by killed runs."),
    Option("unused_for", ("--unused-for",), float, 10.0, "Minutes a stale template must have been unused to be pruned."),
)}

FILE_OPTIONS: tuple[Option, ...] = tuple(o for o in OPTIONS.values() if o.file_key)
# What the pytest plugin takes as --dbtool-<file key> and as the ini value dbtool_<name> (see dbtool/testdb/plugin.py).
PLUGIN_OPTIONS: tuple[Option, ...] = tuple(o for o in OPTIONS.values() if o.plugin)


def default(name: str) -> Any:
    """The default of option `name`."""
    return OPTIONS[name].default
