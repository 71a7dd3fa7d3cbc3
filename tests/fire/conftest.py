"""Fixtures of the fire suite: its size and a private server that may be stopped (`seeded_url`, a database
reset to the ci profile, is tests/conftest.py's clone of a template)."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from typing import Any

import pytest

from tests.fire import figures
from tests.fire.servers import PrivateServer
from tests.fire.size import FireSize, fire_size


@pytest.fixture(scope="session")
def size() -> FireSize:
    """How hard to push: DBTOOL_FIRE_SCALE=default or full (plus DBTOOL_FIRE_PROCESSES/ROUNDS/KILLS)."""
    return fire_size()


@pytest.fixture(scope="session")
def private_server() -> Iterator[PrivateServer]:
    """A second embedded server, for stopping mid-run and for real password authentication."""
    directory = tempfile.mkdtemp(prefix="dbtool-fire-")
    server = PrivateServer(directory)
    try:
        yield server
    finally:
        server.close()


def pytest_terminal_summary(terminalreporter: Any) -> None:
    lines = figures.lines()
    if lines:
        terminalreporter.section("dbtool fire figures")
        for line in lines:
            terminalreporter.write_line(line)

