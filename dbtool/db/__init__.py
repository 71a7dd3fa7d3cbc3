"""Postgres primitives on a connection: pool, locks, objects, catalog, digest, bookkeeping, error classes. No Settings beyond the pool's, no Reporter."""
