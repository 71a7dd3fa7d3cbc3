"""Scenario 6: the server stops (fast shutdown) mid-run: exit 69 or 1 in one line; after a restart, old or new state."""

from __future__ import annotations

import random
import time
import uuid
from contextlib import ExitStack

import psycopg
import pytest

from dbtool.settings.config import ADVISORY_LOCK_KEY
from tests.fire import figures
from tests.fire.runs import Run, end_processes, run
from tests.fire.servers import PrivateServer
from tests.fire.size import FireSize
from tests.fire.state import Fingerprint, connect, fingerprint, wait_for_backend, which_state

pytestmark = pytest.mark.fire

LOAD = ("--profile", "load", "--scale", "20", "--seed", "7")
# Where the run is when the server goes away; the first `losses` of them are used.
POINTS = ("copy", "advisory-lock", "table-lock", "digest")


def test_server_stopped_mid_run(private_server: PrivateServer, size: FireSize) -> None:
    url = private_server.database(f"fire_loss_{uuid.uuid4().hex[:8]}")
    assert run("reset", url, *LOAD).code == 0
    new_data = fingerprint(url)
    for i, point in enumerate(POINTS[: size.losses]):
        rng = random.Random(f"loss-{i}")
        assert run("reset", url, "--profile", "ci", "--seed", str(200 + i)).code == 0
        old = fingerprint(url)
        new = Fingerprint(new_data.tables, new_data.revision, old.meta_rows + 1, new_data.last_digest)
        with ExitStack() as stack:
            # close(), not `with`: their sessions die with the server, and a commit on exit would fail.
            watch = connect(url)
            stack.callback(watch.close)
            if point == "advisory-lock":
                holder = psycopg.connect(url, autocommit=True)
                stack.callback(holder.close)
                holder.execute("SELECT pg_advisory_lock(%s)", (ADVISORY_LOCK_KEY,))
            if point == "table-lock":
                holder = psycopg.connect(url)
                stack.callback(holder.close)
                holder.execute("SELECT count(*) FROM pets")
            victim = Run("reset", url, (*LOAD, "--lock-timeout", "120"))
            if point == "copy":
                wait_for_backend(watch, victim.pid, "the COPY", lambda s, w, q: q.startswith("COPY"))
                time.sleep(rng.uniform(0, 0.3))
            elif point == "advisory-lock":
                wait_for_backend(watch, victim.pid, "polling the advisory lock", lambda s, w, q: "pg_try_advisory_lock" in q)
            elif point == "table-lock":
                wait_for_backend(watch, victim.pid, "a table-lock wait", lambda s, w, q: w == "Lock")
            else:
                victim.wait_for_step("seed")
            stopped = time.monotonic()
            private_server.stop_fast()
        outcome = victim.finish(timeout=60)
        end_processes(victim.descendants())
        took = victim.ended - stopped  # type: ignore[operator]
        private_server.start()

        assert outcome.code in (69, 1), f"{point}: exit {outcome.code}:\n{outcome.output}"
        assert len(outcome.error_lines()) == 1 and outcome.error_lines()[0].startswith("dbtool: error:"), \
            f"{point}: want one error line:\n{outcome.stderr}"
        assert "Traceback" not in outcome.output, outcome.output
        assert any(word in outcome.stderr for word in ("lost the database connection", "cannot connect", "terminat")), \
            outcome.stderr
        which_state(fingerprint(url), old, new)
        figures.count("6 database loss: server stops survived", 1)
        figures.maximum("6 database loss: max seconds from shutdown to exit", took)
    assert run("reset", url, "--profile", "ci").code == 0
    assert run("verify", url).code == 0
