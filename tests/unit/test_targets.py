"""Targets files, shards and the fleet exit-code rule: pure, no database."""

from __future__ import annotations

import pytest

from dbtool.errors import ConfigError
from dbtool.run.fleet import fleet_exit_code
from dbtool.settings.targets import parse_shard, parse_targets, shard


def test_names_bare_urls_comments_and_variables() -> None:
    text = "# fleet\n\na = postgresql://u:${PW}@h:5433/one   # trailing comment\npostgresql://u@h/two?sslmode=require\n"
    entries = parse_targets(text, "f", {"PW": "s3cret"})
    assert [(e.name, e.origin) for e in entries] == [("a", "f:3"), ("u@h:5432/two", "f:4")]
    assert entries[0].url == "postgresql://u:s3cret@h:5433/one"
    assert "s3cret" not in repr(entries[0])


@pytest.mark.parametrize("text", ["a = postgresql://h/x\nb = postgresql://h:5432/x\n", "a = postgresql://h/x\na = postgresql://h/y\n"])
def test_duplicates_are_refused_naming_both_lines(text: str) -> None:
    with pytest.raises(ConfigError, match=r"f:2: .* at f:1"):
        parse_targets(text, "f", {})


def test_shards_cover_every_target_once() -> None:
    entries = parse_targets("".join(f"t{i} = postgresql://h/d{i}\n" for i in range(7)), "f", {})
    parts = [shard(entries, *parse_shard(f"{i}/3")) for i in range(3)]
    assert sorted(e.name for p in parts for e in p) == sorted(e.name for e in entries)
    assert [len(p) for p in parts] == [3, 2, 2]
    for bad in ("3/3", "1", "-1/2", "0/0"):
        with pytest.raises(ConfigError):
            parse_shard(bad)


@pytest.mark.parametrize(
    ("codes", "interrupted", "expected"),
    [([0, 0], None, 0), ([0, 69, 69], None, 69), ([75, 0], None, 75), ([3, 69], None, 1), ([0, 1], None, 1),
     ([0, 0], 15, 143), ([], None, 0)],
)
def test_the_exit_code_rule(codes: list[int], interrupted: int | None, expected: int) -> None:
    assert fleet_exit_code(codes, interrupted) == expected
