"""CHECK expressions as Postgres prints them, and the strings a simple pattern allows: pure, no database."""

from __future__ import annotations

import re

import pytest

from dbtool.seed import domains, patterns
from dbtool.seed.checks import Atom, Ref, Sum, Unsupported, alternatives, parse
from dbtool.seed.domains import solve_checks
from dbtool.seed.model import Column, Constraint, Table


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


# Shapes from published schemas, as the embedded server's pg_get_constraintdef prints them
# (tests/projects/seed_check_shapes holds each one in a table the seed must fill).


def test_case_insensitive_regex_match_and_non_match() -> None:
    found = alternatives(parse("CHECK (((handle)::text ~* '^[a-z]{3}-[0-9]{3}$'::text))"))
    assert found == [[Atom(Ref("handle"), "~*", "^[a-z]{3}-[0-9]{3}$")]]
    found = alternatives(parse("CHECK ((nickname !~* '^(admin|root)$'::text))"))
    assert found == [[Atom(Ref("nickname"), "!~*", "^(admin|root)$")]]
    assert alternatives(parse("CHECK ((NOT (nickname !~* '^x'::text)))")) == [[Atom(Ref("nickname"), "~*", "^x")]]


def test_ilike_and_not_ilike_are_case_insensitive_anchored_regexes() -> None:
    found = alternatives(parse("CHECK ((display_name ~~* 'member %'::text))"))
    assert found == [[Atom(Ref("display_name"), "~*", "^member\\ .*$")]]
    assert alternatives(parse("CHECK ((bio !~~* '%http%'::text))")) == [[Atom(Ref("bio"), "!~*", "^.*http.*$")]]


def test_null_tests_compared_as_booleans() -> None:
    exactly_one = alternatives(parse("CHECK (((email IS NULL) <> (phone IS NULL)))"))
    assert exactly_one == [[Atom(Ref("email"), "null"), Atom(Ref("phone"), "notnull")],
                           [Atom(Ref("email"), "notnull"), Atom(Ref("phone"), "null")]]
    both_or_neither = alternatives(parse("CHECK (((street IS NULL) = (city IS NULL)))"))
    assert both_or_neither == [[Atom(Ref("street"), "null"), Atom(Ref("city"), "null")],
                               [Atom(Ref("street"), "notnull"), Atom(Ref("city"), "notnull")]]


def test_a_boolean_column_is_a_predicate() -> None:
    found = alternatives(parse(
        "CHECK (((is_banned AND (ban_reason IS NOT NULL)) OR ((NOT is_banned) AND (ban_reason IS NULL))))"))
    assert found == [[Atom(Ref("is_banned"), "=", True), Atom(Ref("ban_reason"), "notnull")],
                     [Atom(Ref("is_banned"), "<>", True), Atom(Ref("ban_reason"), "null")]]
    assert alternatives(parse("CHECK (((NOT is_banned) OR (ban_reason IS NOT NULL)))")) == [
        [Atom(Ref("is_banned"), "<>", True)], [Atom(Ref("ban_reason"), "notnull")]]


@pytest.mark.parametrize("text", [
    "CHECK ((((type)::text = 'dispute'::text) = (dispute_id IS NOT NULL)))",
    "CHECK (((dispute_id IS NOT NULL) = ((type)::text = 'dispute'::text)))",
])
def test_predicates_compared_as_booleans(text: str) -> None:
    found = [sorted(alt, key=lambda a: a.left.column) for alt in alternatives(parse(text))]
    assert found == [[Atom(Ref("dispute_id"), "notnull"), Atom(Ref("type"), "=", "dispute")],
                     [Atom(Ref("dispute_id"), "null"), Atom(Ref("type"), "<>", "dispute")]]


def test_a_boolean_column_compared_with_a_predicate() -> None:
    verified = [[Atom(Ref("is_verified"), "=", True), Atom(Ref("verified_at"), "notnull")],
                [Atom(Ref("is_verified"), "<>", True), Atom(Ref("verified_at"), "null")]]
    assert alternatives(parse("CHECK ((is_verified = (verified_at IS NOT NULL)))")) == verified
    swapped = alternatives(parse("CHECK (((verified_at IS NOT NULL) = is_verified))"))
    assert [list(reversed(alt)) for alt in swapped] == verified
    crossed = alternatives(parse("CHECK ((((type)::text = 'refund'::text) <> (amount_cents >= 0)))"))
    assert crossed == [[Atom(Ref("type"), "=", "refund"), Atom(Ref("amount_cents"), "<", 0)],
                       [Atom(Ref("type"), "<>", "refund"), Atom(Ref("amount_cents"), ">=", 0)]]
    assert alternatives(parse("CHECK ((NOT ((a IS NULL) = (b IS NULL))))")) == alternatives(
        parse("CHECK (((a IS NULL) <> (b IS NULL)))"))
    assert alternatives(parse("CHECK (((a IS NULL) = false))")) == [[Atom(Ref("a"), "notnull")]]
    assert alternatives(parse("CHECK (((b IS NOT NULL) <> true))")) == [[Atom(Ref("b"), "null")]]


