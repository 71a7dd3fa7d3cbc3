"""Pure row generation: (seed, profile, table, row range) -> COPY text, identical on every machine.

Every table owns a PRNG stream; row i of a table reads only draws (stream, i, 0..15), and a
foreign key is the primary key of another row recomputed from that row's own draws. So any
range of any table can be generated alone, in any order, in any process, with the same bytes.
Tables whose rows depend on a parent (line items, tip splits) are generated per parent range.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from dbtool.seed.columns import Rows, copy_text, dates, draws, pick, text, timestamps, uuids
from dbtool.seed.prng import counter, mulberry32
from dbtool.seed.profiles import GENERATOR_VERSION, Profile  # noqa: F401  (re-exported)

SECONDS_PER_DAY = 86_400

# Streams: one per table, plus one for the password salt. Part of the data contract.
STAFF, SERVICES, CLIENTS, PETS, INVOICES, LINE_ITEMS, TIP_SPLITS, VISITS, SALT = range(9)
MAX_LINES_PER_INVOICE = 3
MAX_SPLITS_PER_INVOICE = 2

DEV_PASSWORD = "groom-dev-only"  # documented in the README; never use outside development
PASSWORD_ITERATIONS = 10_000  # dev data: cheap to compute, still a real PBKDF2 hash
STAFF_LOGINS = ("manager@grooming.test", "reception@grooming.test")  # then groomer1@..., groomer2@...

FIRST_NAMES = (
    "Ava", "Ben", "Chloe", "Dan", "Ella", "Finn", "Grace", "Hugo", "Isla", "Jack", "Kara", "Liam",
    "Maya", "Noah", "Olive", "Paul", "Quinn", "Rosa", "Sam", "Tara", "Umar", "Vera", "Will", "Yara",
    "Zoe", "Aria", "Ezra", "Lena", "Omar", "Nina", "Theo", "Ivy",
)
LAST_NAMES = (
    "Adams", "Brown", "Clark", "Diaz", "Evans", "Fischer", "Garcia", "Hughes", "Ito", "Jones", "Khan",
    "Lopez", "Miller", "Nguyen", "Okafor", "Patel", "Quinn", "Rossi", "Smith", "Tanaka", "Usman",
    "Varga", "Walsh", "Young", "Zhang", "Novak", "Silva", "Berg", "Costa", "Moreau", "Weber", "Kim",
)
PET_NAMES = (
    "Biscuit", "Luna", "Max", "Bella", "Charlie", "Daisy", "Milo", "Coco", "Rocky", "Pepper", "Ziggy",
    "Nala", "Oscar", "Rosie", "Teddy", "Willow", "Bruno", "Maple", "Pixel", "Olive", "Toby", "Mochi",
    "Juniper", "Scout", "Ginger", "Hazel", "Loki", "Poppy", "Waffles", "Sage", "Tofu", "Clover",
)
SPECIES = ("dog",) * 12 + ("cat",) * 6 + ("rabbit", "other")
BREEDS = {
    "dog": ("Poodle", "Labrador", "Shih Tzu", "Cocker Spaniel", "Schnauzer", "Mixed"),
    "cat": ("Persian", "Maine Coon", "Ragdoll", "Domestic Shorthair"),
    "rabbit": ("Lionhead", "Angora", "Rex"),
    "other": ("Guinea pig", "Ferret"),
}
SERVICE_CATALOG = (  # name, minutes, price in cents
    ("Bath and brush", 45, 4500),
    ("Full groom", 90, 8500),
    ("Puppy groom", 60, 5500),
    ("Nail trim", 15, 1500),
    ("Teeth cleaning", 20, 2000),
    ("De-shedding treatment", 60, 6000),
    ("Ear cleaning", 15, 1200),
    ("Flea bath", 45, 5000),
    ("Paw balm", 10, 800),
    ("Cat groom", 75, 7500),
)
PRICES = np.array([price for _, _, price in SERVICE_CATALOG], dtype=np.int64)
STATUSES = ("paid",) * 6 + ("issued",) * 2 + ("draft", "void")
TIP_PERCENTS = np.array([0, 0, 10, 15, 15, 20, 20, 25], dtype=np.int64)
VISIT_NOTES = (
    "Calm throughout, no issues.",
    "Matting behind the ears, worked out gently.",
    "Nervous at first; treats helped.",
    "Nails were long; recommend trims every 4 weeks.",
    "Skin slightly dry; suggested oatmeal shampoo.",
    "Great coat condition.",
    "Owner asked for a shorter cut next time.",
    "Minor tangles on the legs.",
)

Chunk = tuple[str, int]  # (COPY text, rows in it)


@dataclass(frozen=True)
class TableSpec:
    """How to generate one table: columns, how many driver rows, and the pure chunk function."""

    name: str
    columns: tuple[str, ...]
    driver: Callable[[Profile], int]  # rows of the table (or its parent) whose range is chunked
    chunk: Callable[[int, Profile, int, int], Chunk]  # (seed, profile, first, count) -> COPY text


def _rows(first: int, count: int) -> Rows:
    return np.arange(first, first + count, dtype=np.int64)


def _mod(numbers: np.ndarray, n: int) -> np.ndarray:
    return (numbers % np.uint64(n)).astype(np.int64)


@lru_cache(maxsize=8)
def password_hash(seed: int) -> str:
    """PBKDF2-SHA256 hash of DEV_PASSWORD in Django's format, salted from the seed."""
    salt = "".join(f"{mulberry32(seed, counter(SALT, 0, f)):08x}" for f in range(2))
    digest = hashlib.pbkdf2_hmac("sha256", DEV_PASSWORD.encode(), salt.encode(), PASSWORD_ITERATIONS)
    return f"pbkdf2_sha256${PASSWORD_ITERATIONS}${salt}${base64.b64encode(digest).decode()}"


