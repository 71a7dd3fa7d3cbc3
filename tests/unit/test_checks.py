"""CHECK expressions as Postgres prints them, and the strings a simple pattern allows: pure, no database."""

from __future__ import annotations

import re

import pytest

from dbtool.seed import patterns
from dbtool.seed.checks import Atom, Ref, Sum, Unsupported, alternatives, parse


def test_in_lists_and_any_arrays_become_one_in_atom() -> None:
    for text in ("CHECK ((status = ANY (ARRAY['a'::text, 'b'::text])))",
                 "CHECK (((status)::text = ANY ((ARRAY['a'::character varying, 'b'::character varying])::text[])))"):
        assert alternatives(parse(text)) == [[Atom(Ref("status"), "in", ("a", "b"))]]


def test_not_is_pushed_down_to_the_atoms_de_morgan() -> None:
    found = alternatives(parse("CHECK ((NOT ((kind = 'LOCAL'::text) AND (password IS NULL))))"))
    assert found == [[Atom(Ref("kind"), "<>", "LOCAL")], [Atom(Ref("password"), "notnull")]]


def test_between_modulo_length_like_and_a_sum() -> None:
    assert alternatives(parse("CHECK (((x >= 1) AND (x <= 10)))")) == [[Atom(Ref("x"), ">=", 1), Atom(Ref("x"), "<=", 10)]]
    assert alternatives(parse("CHECK (((pct % 5) = 0))")) == [[Atom(Ref("pct"), "mod", (5, 0))]]
    assert alternatives(parse("CHECK ((length((code)::text) <= 20))")) == [[Atom(Ref("code", "length"), "<=", 20)]]
    assert alternatives(parse("CHECK ((code ~~ 'V%'::text))")) == [[Atom(Ref("code"), "~", "^V.*$")]]
    total = alternatives(parse("CHECK ((total = (subtotal + tip)))"))
    assert total == [[Atom(Ref("total"), "=", Sum(((1, Ref("subtotal")), (1, Ref("tip")))))]]


@pytest.mark.parametrize("text", ["CHECK (((x * x) < 100))", "CHECK ((f(x) > 0))", "CHECK ((x > (y * 2)))"])
def test_shapes_outside_the_supported_ones_say_so(text: str) -> None:
    with pytest.raises(Unsupported):
        alternatives(parse(text))


@pytest.mark.parametrize("pattern", ["^[A-Z]{3}-[0-9]{4}$", r"^\d{5}$", "^(EU|US)-[a-f0-9]{2}$", "^V.*$"])
def test_pattern_values_match_and_are_all_different(pattern: str) -> None:
    capacity = patterns.capacity(pattern)
    sample = range(0, capacity, max(1, capacity // 500))
    values = [patterns.value(pattern, n) for n in sample]
    assert all(re.search(pattern, v) for v in values)
    assert len(set(values)) == len(values)
