from __future__ import annotations

import base64
import hashlib
import re
from collections import Counter

import pytest

from dbtool.seed.generate import TABLE_SPECS, chunks, password_hash
from dbtool.seed.profiles import PROFILES, Profile
from tests.reference import scalar_generate

Rows = dict[str, list[tuple[str, ...]]]

# sha256 of the COPY text the generator sends for seed 42; a change here means the data changed:
# bump GENERATOR_VERSION and update these deliberately.
GOLDEN_COPY_SHA256 = {
    "ci": "5f4a9c9d40395aea32a8fec5b086ee8ecd4d3a6f85a2e15bcfe40d574b9cc0b5",
    "dev": "176eb8d16cd1a36b757bc8d81608cc04a17b17ae3109564982b59f426af6f997",
}


def generate_all(seed: int, profile: Profile, chunk: int | None = None) -> Rows:
    out: Rows = {}
    for spec in TABLE_SPECS:
        total = spec.driver(profile)
        rows: list[tuple[str, ...]] = []
        for first, count in chunks(total, chunk or max(total, 1)):
            text, n = spec.chunk(seed, profile, first, count)
            parsed = [tuple(line.split("\t")) for line in text.splitlines()]
            assert len(parsed) == n
            rows.extend(parsed)
        out[spec.name] = rows
    return out


def copy_sha256(seed: int, profile: Profile) -> str:
    h = hashlib.sha256()
    for spec in TABLE_SPECS:
        h.update(spec.chunk(seed, profile, 0, spec.driver(profile))[0].encode())
    return h.hexdigest()


def _normalized(value: object) -> str:
    """The scalar reference's values in the generator's text forms."""
    if isinstance(value, str):
        if re.fullmatch(r"[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}", value):
            return value.replace("-", "")
        stamp = re.fullmatch(r"(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d)\+00:00", value)
        if stamp:
            return f"{stamp[1]}T{stamp[2]}Z"
        return value
    return str(value)


@pytest.mark.parametrize("name", ["ci", "dev", "demo"])
def test_vectorized_generator_equals_the_scalar_reference(name: str) -> None:
    profile = PROFILES[name]
    got = generate_all(42, profile)
    for spec in scalar_generate.TABLE_SPECS:
        want = [tuple(map(_normalized, row)) for row in spec.rows(42, profile, 0, spec.driver(profile))]
        assert got[spec.name] == want, spec.name


def test_scaled_profile_slice_equals_the_scalar_reference() -> None:
    profile = PROFILES["load"].scaled(50)
    for spec, ref in zip(TABLE_SPECS, scalar_generate.TABLE_SPECS):
        first = spec.driver(profile) - 7
        text, _ = spec.chunk(7, profile, first, 7)
        want = [tuple(map(_normalized, row)) for row in ref.rows(7, profile, first, 7)]
        assert [tuple(line.split("\t")) for line in text.splitlines()] == want, spec.name


def test_dev_profile_has_the_documented_counts() -> None:
    data = generate_all(42, PROFILES["dev"])
    assert {t: len(data[t]) for t in ("staff", "services", "clients", "pets", "invoices", "grooming_visit_logs")} == {
        "staff": 4, "services": 10, "clients": 100, "pets": 176, "invoices": 1000, "grooming_visit_logs": 1000,
    }
    assert Counter(row[3] for row in data["staff"]) == {"manager": 1, "receptionist": 1, "groomer": 2}


@pytest.mark.parametrize("chunk", [1, 7, 333])
def test_chunking_does_not_change_a_single_row(chunk: int) -> None:
    assert generate_all(42, PROFILES["ci"], chunk) == generate_all(42, PROFILES["ci"])


def test_different_seeds_give_different_data() -> None:
    assert generate_all(1, PROFILES["ci"]) != generate_all(2, PROFILES["ci"])


def test_primary_keys_are_unique_across_all_tables() -> None:
    data = generate_all(42, PROFILES["dev"])
    ids = [row[0] for rows in data.values() for row in rows]
    assert len(ids) == len(set(ids))


def test_invoice_totals_match_their_lines_and_tip_splits() -> None:
    data = generate_all(42, PROFILES["dev"])
    lines: Counter[str] = Counter()
    for _, invoice_id, _, quantity, price in data["invoice_line_items"]:
        lines[invoice_id] += int(quantity) * int(price)
    tips: Counter[str] = Counter()
    for _, invoice_id, _, amount in data["invoice_tip_splits"]:
        tips[invoice_id] += int(amount)
    for invoice_id, _, _, _, _, _, subtotal, tip, total in data["invoices"]:
        assert int(total) == int(subtotal) + int(tip)
        assert int(subtotal) == lines[invoice_id]
        assert int(tip) == tips[invoice_id]


def test_every_foreign_key_resolves_in_memory() -> None:
    data = generate_all(42, PROFILES["dev"])
    ids = {t: {row[0] for row in rows} for t, rows in data.items()}
    assert {row[1] for row in data["pets"]} <= ids["clients"]
    assert {row[2] for row in data["invoices"]} <= ids["clients"]
    assert {row[3] for row in data["invoices"]} <= ids["pets"]
    assert {row[2] for row in data["invoice_tip_splits"]} <= ids["staff"]
    assert {row[1] for row in data["grooming_visit_logs"]} <= ids["pets"]


def test_text_values_need_no_copy_escaping() -> None:
    for rows in generate_all(42, PROFILES["dev"]).values():
        for row in rows:
            assert not any("\\" in v or "\r" in v for v in row)


DOCUMENTED_DEV_PASSWORD = "groom-dev-only"  # README, "Dev logins"
DOCUMENTED_ITERATIONS = 10_000


def test_staff_password_is_a_salted_pbkdf2_hash_of_the_documented_dev_password() -> None:
    hashed = password_hash(42)
    algorithm, iterations, salt, encoded = hashed.split("$")  # Django's pbkdf2_sha256 format
    assert (algorithm, int(iterations)) == ("pbkdf2_sha256", DOCUMENTED_ITERATIONS)
    expected = hashlib.pbkdf2_hmac("sha256", DOCUMENTED_DEV_PASSWORD.encode(), salt.encode(), DOCUMENTED_ITERATIONS)
    assert base64.b64decode(encoded) == expected
    assert password_hash(42) == hashed  # deterministic
    assert salt and password_hash(43).split("$")[2] != salt  # the salt comes from the seed


@pytest.mark.parametrize("name", sorted(GOLDEN_COPY_SHA256))
def test_golden_copy_bytes_for_seed_42(name: str) -> None:
    assert copy_sha256(42, PROFILES[name]) == GOLDEN_COPY_SHA256[name]