def test_constants_and_casts_in_parentheses_are_still_operands() -> None:
    assert alternatives(parse("CHECK (((flag)::integer = 1))")) == [[Atom(Ref("flag"), "=", 1)]]
    assert alternatives(parse("CHECK ((is_active = true))")) == [[Atom(Ref("is_active"), "=", True)]]
    assert alternatives(parse("CHECK ((price > (0)::numeric))")) == [[Atom(Ref("price"), ">", 0)]]


def test_json_typeof_names_the_kind_of_json_value() -> None:
    assert alternatives(parse("CHECK ((jsonb_typeof(tags) = 'array'::text))")) == [
        [Atom(Ref("tags", "json_type"), "=", "array")]]
    assert alternatives(parse("CHECK ((json_typeof(settings) = 'object'::text))")) == [
        [Atom(Ref("settings", "json_type"), "=", "object")]]
    assert alternatives(parse("CHECK ((jsonb_typeof(doc) = ANY (ARRAY['object'::text, 'array'::text])))")) == [
        [Atom(Ref("doc", "json_type"), "in", ("object", "array"))]]


def _column(name: str, base: str, not_null: bool = False) -> Column:
    category = {"text": "S", "bool": "B", "jsonb": "U", "json": "U", "int4": "N"}[base]
    return Column(name, base, base, category, None, None, None, (), not_null, None, "", "", None, ())


def _table(columns: list[Column], *definitions: str) -> Table:
    checks = tuple(Constraint(f"check_{n}", "c", d, ()) for n, d in enumerate(definitions))
    return Table("t", tuple(columns), checks, ())


def test_listed_values_meet_a_case_insensitive_pattern_ignoring_case() -> None:
    table = _table([_column("role", "text", True), _column("team", "text", True)],
                   "CHECK (((role = ANY (ARRAY['Owner'::text, 'EDITOR'::text, 'viewer'::text])) AND (role ~* '^[a-z]+$'::text)))",
                   "CHECK (((team = ANY (ARRAY['Core'::text, 'Web'::text])) AND (team !~~* 'core'::text)))")
    solved, _ = solve_checks(table)
    assert solved["role"].choices == ("Owner", "EDITOR", "viewer")
    assert solved["team"].choices == ("Web",)


def test_an_alternative_needing_a_not_null_column_null_is_passed_over() -> None:
    table = _table([_column("email", "text", True), _column("phone", "text")],
                   "CHECK (((email IS NULL) <> (phone IS NULL)))")
    solved, _ = solve_checks(table)
    assert solved["email"].not_null and solved["phone"].null


def test_json_typeof_becomes_the_kind_the_generator_makes() -> None:
    table = _table([_column("tags", "jsonb", True), _column("doc", "jsonb", True)],
                   "CHECK ((jsonb_typeof(tags) = 'array'::text))",
                   "CHECK ((jsonb_typeof(doc) <> ALL (ARRAY['object'::text, 'array'::text])))")
    solved, _ = solve_checks(table)
    assert solved["tags"].json_type == "array"
    assert solved["doc"].json_type not in (None, "object", "array")
    assert domains.json_value({"tags": 7}, "array") == [{"tags": 7}]
    assert {type(domains.json_value({"d": 7}, kind)) for kind in domains.JSON_KINDS} == {dict, list, str, int, bool, type(None)}


def test_a_negated_modulo_excludes_its_remainder() -> None:
    assert alternatives(parse("CHECK ((NOT ((quantity % 20) = 12)))")) == [[Atom(Ref("quantity"), "notmod", (20, 12))]]


def test_a_long_unsupported_check_is_quoted_short_in_its_one_line_reason() -> None:
    # langflow's sso_config CHECK runs to 8 KB; the reason a table is left empty must stay one readable line.
    clause = "(length(TRIM(BOTH FROM ((settings ->> 'issuer'::text))::character varying)) > 0)"
    table = _table([_column("settings", "jsonb", True)], "CHECK (" + " AND ".join([clause] * 60) + ")")
    with pytest.raises(Unsupported) as raised:
        solve_checks(table)
    assert len(str(raised.value)) < 400 and "is not a supported shape" in str(raised.value)
