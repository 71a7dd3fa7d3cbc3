"""Seed hooks of the example app (a grooming salon), named by dbtool.toml beside this file.

Each hook receives a `dbtool.seed.hooks.Rows` and returns the columns its table cannot get from
the schema alone; every other column keeps dbtool's automatic rule. Everything is vectorized
and keyed by (seed, table, purpose, row), so any chunk of any table can be made alone.

Invariants: staff row 0 is the manager, row 1 the receptionist, the others groomers; every
client owns a pet; an invoice's client owns its pet; subtotal = sum of quantity x unit price of
its line items (1 to 3); tip = a share of the subtotal, split between one or two groomers;
total = subtotal + tip (the schema's CHECK, which dbtool derives by itself); each visit log
follows one invoice (same pet, same time).
"""

from __future__ import annotations

import base64
import hashlib
from functools import lru_cache
from typing import Any

import numpy as np

DEV_PASSWORD = "groom-dev-only"  # documented in the README; never use outside development
PASSWORD_ITERATIONS = 10_000  # dev data: cheap to compute, still a real PBKDF2 hash
STAFF_LOGINS = ("manager@grooming.test", "reception@grooming.test")  # then groomer1@..., groomer2@...
LINES_PER_INVOICE = 3  # slots per invoice: dbtool.toml counts line items "3 per invoices"
SPLITS_PER_INVOICE = 2  # and tip splits "2 per invoices"
EPOCH_DAY = np.datetime64("2026-01-01", "D")

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
NAMES = np.array([name for name, _, _ in SERVICE_CATALOG], dtype=object)
MINUTES = np.array([minutes for _, minutes, _ in SERVICE_CATALOG], dtype=np.int64)
PRICES = np.array([price for _, _, price in SERVICE_CATALOG], dtype=np.int64)
TIP_PERCENTS = np.array([0, 0, 10, 15, 15, 20, 20, 25], dtype=np.int64)

Columns = dict[str, Any]


@lru_cache(maxsize=8)
def password_hash(seed: int, salt_draws: tuple[int, ...]) -> str:
    """PBKDF2-SHA256 of DEV_PASSWORD in Django's format; one hash for all staff of a seed."""
    salt = "".join(f"{d:08x}" for d in salt_draws)
    digest = hashlib.pbkdf2_hmac("sha256", DEV_PASSWORD.encode(), salt.encode(), PASSWORD_ITERATIONS)
    return f"pbkdf2_sha256${PASSWORD_ITERATIONS}${salt}${base64.b64encode(digest).decode()}"


def _groomers(rows: Any, purpose: str, at: np.ndarray | None = None) -> np.ndarray:
    """Staff rows of groomers (2 onwards), one per row."""
    return 2 + rows.integers(purpose, 0, rows.count("staff") - 3, at)


@lru_cache(maxsize=4)
def _service_names(count: int) -> np.ndarray:
    """The catalog's names, repeated as "Full groom #2", ... past its end (load --scale N)."""
    size = len(SERVICE_CATALOG)
    return np.array([NAMES[k % size] + (f" #{k // size + 1}" if k >= size else "") for k in range(count)], dtype=object)


def staff(rows: Any) -> Columns:
    i = rows.index
    salt = tuple(int(d) for d in rows.draws("salt", at=np.arange(2)))
    return {
        "role": np.where(i == 0, "manager", np.where(i == 1, "receptionist", "groomer")),
        "email": [STAFF_LOGINS[k] if k < len(STAFF_LOGINS) else f"groomer{k - 1}@grooming.test" for k in i.tolist()],
        "password_hash": [password_hash(rows.seed, salt)] * len(rows),
        "hired_on": EPOCH_DAY - (30 + rows.integers("hired", 0, 1499)).astype("timedelta64[D]"),
    }


def services(rows: Any) -> Columns:
    i, size = rows.index, len(SERVICE_CATALOG)
    return {
        "name": _service_names(rows.count("services"))[i],
        "duration_minutes": MINUTES[i % size],
        "price_cents": PRICES[i % size],
    }


def pets(rows: Any) -> Columns:
    clients = rows.count("clients")
    owners = np.where(rows.index < clients, rows.index, rows.integers("owner", 0, max(clients - 1, 0)))
    species = rows.choice(SPECIES, "species")
    breeds, draws = np.empty(len(rows), dtype=object), rows.draws("breed")
    for kind, options in BREEDS.items():
        mine = species == kind
        breeds[mine] = np.array(options, dtype=object)[(draws[mine] % np.uint64(len(options))).astype(np.int64)]
    return {
        "client_id": rows.values("id", "clients", owners),  # the first pets give every client one
        "name": rows.choice(PET_NAMES, "name"),
        "species": species,
        "breed": breeds,
        "born_on": EPOCH_DAY - (60 + rows.integers("born", 0, 4999)).astype("timedelta64[D]"),
    }


def invoices(rows: Any) -> Columns:
    pet = rows.integers("pet", 0, rows.count("pets") - 1)
    slots = (rows.index[:, None] * LINES_PER_INVOICE + np.arange(LINES_PER_INVOICE)).ravel()
    amounts = rows.values("quantity", "invoice_line_items", slots) * rows.values("unit_price_cents", "invoice_line_items", slots)
    subtotal = np.where(rows.present("invoice_line_items", slots), amounts, 0).reshape(-1, LINES_PER_INVOICE).sum(axis=1)
    percent = TIP_PERCENTS[rows.integers("tip", 0, len(TIP_PERCENTS) - 1)]
    return {
        "pet_id": rows.values("id", "pets", pet),
        "client_id": rows.values("client_id", "pets", pet),  # the pet's owner
        "subtotal_cents": subtotal.astype(np.int64),
        "tip_cents": (subtotal * percent // 100).astype(np.int64),
    }


def line_items(rows: Any) -> tuple[Columns, np.ndarray]:
    invoice, slot = rows.index // LINES_PER_INVOICE, rows.index % LINES_PER_INVOICE
    lines = 1 + rows.integers("lines", 0, LINES_PER_INVOICE - 1, at=invoice)
    service = rows.integers("service", 0, rows.count("services") - 1)
    return {
        "service_id": rows.values("id", "services", service),
        "quantity": 1 + (rows.integers("quantity", 0, 3) == 0).astype(np.int64),
        "unit_price_cents": rows.values("price_cents", "services", service),
    }, slot < lines


def tip_splits(rows: Any) -> tuple[Columns, np.ndarray]:
    invoice, slot = rows.index // SPLITS_PER_INVOICE, rows.index % SPLITS_PER_INVOICE
    tip = rows.values("tip_cents", "invoices", invoice).astype(np.int64)
    groomers = rows.count("staff") - 2
    first = _groomers(rows, "groomer", invoice)
    shared = (tip >= 2) & (rows.integers("shared", 0, 1, at=invoice) == 1) & (groomers > 1)
    second = 2 + (first - 2 + 1 + rows.integers("other", 0, max(groomers - 2, 0), at=invoice)) % groomers
    return {
        "staff_id": rows.values("id", "staff", np.where(slot == 0, first, second)),
        "amount_cents": np.where(slot == 0, np.where(shared, tip - tip // 2, tip), tip // 2),
    }, np.where(slot == 0, tip > 0, shared)


def visits(rows: Any) -> Columns:
    invoice = rows.index % rows.count("invoices")
    return {
        "invoice_id": rows.values("id", "invoices", invoice),
        "pet_id": rows.values("pet_id", "invoices", invoice),
        "staff_id": rows.values("id", "staff", _groomers(rows, "groomer")),
        "visited_at": rows.values("issued_at", "invoices", invoice),
    }
