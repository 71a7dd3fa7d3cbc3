"""The test suite's server lookup lives in dbtool.servers.lookup, which the pytest plugin shares."""

from __future__ import annotations

from dbtool.servers.lookup import NoServer, container_server, embedded_server, explicit_server, find_server

__all__ = ["NoServer", "container_server", "embedded_server", "explicit_server", "find_server"]
