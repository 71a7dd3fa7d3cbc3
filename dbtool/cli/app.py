"""The typer apps and the options of the commands, built from the option table (dbtool/settings/options.py)."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Annotated, Any, ParamSpec, TypeVar, get_type_hints

import typer

from dbtool.settings.options import OPTIONS

P = ParamSpec("P")
R = TypeVar("R")

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


def option(name: str, variant: str | None = None, env: bool = True) -> Any:
    """The typer option for table entry `name` (dbtool/settings/options.py): flags, environment variable and help;
    `variant` picks another help text of the entry, `env=False` leaves its environment variable out."""
    entry = OPTIONS[name]
    return typer.Option(*entry.flags, envvar=entry.env if env else None, help=entry.help_for(variant))


def declared(function: Callable[P, R]) -> Callable[P, R]:
    """`function` with the table's default for every parameter that names an option and has none of its own
    (commands list the options they take, keyword-only; the table says the rest)."""
    hints = get_type_hints(function, include_extras=True)
    signature = inspect.signature(function)
    parameters = [
        p.replace(annotation=hints.get(p.name, p.annotation),
                  default=OPTIONS[p.name].default if p.default is p.empty and p.name in OPTIONS else p.default)
        for p in signature.parameters.values()
    ]
    function.__signature__ = signature.replace(parameters=parameters)  # type: ignore[attr-defined]  # inspect.signature honours __signature__; typeshed's function type lacks it
    return function


# The options, as the commands' parameters take them; their defaults come from the table (see `declared`).
DatabaseUrl = Annotated[str | None, option("database_url")]
DatabaseUrls = Annotated[list[str] | None, option("database_url", "repeat")]  # fleets: several targets
PoolMax = Annotated[int, option("pool_max")]
LockTimeout = Annotated[float, option("lock_timeout")]
LockKey = Annotated[int, option("lock_key")]
Profile = Annotated[str, option("profile")]
Seed = Annotated[int, option("seed")]
Scale = Annotated[int, option("scale")]
Workers = Annotated[int, option("workers")]
Schema = Annotated[str, option("schema")]
AlembicConfig = Annotated[str | None, option("alembic_config")]
Verbose = Annotated[bool, option("verbose")]
Version = Annotated[bool, option("version")]
Force = Annotated[bool, option("force")]
ProtectionForce = Annotated[bool, option("force", "protection")]
Yes = Annotated[bool, option("yes")]
Strict = Annotated[bool, option("strict")]
Strategy = Annotated[str, option("strategy")]
LogFormat = Annotated[str, option("log_format")]
LogFormatFirst = Annotated[str | None, option("log_format", "root", env=False)]  # before the command name
AsJson = Annotated[bool, option("as_json")]
Targets = Annotated[str | None, option("targets")]
Shard = Annotated[str | None, option("shard")]
Parallel = Annotated[int, option("parallel")]
Revision = Annotated[str, option("revision")]
CloneStrategy = Annotated[str, option("clone_strategy")]
Prune = Annotated[bool, option("prune")]
UnusedFor = Annotated[float, option("unused_for")]
DataDir = Annotated[str | None, option("data_dir")]
