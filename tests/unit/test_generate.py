from __future__ import annotations

from collections import Counter

import pytest

from dbtool.seed.generate import TABLE_SPECS, chunks, password_hash
from dbtool.seed.profiles import PROFILES


def generate_all(seed: int, profile_name: str, chunk: int | None = None) -> dict[str, list[tuple]]:  # type: ignore[type-arg]
    profile = PROFILES[profile_name]
    out: dict[str, list[tuple]] = {}  # type: ignore[type-arg]
    for spec in TABLE_SPECS:
        total = spec.driver(profile)
        rows: list[tuple] = []  # type: ignore[type-arg]
        for first, count in chunks(total, chunk or max(total, 1)):
            rows.extend(spec.rows(seed, profile, first, count))
        out[spec.name] = rows
    return out


def test_dev_profile_has_the_documented_counts() -> None:
    data = generate_all(42, "dev")
    assert {t: len(r) for t, r in data.items() if t in ("staff", "services", "clients", "pets", "invoices", "grooming_visit_logs")} == {
        "staff": 4, "services": 10, "clients": 100, "pets": 176, "invoices": 1000, "grooming_visit_logs": 1000,
    }
    roles = Counter(row[3] for row in data["staff"])
    assert roles == {"manager": 1, "receptionist": 1, "groomer": 2}


@pytest.mark.parametrize("chunk", [1, 7, 333])
def test_chunking_does_not_change_a_single_row(chunk: int) -> None:
    assert generate_all(42, "ci", chunk) == generate_all(42, "ci")


def test_different_seeds_give_different_data() -> None:
    assert generate_all(1, "ci") != generate_all(2, "ci")


def test_primary_keys_are_unique_across_all_tables() -> None:
    data = generate_all(42, "dev")
    ids = [row[0] for rows in data.values() for row in rows]
    assert len(ids) == len(set(ids))


def test_invoice_totals_match_their_lines_and_tip_splits() -> None:
    data = generate_all(42, "dev")
    lines: Counter[str] = Counter()
    for _, invoice_id, _, quantity, price in data["invoice_line_items"]:
        lines[invoice_id] += quantity * price
    tips: Counter[str] = Counter()
    for _, invoice_id, _, amount in data["invoice_tip_splits"]:
        tips[invoice_id] += amount
    for invoice_id, _, _, _, _, _, subtotal, tip, total in data["invoices"]:
        assert total == subtotal + tip
        assert subtotal == lines[invoice_id]
        assert tip == tips[invoice_id]


def test_every_foreign_key_resolves_in_memory() -> None:
    data = generate_all(42, "dev")
    ids = {t: {row[0] for row in rows} for t, rows in data.items()}
    assert {row[1] for row in data["pets"]} <= ids["clients"]
    assert {row[2] for row in data["invoices"]} <= ids["clients"]
    assert {row[3] for row in data["invoices"]} <= ids["pets"]
    assert {row[2] for row in data["invoice_tip_splits"]} <= ids["staff"]
    assert {row[1] for row in data["grooming_visit_logs"]} <= ids["pets"]


def test_text_values_need_no_copy_escaping() -> None:
    data = generate_all(42, "dev")
    for rows in data.values():
        for row in rows:
            for value in row:
                assert not (isinstance(value, str) and any(c in value for c in "\t\n\\"))


def test_staff_password_is_a_salted_pbkdf2_hash() -> None:
    hashed = password_hash(42)
    assert hashed.startswith("pbkdf2_sha256$") and "groom" not in hashed
    assert password_hash(42) == hashed and password_hash(43) != hashed
