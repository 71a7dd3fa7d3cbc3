"""Settings: the option table, the settings file, URLs, the Alembic project, fleet targets. No I/O to Postgres."""
