"""Alembic environment of the example app: an ordinary env.py, as `alembic init` would write it.

dbtool runs it unmodified, like any team's: it lends its own connection through the engine built
from `sqlalchemy.url`, so the migrations run inside dbtool's transaction. Plain `alembic upgrade
head` in this repository uses `sqlalchemy.url` from alembic.ini, else $DATABASE_URL.
"""

from __future__ import annotations

import os

from alembic import context
from sqlalchemy import engine_from_config, pool

config = context.config
target_metadata = None


def _url() -> str:
    url = config.get_main_option("sqlalchemy.url") or os.environ.get("DATABASE_URL")
    if not url:
        raise SystemExit("set DATABASE_URL (for the embedded server: export DATABASE_URL=$(dbtool local url))")
    # A plain postgresql:// URL means psycopg 3 here: it is the driver dbtool installs.
    return url.replace("postgresql://", "postgresql+psycopg://", 1) if url.startswith("postgresql://") else url


def run_migrations_offline() -> None:
    context.configure(url=_url(), target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connectable = engine_from_config(
        config.get_section(config.config_ini_section, {}), prefix="sqlalchemy.", poolclass=pool.NullPool, url=_url()
    )
    with connectable.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
