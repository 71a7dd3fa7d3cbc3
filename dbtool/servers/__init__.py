"""Postgres servers dbtool starts or finds: the embedded server, the test suite's server lookup."""
