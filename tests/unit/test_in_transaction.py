"""What a migration's SQL becomes inside dbtool's one transaction (dbtool.migrate.in_transaction), no database."""

from __future__ import annotations

import pytest

from dbtool.migrate.in_transaction import TransactionControl, adapt, statements


@pytest.mark.parametrize("text", [
    "CREATE TABLE t (id int)",
    "CREATE FUNCTION f() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN COMMIT; END $$",
    "INSERT INTO notes VALUES ('COMMIT; END; BEGIN')",
    "-- COMMIT here would be a comment\nSELECT 1",
    "CREATE FUNCTION g() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; END",
    "REFRESH MATERIALIZED VIEW CONCURRENTLY daily",
    "ROLLBACK TO SAVEPOINT before_backfill",
    "SELECT CASE WHEN true THEN 1 END",
])
def test_text_that_keeps_the_transaction_passes_byte_for_byte(text: str) -> None:
    assert adapt(text).text == text
    assert adapt(text).notes == ()


@pytest.mark.parametrize("text", ["COMMIT", "commit;", "END", "COMMIT WORK", "BEGIN", "START TRANSACTION",
                                  "SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL SERIALIZABLE"])
def test_statements_that_end_or_begin_a_transaction_are_skipped(text: str) -> None:
    done = adapt(text)
    assert done.text.strip() == ""
    assert len(done.notes) == 1 and "skipped" in done.notes[0]


@pytest.mark.parametrize("text, expected", [
    ("CREATE INDEX CONCURRENTLY ix ON t (a)", "CREATE INDEX ix ON t (a)"),
    ("create unique index concurrently if not exists ix on t (a)", "create unique index if not exists ix on t (a)"),
    ("DROP INDEX CONCURRENTLY IF EXISTS ix", "DROP INDEX IF EXISTS ix"),
    ("REINDEX (VERBOSE) INDEX CONCURRENTLY ix", "REINDEX (VERBOSE) INDEX ix"),
    ("ALTER TABLE m DETACH PARTITION m_2020 CONCURRENTLY", "ALTER TABLE m DETACH PARTITION m_2020"),
])
def test_concurrently_is_dropped_where_a_transaction_block_forbids_it(text: str, expected: str) -> None:
    done = adapt(text)
    assert done.text == expected
    assert "without CONCURRENTLY" in done.notes[0]


def test_a_commit_before_an_index_build_in_one_text() -> None:
    done = adapt("COMMIT;\n  CREATE INDEX CONCURRENTLY ix ON t (a);\nVACUUM ANALYZE t;")
    assert done.text == "CREATE INDEX ix ON t (a);"
    assert [n.split()[0] for n in done.notes] == ["skipped", "ran", "skipped"]


@pytest.mark.parametrize("text", ["ROLLBACK", "abort;", "ROLLBACK AND CHAIN"])
def test_rollback_cannot_be_honoured(text: str) -> None:
    with pytest.raises(TransactionControl):
        adapt(text)


def test_statements_split_only_at_top_level_semicolons() -> None:
    text = "SELECT ';'; SELECT $x$ ; $x$; SELECT \"a;b\" FROM t /* ; */; SELECT 'it''s;'"
    assert [p.strip() for p in statements(text)] == [
        "SELECT ';';", "SELECT $x$ ; $x$;", "SELECT \"a;b\" FROM t /* ; */;", "SELECT 'it''s;'",
    ]
