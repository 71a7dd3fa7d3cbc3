"""The seed_* fixture projects work with plain Alembic and really hold the shapes they are there for.

They are the reference side of tests/integration/test_seed_any_schema.py: if one fails here the
fixture is broken, not dbtool's seed. The coverage test reads the catalog of all of them together,
so a fixture edited until it no longer has, say, a partial unique index fails here instead of
leaving the seed contract untested for that shape.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import psycopg
import pytest
from alembic.script import ScriptDirectory

from tests.alembic_projects import SEED_PROJECTS, assert_features
from tests.schema_dump import plain_alembic_downgrade, plain_alembic_upgrade, schema_dump
from tests.table_contents import contents, default_insertable, project_tables

# Column types the seed must fill, as format_type() prints them with lengths/precision elided.
# citext is not here: the embedded Postgres wheel ships no citext (pg_available_extensions).
REQUIRED_TYPES = {
    "smallint", "integer", "bigint", "numeric(p)", "text", "character varying(p)", "character(p)", "uuid",
    "boolean", "date", "time without time zone", "timestamp without time zone", "timestamp with time zone",
    "interval", "json", "jsonb", "bytea", "inet", "integer[]", "text[]",
}

# CHECK shapes the seed supports, as Postgres deparses them (IN and BETWEEN are rewritten).
CHECK_SHAPES = {
    "IN list / = ANY": re.compile(r"= ANY \(ARRAY\["),
    "equality with a constant": re.compile(r"\(\(?\w+\)?(::\w+)? = '[^']*'::\w+\)"),
    "comparison with a constant": re.compile(r"\(\w+ (<|<=|>|>=) \(?-?\d+\)?(::\w+)?\)"),
    "not equal to a constant": re.compile(r" <> '[^']*'::\w+\)"),
    "BETWEEN (as >= AND <=)": re.compile(r"\(\((\w+) >= \d+\) AND \(\1 <= \d+\)\)"),
    "AND": re.compile(r"\) AND \("),
    "OR": re.compile(r"\) OR \("),
    "NOT": re.compile(r"\(NOT \("),
    "IS NOT NULL implication": re.compile(r"\(\w+ <> '[^']*'::\w+\) OR \(\w+ IS NOT NULL\)"),
    "IS NULL implication": re.compile(r"OR \(\w+ IS NULL\)"),
    "length bound": re.compile(r"\(length\(\(?\w+\)?(::\w+)?\) <= \d+\)"),
    "char_length bound": re.compile(r"\(char_length\(\(?\w+\)?(::\w+)?\) >= \d+\)"),
    "anchored regex": re.compile(r" ~ '\^[^']*\$'::text"),
    "modulo": re.compile(r"\(\(\w+ % \d+\) = 0\)"),
    "comparison between columns": re.compile(r"\(([a-z_]+) < ([a-z_]+)\)"),
    "date constant": re.compile(r">= '\d{4}-\d\d-\d\d'::date"),
}

_TYPMOD = re.compile(r"\(\d+(,\d+)?\)")


def head_url(name: str, new_database: Callable[[], str]) -> str:
    """A fresh database with `name` upgraded to head by plain Alembic."""
    url = new_database()
    plain_alembic_upgrade(SEED_PROJECTS[name].config, url)
    return url


def catalog_facts(url: str) -> dict[str, set[str]]:
    """What the migrated schema holds, by kind: column types, identity kinds, key and index shapes, CHECK texts."""
    with psycopg.connect(url, autocommit=True) as conn:
        def one(query: str) -> set[str]:
            return {str(r[0]) for r in conn.execute(query).fetchall()}

        user_columns = (
            "FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
            "JOIN pg_type t ON t.oid = a.atttypid "
            "WHERE n.nspname = 'public' AND c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped "
            "AND c.relname <> 'alembic_version'"
        )
        facts = {
            "types": {_TYPMOD.sub("(p)", t) for t in one(f"SELECT format_type(a.atttypid, a.atttypmod) {user_columns}")},
            "type kinds": one(f"SELECT CASE t.typtype WHEN 'e' THEN 'enum' WHEN 'd' THEN 'domain' ELSE 'base' END {user_columns}"),
            "identity": one(f"SELECT a.attidentity {user_columns} AND a.attidentity <> ''"),
            "generated": one(f"SELECT a.attgenerated {user_columns} AND a.attgenerated <> ''"),
            "serial": one(
                f"SELECT 'serial' {user_columns} AND a.attidentity = '' AND "
                "pg_get_expr((SELECT d.adbin FROM pg_attrdef d WHERE d.adrelid = a.attrelid AND d.adnum = a.attnum), "
                "a.attrelid) LIKE 'nextval(%'"
            ),
            "domain checks": one(
                "SELECT pg_get_constraintdef(k.oid) FROM pg_constraint k JOIN pg_type t ON t.oid = k.contypid "
                "WHERE t.typtype = 'd' AND k.contype = 'c'"
            ),
            "keys": one(
                "SELECT k.contype::text || CASE WHEN cardinality(k.conkey) > 1 THEN ' composite' ELSE '' END "
                "FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid "
                "WHERE c.relnamespace = 'public'::regnamespace AND k.contype IN ('p', 'u', 'f')"
            ) | one(
                "SELECT 'self-referencing fk' FROM pg_constraint k WHERE k.contype = 'f' AND k.conrelid = k.confrelid"
            ) | one(
                "SELECT 'fk cycle' FROM pg_constraint a JOIN pg_constraint b ON a.conrelid = b.confrelid "
                "AND a.confrelid = b.conrelid WHERE a.contype = 'f' AND b.contype = 'f' AND a.conrelid <> a.confrelid"
            ) | one(
                "SELECT 'deferrable fk' FROM pg_constraint k WHERE k.contype = 'f' AND k.condeferrable"
            ),
            "unique indexes": one(
                "SELECT CASE WHEN i.indpred IS NOT NULL THEN 'partial' WHEN i.indexprs IS NOT NULL THEN "
                "'expression: ' || pg_get_indexdef(i.indexrelid) ELSE 'plain' END "
                "FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid "
                "WHERE c.relnamespace = 'public'::regnamespace AND i.indisunique AND NOT i.indisprimary"
            ),
            "checks": one(
                "SELECT pg_get_constraintdef(k.oid) FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid "
                "WHERE c.relnamespace = 'public'::regnamespace AND k.contype = 'c'"
            ),
            "defaults": one(
                f"SELECT pg_get_expr(d.adbin, d.adrelid) {user_columns.replace('WHERE', 'JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum WHERE')}"
            ),
            "not null": one(f"SELECT 'not null' {user_columns} AND a.attnotnull AND a.attidentity = ''"),
        }
    return facts


def referenced_lookup_tables(url: str) -> set[str]:
    """Tables the migration filled that an FK from a table the migration left empty points at."""
    filled = {t for t, c in contents(url).items() if c.rows}
    with psycopg.connect(url, autocommit=True) as conn:
        edges = conn.execute(
            "SELECT conrelid::regclass::text, confrelid::regclass::text FROM pg_constraint WHERE contype = 'f'"
        ).fetchall()
    return {parent for child, parent in edges if parent in filled and child not in filled}


@pytest.mark.parametrize("name", sorted(SEED_PROJECTS))
def test_each_seed_project_has_one_head_the_catalog_names(name: str) -> None:
    project = SEED_PROJECTS[name]
    assert project.config.is_file()
    assert ScriptDirectory(str(project.directory)).get_heads() == [project.head]


@pytest.mark.parametrize("name", sorted(SEED_PROJECTS))
def test_seed_project_upgrades_downgrades_and_upgrades_to_the_same_schema(
    name: str, new_database: Callable[[], str]
) -> None:
    project = SEED_PROJECTS[name]
    url = head_url(name, new_database)
    head = schema_dump(url)
    assert_features(project, head)

    plain_alembic_downgrade(project.config, url)
    base = schema_dump(url)
    assert [line for line in base.splitlines() if line.startswith("CREATE ")] == ["CREATE TABLE public.alembic_version ("]

    plain_alembic_upgrade(project.config, url)
    assert schema_dump(url) == head


@pytest.mark.versions
def test_seed_projects_together_cover_every_type_and_shape(new_database: Callable[[], str]) -> None:
    facts: dict[str, set[str]] = {}
    for name in sorted(SEED_PROJECTS):
        for kind, found in catalog_facts(head_url(name, new_database)).items():
            facts.setdefault(kind, set()).update(found)

    assert REQUIRED_TYPES <= facts["types"], REQUIRED_TYPES - facts["types"]
    assert {"enum", "domain"} <= facts["type kinds"]
    assert any("VALUE ~" in c for c in facts["domain checks"]) and any("VALUE >" in c for c in facts["domain checks"])
    assert facts["identity"] == {"a", "d"}  # GENERATED ALWAYS and BY DEFAULT
    assert facts["serial"] == {"serial"}
    assert facts["generated"] == {"s"}  # GENERATED ALWAYS AS (...) STORED
    assert {"p composite", "u composite", "f composite", "self-referencing fk", "fk cycle", "deferrable fk"} <= facts["keys"]
    assert "partial" in facts["unique indexes"]
    assert any("(lower(email))" in i for i in facts["unique indexes"] if i.startswith("expression: "))
    assert {"now()", "gen_random_uuid()", "true", "'free'::plan_tier", "'{}'::jsonb"} <= facts["defaults"]
    assert facts["not null"] == {"not null"}
    missing = [shape for shape, pattern in CHECK_SHAPES.items() if not any(pattern.search(c) for c in facts["checks"])]
    assert not missing, f"no CHECK of shape {missing} in {sorted(facts['checks'])}"


def test_seed_checks_source_spells_in_and_between() -> None:
    # Postgres deparses IN and BETWEEN away; the revisions must still use the spellings teams write.
    source = "\n".join(p.read_text() for p in (SEED_PROJECTS["seed_checks"].directory / "versions").glob("*.py"))
    assert "kind IN ('LOCAL', 'SSO', 'SERVICE')" in source
    assert "party_size BETWEEN 1 AND 12" in source


def test_seed_relations_lookup_table_is_filled_by_its_migration(new_database: Callable[[], str]) -> None:
    url = head_url("seed_relations", new_database)
    rows = {t: c.rows for t, c in contents(url).items()}
    assert rows.pop("currencies") == 3
    assert set(rows.values()) == {0}, rows  # every other table is left for the seed
    assert referenced_lookup_tables(url) == {"currencies"}


def test_seed_keys_has_a_table_that_takes_default_values(new_database: Callable[[], str]) -> None:
    # The contract test inserts DEFAULT VALUES after a reset; this proves it has a table to do it on.
    url = head_url("seed_keys", new_database)
    with psycopg.connect(url, autocommit=True) as conn:
        assert default_insertable(conn) == ["audit_events"]
        assert project_tables(conn) == ["audit_events", "invoices", "memberships", "projects", "teams", "users"]


def test_seed_unsupported_check_is_satisfiable_only_off_the_supported_shapes(new_database: Callable[[], str]) -> None:
    # The table is not impossible, only outside the shapes a seed solves: Postgres takes (3, 4) and refuses (10, 0).
    url = head_url("seed_unsupported", new_database)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("INSERT INTO launch_pads (name, x, y) VALUES ('LC-39A', 3, 4)")
        with pytest.raises(psycopg.errors.CheckViolation, match="launch_pads_within_range"):
            conn.execute("INSERT INTO launch_pads (name, x, y) VALUES ('SLC-40', 10, 0)")


def test_seed_checks_constraints_bite(new_database: Callable[[], str]) -> None:
    # A valid row goes in; each of a few one-field changes to it is refused by the CHECK named.
    url = head_url("seed_checks", new_database)
    valid = {
        "booked_by": "(SELECT id FROM login_accounts)", "room_code": "'ABC-1234'", "party_size": "4",
        "duration_minutes": "45", "deposit_cents": "1000", "booked_on": "DATE '2024-05-01'",
        "starts_at": "'2024-05-01 10:00+00'", "ends_at": "'2024-05-01 11:00+00'", "min_guests": "1",
        "max_guests": "4", "channel": "'web'",
    }
    refused = {
        "bookings_room_code_format": {"room_code": "'AB-1234'"},
        "bookings_quarter_hours": {"duration_minutes": "50"},
        "bookings_period": {"ends_at": "'2024-05-01 09:00+00'"},
        "bookings_big_parties_by_phone": {"party_size": "10"},
        "bookings_walk_in_no_deposit": {"channel": "'walk-in'"},
    }

    def insert(values: dict[str, str]) -> None:
        conn.execute(f"INSERT INTO bookings ({', '.join(values)}) VALUES ({', '.join(values.values())})")

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("INSERT INTO login_accounts (kind, username, password_hash) VALUES ('LOCAL', 'ada', 'x')")
        with pytest.raises(psycopg.errors.CheckViolation, match="login_accounts_local_needs_password"):
            conn.execute("INSERT INTO login_accounts (kind, username) VALUES ('LOCAL', 'bob')")
        insert(valid)
        for constraint, change in refused.items():
            with pytest.raises(psycopg.errors.CheckViolation, match=constraint):
                insert({**valid, **change})