def groomers(profile: Profile, numbers: np.ndarray) -> Rows:
    """Staff rows 0 and 1 are the manager and the receptionist; every later row is a groomer."""
    return 2 + _mod(numbers, profile.staff - 2)


def pet_owners(seed: int, profile: Profile, pets: Rows) -> Rows:
    """Client owning each pet: the first pets give every client one, the rest are drawn."""
    return np.where(pets < profile.clients, pets, _mod(draws(seed, PETS, pets, 4), profile.clients))


def invoice_pets(seed: int, profile: Profile, invoices: Rows) -> Rows:
    return _mod(draws(seed, INVOICES, invoices, 6), profile.pets)


def invoice_seconds(seed: int, profile: Profile, invoices: Rows) -> np.ndarray:
    return _mod(draws(seed, INVOICES, invoices, 7), profile.days * SECONDS_PER_DAY)


@dataclass(frozen=True)
class Lines:
    """The line slots of a range of invoices: shape (invoices, MAX_LINES_PER_INVOICE)."""

    present: np.ndarray  # bool: slot j < the invoice's number of lines
    service: np.ndarray
    quantity: np.ndarray
    slot_rows: np.ndarray  # row number of each slot in the line-item stream

    @property
    def amount(self) -> np.ndarray:
        return np.where(self.present, PRICES[self.service % len(PRICES)] * self.quantity, 0)


def invoice_lines(seed: int, profile: Profile, invoices: Rows) -> Lines:
    n = 1 + _mod(draws(seed, INVOICES, invoices, 4), MAX_LINES_PER_INVOICE)
    slot_rows = invoices[:, None] * MAX_LINES_PER_INVOICE + np.arange(MAX_LINES_PER_INVOICE)[None, :]
    flat = slot_rows.ravel()
    service = _mod(draws(seed, LINE_ITEMS, flat, 4), profile.services).reshape(slot_rows.shape)
    quantity = (1 + (_mod(draws(seed, LINE_ITEMS, flat, 5), 4) == 0)).reshape(slot_rows.shape)
    present = np.arange(MAX_LINES_PER_INVOICE)[None, :] < n[:, None]
    return Lines(present, service, quantity.astype(np.int64), slot_rows)


def invoice_amounts(seed: int, profile: Profile, invoices: Rows) -> tuple[np.ndarray, np.ndarray]:
    """(subtotal, tip) in cents per invoice: the sum of its lines, and a drawn percentage of that."""
    subtotal = invoice_lines(seed, profile, invoices).amount.sum(axis=1)
    percent = TIP_PERCENTS[_mod(draws(seed, INVOICES, invoices, 5), len(TIP_PERCENTS))]
    return subtotal, subtotal * percent // 100


