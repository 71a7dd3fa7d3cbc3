"""Alembic on dbtool's connection, inside the one transaction: the dialect, the commit guard, statement rewriting."""
