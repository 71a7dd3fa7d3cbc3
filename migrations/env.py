"""Alembic environment: migrates on the connection dbtool hands over, inside dbtool's transaction."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, pool

config = context.config


def run_migrations_offline() -> None:
    context.configure(url=config.get_main_option("sqlalchemy.url"), literal_binds=True, dialect_name="postgresql")
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    # Connection sharing (Alembic cookbook): dbtool passes its own connection so the migration
    # joins the reset transaction and commits only when dbtool commits.
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(connection=connection, target_metadata=None)
        with context.begin_transaction():
            context.run_migrations()
        return
    # Plain `alembic upgrade head` with sqlalchemy.url, for people who use Alembic directly.
    engine = create_engine(config.get_main_option("sqlalchemy.url"), poolclass=pool.NullPool)
    with engine.connect() as conn:
        context.configure(connection=conn, target_metadata=None)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