def staff_chunk(seed: int, profile: Profile, first: int, count: int) -> Chunk:
    rows = _rows(first, count)
    roles = ["manager", "receptionist"] + ["groomer"] * max(0, first + count - 2)
    emails = [STAFF_LOGINS[i] if i < len(STAFF_LOGINS) else f"groomer{i - 1}@grooming.test" for i in rows.tolist()]
    names = [f"{g} {f}" for g, f in zip(pick(FIRST_NAMES, draws(seed, STAFF, rows, 4)), pick(LAST_NAMES, draws(seed, STAFF, rows, 5)))]
    hired = dates(-30 - _mod(draws(seed, STAFF, rows, 6), 1500))
    columns = [uuids(seed, STAFF, rows), names, emails, roles[first : first + count], [password_hash(seed)] * count, hired]
    return copy_text(columns), count


def service_chunk(seed: int, profile: Profile, first: int, count: int) -> Chunk:
    rows = _rows(first, count)
    size = len(SERVICE_CATALOG)
    names = [
        SERVICE_CATALOG[i % size][0] + (f" #{i // size + 1}" if i >= size else "") for i in rows.tolist()
    ]
    minutes = [str(SERVICE_CATALOG[i % size][1]) for i in rows.tolist()]
    prices = [str(SERVICE_CATALOG[i % size][2]) for i in rows.tolist()]
    return copy_text([uuids(seed, SERVICES, rows), names, minutes, prices]), count


def client_chunk(seed: int, profile: Profile, first: int, count: int) -> Chunk:
    rows = _rows(first, count)
    given = pick(FIRST_NAMES, draws(seed, CLIENTS, rows, 4))
    family = pick(LAST_NAMES, draws(seed, CLIENTS, rows, 5))
    names = [f"{g} {f}" for g, f in zip(given, family)]
    emails = [f"{g}.{f}.{i}@example.test".lower() for g, f, i in zip(given, family, rows.tolist())]
    phones = [f"+1-555-{p:04d}" for p in _mod(draws(seed, CLIENTS, rows, 6), 10_000).tolist()]
    created = timestamps(-_mod(draws(seed, CLIENTS, rows, 7), 365 * SECONDS_PER_DAY))
    return copy_text([uuids(seed, CLIENTS, rows), names, emails, phones, created]), count


def pet_chunk(seed: int, profile: Profile, first: int, count: int) -> Chunk:
    rows = _rows(first, count)
    species = pick(SPECIES, draws(seed, PETS, rows, 5))
    breed_draws = draws(seed, PETS, rows, 7).tolist()
    breeds = [BREEDS[s][d % len(BREEDS[s])] for s, d in zip(species, breed_draws)]
    owners = uuids(seed, CLIENTS, pet_owners(seed, profile, rows))
    born = dates(-_mod(draws(seed, PETS, rows, 8), 5000) - 60)
    names = pick(PET_NAMES, draws(seed, PETS, rows, 6))
    return copy_text([uuids(seed, PETS, rows), owners, names, species, breeds, born]), count


def invoice_chunk(seed: int, profile: Profile, first: int, count: int) -> Chunk:
    rows = _rows(first, count)
    pets = invoice_pets(seed, profile, rows)
    subtotal, tip = invoice_amounts(seed, profile, rows)
    columns = [
        uuids(seed, INVOICES, rows),
        text(rows + 1),
        uuids(seed, CLIENTS, pet_owners(seed, profile, pets)),
        uuids(seed, PETS, pets),
        pick(STATUSES, draws(seed, INVOICES, rows, 8)),
        timestamps(invoice_seconds(seed, profile, rows)),
        text(subtotal),
        text(tip),
        text(subtotal + tip),
    ]
    return copy_text(columns), count


def line_item_chunk(seed: int, profile: Profile, first: int, count: int) -> Chunk:
    invoices = _rows(first, count)
    lines = invoice_lines(seed, profile, invoices)
    present = lines.present.ravel()
    service = lines.service.ravel()[present]
    parent = np.repeat(invoices, MAX_LINES_PER_INVOICE)[present]
    columns = [
        uuids(seed, LINE_ITEMS, lines.slot_rows.ravel()[present]),
        uuids(seed, INVOICES, parent),
        uuids(seed, SERVICES, service),
        text(lines.quantity.ravel()[present]),
        text(PRICES[service % len(PRICES)]),
    ]
    return copy_text(columns), len(parent)


