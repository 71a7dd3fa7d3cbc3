"""Fleet runs on real databases: isolation, one report, the exit-code rule, targets files, shards and repair."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from psycopg import sql

from dbtool.settings.config import ADVISORY_LOCK_KEY
from dbtool.settings.urls import parse_target
from tests.helpers import advisory_locks, counts, dbtool, last_digest

UNREACHABLE = "postgresql://postgres@127.0.0.1:1/nowhere"  # nothing listens on port 1: refused at once


def _scalar(url: str, query: str) -> object:
    with psycopg.connect(url) as conn:
        return conn.execute(query).fetchone()[0]  # type: ignore[index]


def _tables(url: str) -> int:
    return int(_scalar(url, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"))  # type: ignore[arg-type]


def _resets(url: str) -> int:
    return int(_scalar(url, "SELECT count(*) FROM dbtool_meta WHERE event = 'reset'"))  # type: ignore[arg-type]


def _write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "targets.txt"
    path.write_text(text)
    return str(path)


def test_a_targets_file_resets_every_target_with_data_generated_once(new_database: Callable[[], str], tmp_path: Path) -> None:
    urls = [new_database() for _ in range(3)]
    single = new_database()
    targets = _write(tmp_path, "# the UAT fleet\n\n" + "".join(f"tenant-{i} = {u}   # tenant {i}\n" for i, u in enumerate(urls)))
    result = dbtool("reset", "--targets", targets, "--profile", "ci", "--json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert (document["targets"], document["succeeded"], document["failed"], document["exit_code"]) == (3, 3, 0, 0)
    assert [r["target"] for r in document["results"]] == ["tenant-0", "tenant-1", "tenant-2"]
    assert all(r["ok"] and r["result"]["command"] == "reset" for r in document["results"])
    # Each of the 8 tables' one chunk was generated once and streamed to all three targets...
    assert document["seed_chunks"] == {"generated": 8, "reused": 16}
    # ...and it is exactly what a target generating its own data gets (the slow path).
    assert dbtool("reset", "--database-url", single, "--profile", "ci").exit_code == 0
    with psycopg.connect(single) as conn:
        expected = last_digest(conn)
    for url in urls:
        with psycopg.connect(url) as conn:
            assert last_digest(conn) == expected
            assert counts(conn)["invoices"] == 50


def test_one_failing_target_changes_nothing_for_the_others(new_database: Callable[[], str], tmp_path: Path) -> None:
    good = [new_database() for _ in range(2)]
    locked, protected, read_only = new_database(), new_database(), new_database()
    for url in (protected, read_only):
        assert dbtool("reset", "--database-url", url, "--profile", "ci").exit_code == 0
    assert dbtool("protect", "--database-url", protected).exit_code == 0
    with psycopg.connect(read_only, autocommit=True) as conn:
        conn.execute(sql.SQL("ALTER DATABASE {} SET default_transaction_read_only = on").format(
            sql.Identifier(parse_target(read_only).dbname)))
    before = {url: _resets(url) for url in (protected, read_only)}
    targets = _write(tmp_path, f"good-a = {good[0]}\nlocked = {locked}\nprotected = {protected}\n"
                               f"unreachable = {UNREACHABLE}\nread-only = {read_only}\ngood-b = {good[1]}\n")
    with psycopg.connect(locked, autocommit=True) as holder:
        holder.execute("SELECT pg_advisory_lock(%s)", (ADVISORY_LOCK_KEY,))
        result = dbtool("reset", "--targets", targets, "--profile", "ci", "--lock-timeout", "0", "--parallel", "6", "--json")
    document = json.loads(result.stdout)
    codes = {r["target"]: r["exit_code"] for r in document["results"]}
    assert codes == {"good-a": 0, "locked": 75, "protected": 3, "unreachable": 69, "read-only": 1, "good-b": 0}
    assert result.exit_code == document["exit_code"] == 1  # failures that do not share one code
    steps = {r["target"]: r.get("step") for r in document["results"] if not r["ok"]}
    assert steps == {"locked": "lock", "protected": "drop", "unreachable": "connect", "read-only": "drop"}
    for url in good:
        with psycopg.connect(url) as conn:
            assert counts(conn)["invoices"] == 50
    assert _tables(locked) == 0  # never touched
    assert {url: _resets(url) for url in (protected, read_only)} == before
    for url in (locked, protected, read_only, *good):
        with psycopg.connect(url) as conn:
            assert advisory_locks(conn) == 0


def test_failures_sharing_one_code_exit_with_that_code(new_database: Callable[[], str], tmp_path: Path) -> None:
    url = new_database()
    other_unreachable = "postgresql://postgres@127.0.0.1:2/elsewhere"
    result = dbtool("reset", "--database-url", url, "--database-url", UNREACHABLE, "--database-url", other_unreachable,
                    "--profile", "ci")
    assert result.exit_code == 69, result.output
    lines = result.stdout.splitlines()
    assert sum(line.startswith("✓ ") for line in lines) == 1 and sum(line.startswith("✗ ") for line in lines) == 2
    assert lines[-1].startswith("reset: 1 of 3 targets done, 2 failed")
    assert result.stderr.strip().startswith("dbtool: error: 2 of 3 targets failed") and result.stderr.strip().endswith("exit 69")
    with psycopg.connect(url) as conn:
        assert counts(conn)["invoices"] == 50


def test_json_log_lines_tag_every_event_with_its_target(new_database: Callable[[], str], tmp_path: Path) -> None:
    urls = [new_database() for _ in range(2)]
    targets = _write(tmp_path, f"a = {urls[0]}\nb = {urls[1]}\n")
    result = dbtool("seed", "--targets", targets, "--profile", "ci", "--log-format", "json")
    assert result.exit_code == 1, result.output  # seed refuses a schema that is not at head: both fail alike
    events = [json.loads(line) for line in result.stdout.splitlines()]
    assert all(e.get("target") in ("a", "b") for e in events[:-1]), events
    assert {e["target"] for e in events if e["event"] == "error"} == {"a", "b"}
    assert events[-1]["event"] == "summary" and events[-1]["exit_code"] == 1 and events[-1]["failed"] == 2
    result = dbtool("reset", "--targets", targets, "--profile", "ci", "--log-format", "json")
    events = [json.loads(line) for line in result.stdout.splitlines()]
    connects = [e for e in events if e.get("step") == "connect"]
    assert sorted(e["target"] for e in connects) == ["a", "b"]
    assert {e["url"] for e in connects} == {str(parse_target(u)) for u in urls}


@pytest.mark.parametrize(
    ("line", "fragment"),
    [
        ("tenant a = {url}", "targets.txt:3: target name 'tenant a' is not valid"),
        ("tenant-a =", "targets.txt:3: no URL after 'tenant-a ='"),
        ("tenant-a = mysql://db/app", "targets.txt:3: database URL 'mysql://db/app' must start with postgresql://"),
        ("tenant-a = postgresql://app:${DBTOOL_TEST_UNSET_PASSWORD}@db/app",
         "targets.txt:3: environment variable DBTOOL_TEST_UNSET_PASSWORD is not set"),
        ("first = {url}", "targets.txt:3: target name 'first' is already used at"),
        ("again = {url}", "targets.txt:3: database dbtool_test_"),
    ],
)
def test_a_bad_targets_line_exits_2_naming_it_and_touches_nothing(
    line: str, fragment: str, new_database: Callable[[], str], tmp_path: Path
) -> None:
    url = new_database()
    targets = _write(tmp_path, f"# fleet\nfirst = {url}\n{line.replace('{url}', url)}\n")
    result = dbtool("reset", "--targets", targets, "--profile", "ci")
    assert result.exit_code == 2, result.output
    assert fragment in result.stderr, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert _tables(url) == 0  # the good line before the bad one was not reset


def test_passwords_come_from_the_environment_and_are_never_printed(new_database: Callable[[], str], tmp_path: Path) -> None:
    url = new_database()
    parts = urlsplit(url)
    host = parts.netloc.rsplit("@", 1)[-1]
    templated = urlunsplit(parts._replace(netloc=f"{parts.username or 'postgres'}:${{FLEET_PW}}@{host}"))
    # A server that checks passwords gets its own; one that trusts local connections never checks this one.
    password = parts.password or "Fleet-S3cret-pw"
    targets = _write(tmp_path, f"tenant = {templated}\n")
    for extra in ([], ["--json"], ["--log-format", "json"]):
        result = dbtool("reset", "--targets", targets, "--profile", "ci", *extra, env={"FLEET_PW": password})
        assert result.exit_code == 0, result.output
        assert password not in result.stdout + result.stderr


def test_shards_split_the_targets_between_them(new_database: Callable[[], str], tmp_path: Path) -> None:
    urls = [new_database() for _ in range(5)]
    targets = _write(tmp_path, "".join(f"t{i} = {u}\n" for i, u in enumerate(urls)))
    seen = []
    for index in range(3):
        result = dbtool("reset", "--targets", targets, "--profile", "ci", "--json", env={"DBTOOL_SHARD": f"{index}/3"})
        assert result.exit_code == 0, result.output
        seen += [r["target"] for r in json.loads(result.stdout)["results"]]
    assert sorted(seen) == [f"t{i}" for i in range(5)]  # each target in exactly one shard
    assert all(_resets(u) == 1 for u in urls)
    result = dbtool("reset", "--targets", targets, "--shard", "3/3")
    assert result.exit_code == 2 and "--shard 3/3" in result.stderr


def test_repair_resets_only_the_drifted_targets(new_database: Callable[[], str], tmp_path: Path) -> None:
    urls = {name: new_database() for name in ("clean", "data-drift", "schema-drift", "never-seeded")}
    for name in ("clean", "data-drift", "schema-drift"):
        assert dbtool("reset", "--database-url", urls[name], "--profile", "ci", "--seed", "7").exit_code == 0
    with psycopg.connect(urls["data-drift"], autocommit=True) as conn:
        conn.execute("DELETE FROM grooming_visit_logs WHERE ctid IN (SELECT ctid FROM grooming_visit_logs LIMIT 1)")
    with psycopg.connect(urls["schema-drift"], autocommit=True) as conn:
        conn.execute("ALTER TABLE pets DROP COLUMN notes") if _scalar(
            urls["schema-drift"], "SELECT count(*) FROM information_schema.columns WHERE table_name = 'pets' AND column_name = 'notes'"
        ) else conn.execute("ALTER TABLE pets ADD COLUMN extra int DEFAULT 1")
    targets = _write(tmp_path, "".join(f"{n} = {u}\n" for n, u in urls.items()))
    result = dbtool("repair", "--targets", targets, "--json")
    document = json.loads(result.stdout)
    by_name = {r["target"]: r for r in document["results"]}
    assert by_name["clean"]["result"]["action"] == "none"
    assert by_name["data-drift"]["result"]["action"] == "reset"
    assert [d["table"] for d in by_name["data-drift"]["result"]["differences"]] == ["grooming_visit_logs"]
    assert by_name["schema-drift"]["result"]["action"] == "reset"
    assert by_name["never-seeded"]["exit_code"] == 1 and "no reset or seed record" in by_name["never-seeded"]["message"]
    assert result.exit_code == 1
    assert _resets(urls["clean"]) == 1  # verified, left alone
    for name in ("data-drift", "schema-drift"):
        assert _resets(urls[name]) == 2
        # restored to the recorded seed (7), not the flag default (42)
        assert _scalar(urls[name], "SELECT seed FROM dbtool_meta WHERE event = 'reset' ORDER BY id DESC LIMIT 1") == 7
        assert dbtool("verify", "--database-url", urls[name]).exit_code == 0
    assert _tables(urls["never-seeded"]) == 0
    again = dbtool("repair", "--database-url", urls["clean"], "--database-url", urls["data-drift"])
    assert again.exit_code == 0, again.output
    assert again.stdout.count("nothing to repair") == 2
