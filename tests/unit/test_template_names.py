"""The pure half of dbtool/testdb/template.py: keys, names, orphan and staleness rules, URLs."""

from __future__ import annotations

from dataclasses import replace

from dbtool.testdb.template import (
    CloneName,
    State,
    is_orphan,
    is_stale,
    migrations_digest,
    parse_clone_name,
    template_name,
    with_database,
    without_password,
)

STATE = State("m" * 64, 1, "ci", 42, 1, "public", 18, "0.1.0")


def test_every_part_of_the_state_changes_the_key() -> None:
    changed = [replace(STATE, **{field: value}) for field, value in (
        ("migrations", "n" * 64), ("generator_version", 2), ("profile", "dev"), ("seed", 43), ("scale", 2),
        ("schema", "app"), ("server_major", 17), ("dbtool_version", "0.2.0"))]
    keys = {s.key for s in changed} | {STATE.key}
    assert len(keys) == len(changed) + 1
    assert len(template_name(STATE.key)) <= 63


def test_profile_and_seed_share_a_lineage_but_migrations_do_not() -> None:
    assert replace(STATE, profile="dev", seed=7).lineage == STATE.lineage
    assert replace(STATE, migrations="n" * 64).lineage != STATE.lineage


def test_the_migrations_digest_sees_content_and_names_not_order() -> None:
    files = {"versions/a.py": b"a", "env.py": b"e"}
    assert migrations_digest(files) == migrations_digest(dict(reversed(list(files.items()))))
    assert migrations_digest(files) != migrations_digest({**files, "versions/a.py": b"a2"})
    assert migrations_digest(files) != migrations_digest({"versions/b.py": b"a", "env.py": b"e"})


def test_clone_names_round_trip_and_only_dead_local_makers_are_orphans() -> None:
    clone = CloneName("0123456789abcdef", "abcdef", 4242, 7)
    parsed = parse_clone_name(str(clone))
    assert parsed == CloneName("01234567", "abcdef", 4242, 7)
    assert parse_clone_name("dbtool_clone_mine") is None and parse_clone_name("app") is None
    assert is_orphan(parsed, "abcdef", alive=lambda pid: False)
    assert not is_orphan(parsed, "abcdef", alive=lambda pid: True)
    assert not is_orphan(parsed, "fedcba", alive=lambda pid: False)  # another host's: never ours to judge


def test_only_the_projects_older_lineage_unused_long_enough_is_stale() -> None:
    old = {"project": "p", "lineage": "old", "used": 1000.0}
    assert is_stale(old, STATE, "p", now=1000.0 + 600, unused_for=600)
    assert not is_stale(old, STATE, "p", now=1000.0 + 599, unused_for=600)
    assert not is_stale(old, STATE, "other", now=10_000.0, unused_for=600)
    assert not is_stale({**old, "lineage": STATE.lineage}, STATE, "p", now=10_000.0, unused_for=600)
    assert not is_stale({}, STATE, "p", now=10_000.0, unused_for=600)  # not described: not ours


def test_urls_point_at_another_database_and_lose_the_password() -> None:
    assert with_database("postgresql://u:pw@h:5/app?sslmode=require", "c1") == "postgresql://u:pw@h:5/c1?sslmode=require"
    assert with_database("postgresql://u@/app?host=/tmp/s&dbname=app", "c1") == "postgresql://u@/c1?host=/tmp/s"
    assert without_password("postgresql://u:s3cret@h:5/c1") == "postgresql://u@h:5/c1"
    assert without_password("postgresql://u@h/c1?password=s3cret&sslmode=require") == "postgresql://u@h/c1?sslmode=require"