def tip_split_chunk(seed: int, profile: Profile, first: int, count: int) -> Chunk:
    invoices = _rows(first, count)
    _, tip = invoice_amounts(seed, profile, invoices)
    base = invoices * MAX_SPLITS_PER_INVOICE
    first_groomer = groomers(profile, draws(seed, TIP_SPLITS, base, 4))
    shared = (tip >= 2) & (_mod(draws(seed, TIP_SPLITS, base, 5), 2) == 1) & (profile.staff > 3)
    offset = _mod(draws(seed, TIP_SPLITS, base, 6), max(profile.staff - 3, 1))
    second_groomer = 2 + (first_groomer - 2 + 1 + offset) % (profile.staff - 2)
    amounts = np.stack([np.where(shared, tip - tip // 2, tip), np.where(shared, tip // 2, 0)], axis=1)
    staff = np.stack([first_groomer, second_groomer], axis=1)
    present = np.stack([tip > 0, shared], axis=1).ravel()
    slots = (base[:, None] + np.arange(MAX_SPLITS_PER_INVOICE)[None, :]).ravel()[present]
    parent = np.repeat(invoices, MAX_SPLITS_PER_INVOICE)[present]
    columns = [
        uuids(seed, TIP_SPLITS, slots),
        uuids(seed, INVOICES, parent),
        uuids(seed, STAFF, staff.ravel()[present]),
        text(amounts.ravel()[present]),
    ]
    return copy_text(columns), len(parent)


def visit_chunk(seed: int, profile: Profile, first: int, count: int) -> Chunk:
    rows = _rows(first, count)
    invoices = rows % profile.invoices
    columns = [
        uuids(seed, VISITS, rows),
        uuids(seed, PETS, invoice_pets(seed, profile, invoices)),
        uuids(seed, STAFF, groomers(profile, draws(seed, VISITS, rows, 5))),
        uuids(seed, INVOICES, invoices),
        timestamps(invoice_seconds(seed, profile, invoices)),
        text(15 * (1 + _mod(draws(seed, VISITS, rows, 4), 8))),
        pick(VISIT_NOTES, draws(seed, VISITS, rows, 6)),
    ]
    return copy_text(columns), count


# In foreign-key order: loading in this order satisfies every constraint.
TABLE_SPECS: tuple[TableSpec, ...] = (
    TableSpec("staff", ("id", "full_name", "email", "role", "password_hash", "hired_on"), lambda p: p.staff, staff_chunk),
    TableSpec("services", ("id", "name", "duration_minutes", "price_cents"), lambda p: p.services, service_chunk),
    TableSpec("clients", ("id", "full_name", "email", "phone", "created_at"), lambda p: p.clients, client_chunk),
    TableSpec("pets", ("id", "client_id", "name", "species", "breed", "born_on"), lambda p: p.pets, pet_chunk),
    TableSpec(
        "invoices",
        ("id", "number", "client_id", "pet_id", "status", "issued_at", "subtotal_cents", "tip_cents", "total_cents"),
        lambda p: p.invoices,
        invoice_chunk,
    ),
    TableSpec(
        "invoice_line_items",
        ("id", "invoice_id", "service_id", "quantity", "unit_price_cents"),
        lambda p: p.invoices,
        line_item_chunk,
    ),
    TableSpec("invoice_tip_splits", ("id", "invoice_id", "staff_id", "amount_cents"), lambda p: p.invoices, tip_split_chunk),
    TableSpec(
        "grooming_visit_logs",
        ("id", "pet_id", "staff_id", "invoice_id", "visited_at", "duration_minutes", "notes"),
        lambda p: p.visits,
        visit_chunk,
    ),
)


def generate_chunk(table: int, seed: int, profile: Profile, first: int, count: int) -> Chunk:
    """COPY text for driver rows [first, first + count) of TABLE_SPECS[table] (picklable for workers)."""
    return TABLE_SPECS[table].chunk(seed, profile, first, count)


def chunks(total: int, size: int) -> Iterator[tuple[int, int]]:
    """Split driver rows [0, total) into (first, count) ranges of at most `size`."""
    for first in range(0, total, size):
        yield first, min(size, total - first)
