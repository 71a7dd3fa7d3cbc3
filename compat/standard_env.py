"""A plain Alembic env.py, the shape `alembic init` gives: it knows nothing about dbtool.

compat/published.py copies this file as `env.py` into every temporary project it builds around a
published package's versions/ directory. It deliberately has no connection-sharing branch: dbtool's
`--alembic-config` must run a team's env.py as it is, and most teams' files look like this one.
"""

from __future__ import annotations

import json
from logging.config import fileConfig

from alembic import context
from sqlalchemy import MetaData, engine_from_config, pool

config = context.config

if config.config_file_name is not None:
    fileConfig(config.config_file_name)


def _target_metadata() -> MetaData | None:
    """None, as in a fresh `alembic init`; a bare MetaData when the ini names a naming convention.

    Alembic names constraints that a revision leaves unnamed after target_metadata's naming
    convention, so a history written against one only replays with the same convention. A team's
    env.py gets it from its models; this one, importing no models, takes it from the ini.
    """
    convention = config.get_main_option("naming_convention")
    return MetaData(naming_convention=json.loads(convention)) if convention else None


target_metadata = _target_metadata()


def run_migrations_offline() -> None:
    """Emit SQL for the configured URL without connecting."""
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Connect with the ini's sqlalchemy.* settings and migrate."""
    connectable = engine_from_config(
        config.get_section(config.config_ini_section, {}),
        prefix="sqlalchemy.",
        poolclass=pool.NullPool,
    )
    with connectable.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
