"""The scalar reference generator (the first, loop-per-row implementation), kept as a test oracle.

Pure row generation: (seed, profile, table, row range) -> row tuples, identical on every machine.

Every table owns a PRNG stream; row i of a table reads only draws (stream, i, 0..15), and a
foreign key is the primary key of another row recomputed from that row's own draws. So any
range of any table can be generated alone, in any order, with the same result.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

from dbtool.seed.prng import counter, mulberry32, uuid_from_words
from dbtool.seed.profiles import Profile

EPOCH = datetime(2026, 1, 1, tzinfo=timezone.utc)
EPOCH_DATE = EPOCH.date()
SECONDS_PER_DAY = 86_400

# Streams: one per table, plus one for the password salt. Part of the data contract.
STAFF, SERVICES, CLIENTS, PETS, INVOICES, LINE_ITEMS, TIP_SPLITS, VISITS, SALT = range(9)
MAX_LINES_PER_INVOICE = 3
MAX_SPLITS_PER_INVOICE = 2


# The data lists are shared with the generator; only the algorithm here is independent.
from dbtool.seed.generate import (  # noqa: E402
    STAFF_LOGINS,
    password_hash,
    BREEDS,
    FIRST_NAMES,
    LAST_NAMES,
    PET_NAMES,
    SERVICE_CATALOG,
    SPECIES,
    STATUSES,
    VISIT_NOTES,
)

TIP_PERCENTS = (0, 0, 10, 15, 15, 20, 20, 25)


class RowDraws:
    """The draws owned by one row: `draws[f]` is field f's 32-bit number."""

    __slots__ = ("_seed", "_base")

    def __init__(self, seed: int, stream: int, row: int) -> None:
        self._seed = seed
        self._base = counter(stream, row, 0)

    def __getitem__(self, field: int) -> int:
        return mulberry32(self._seed, self._base + field)

    def pick(self, field: int, choices: tuple | list):  # type: ignore[type-arg]
        """Choose one of `choices` with field's draw."""
        return choices[self[field] % len(choices)]

    def uuid(self) -> str:
        """Return a version-8 UUID made of fields 0-3 (every row's primary key)."""
        return uuid_from_words(self[0], self[1], self[2], self[3])


@dataclass(frozen=True)
class TableSpec:
    """How to generate one table: columns, how many driver rows, and the pure row function."""

    name: str
    columns: tuple[str, ...]
    driver: Callable[[Profile], int]  # rows of the table whose range is chunked
    rows: Callable[[int, Profile, int, int], Iterator[tuple]]  # type: ignore[type-arg]


def uuid_of(seed: int, stream: int, row: int) -> str:
    """Primary key of row `row` of the table on `stream`."""
    base = counter(stream, row, 0)
    return uuid_from_words(*(mulberry32(seed, base + f) for f in range(4)))


def _ts(seconds: int) -> str:
    return (EPOCH + timedelta(seconds=seconds)).isoformat(sep=" ")


def _day(days: int) -> str:
    return (EPOCH_DATE + timedelta(days=days)).isoformat()


def groomer_index(profile: Profile, draw: int) -> int:
    """Staff rows 0 and 1 are the manager and the receptionist; every later row is a groomer."""
    return 2 + draw % (profile.staff - 2)


def staff_rows(seed: int, profile: Profile, first: int, count: int) -> Iterator[tuple]:  # type: ignore[type-arg]
    hashed = password_hash(seed)
    for i in range(first, first + count):
        d = RowDraws(seed, STAFF, i)
        if i < len(STAFF_LOGINS):
            role, email = ("manager", "receptionist")[i], STAFF_LOGINS[i]
        else:
            role, email = "groomer", f"groomer{i - 1}@grooming.test"
        name = f"{d.pick(4, FIRST_NAMES)} {d.pick(5, LAST_NAMES)}"
        yield (d.uuid(), name, email, role, hashed, _day(-30 - d[6] % 1500))


def service_rows(seed: int, profile: Profile, first: int, count: int) -> Iterator[tuple]:  # type: ignore[type-arg]
    for i in range(first, first + count):
        name, minutes, price = SERVICE_CATALOG[i % len(SERVICE_CATALOG)]
        if i >= len(SERVICE_CATALOG):
            name = f"{name} #{i // len(SERVICE_CATALOG) + 1}"
        yield (uuid_of(seed, SERVICES, i), name, minutes, price)


def client_rows(seed: int, profile: Profile, first: int, count: int) -> Iterator[tuple]:  # type: ignore[type-arg]
    for i in range(first, first + count):
        d = RowDraws(seed, CLIENTS, i)
        given, family = d.pick(4, FIRST_NAMES), d.pick(5, LAST_NAMES)
        email = f"{given}.{family}.{i}@example.test".lower()
        phone = f"+1-555-{d[6] % 10_000:04d}"
        created = -(d[7] % (365 * SECONDS_PER_DAY))
        yield (d.uuid(), f"{given} {family}", email, phone, _ts(created))


def pet_owner(seed: int, profile: Profile, pet: int) -> int:
    """Client index owning pet `pet`: the first pets give every client one, the rest are drawn."""
    if pet < profile.clients:
        return pet
    return mulberry32(seed, counter(PETS, pet, 4)) % profile.clients


def pet_rows(seed: int, profile: Profile, first: int, count: int) -> Iterator[tuple]:  # type: ignore[type-arg]
    for i in range(first, first + count):
        d = RowDraws(seed, PETS, i)
        species = d.pick(5, SPECIES)
        owner = uuid_of(seed, CLIENTS, pet_owner(seed, profile, i))
        yield (d.uuid(), owner, d.pick(6, PET_NAMES), species, d.pick(7, BREEDS[species]), _day(-(d[8] % 5000) - 60))


def invoice_lines(seed: int, profile: Profile, invoice: int) -> list[tuple[int, int]]:
    """(service index, quantity) for each line of invoice `invoice`."""
    n = 1 + mulberry32(seed, counter(INVOICES, invoice, 4)) % MAX_LINES_PER_INVOICE
    lines = []
    for j in range(n):
        d = RowDraws(seed, LINE_ITEMS, invoice * MAX_LINES_PER_INVOICE + j)
        lines.append((d[4] % profile.services, 1 + (d[5] % 4 == 0)))
    return lines


def _price(service: int) -> int:
    return SERVICE_CATALOG[service % len(SERVICE_CATALOG)][2]


def invoice_amounts(seed: int, profile: Profile, invoice: int) -> tuple[int, int]:
    """(subtotal, tip) in cents: subtotal is the sum of the lines, tip a drawn percentage of it."""
    subtotal = sum(_price(s) * q for s, q in invoice_lines(seed, profile, invoice))
    tip_percent = TIP_PERCENTS[mulberry32(seed, counter(INVOICES, invoice, 5)) % len(TIP_PERCENTS)]
    return subtotal, subtotal * tip_percent // 100


def invoice_pet(seed: int, profile: Profile, invoice: int) -> int:
    """Pet index the invoice is for (its client is that pet's owner)."""
    return mulberry32(seed, counter(INVOICES, invoice, 6)) % profile.pets


def invoice_seconds(seed: int, profile: Profile, invoice: int) -> int:
    """Seconds after the epoch at which the invoice was issued."""
    return mulberry32(seed, counter(INVOICES, invoice, 7)) % (profile.days * SECONDS_PER_DAY)


def invoice_rows(seed: int, profile: Profile, first: int, count: int) -> Iterator[tuple]:  # type: ignore[type-arg]
    for i in range(first, first + count):
        d = RowDraws(seed, INVOICES, i)
        pet = invoice_pet(seed, profile, i)
        client = uuid_of(seed, CLIENTS, pet_owner(seed, profile, pet))
        subtotal, tip = invoice_amounts(seed, profile, i)
        status = d.pick(8, STATUSES)
        yield (d.uuid(), i + 1, client, uuid_of(seed, PETS, pet), status, _ts(invoice_seconds(seed, profile, i)),
               subtotal, tip, subtotal + tip)


def line_item_rows(seed: int, profile: Profile, first: int, count: int) -> Iterator[tuple]:  # type: ignore[type-arg]
    for i in range(first, first + count):
        invoice_id = uuid_of(seed, INVOICES, i)
        for j, (service, quantity) in enumerate(invoice_lines(seed, profile, i)):
            row = i * MAX_LINES_PER_INVOICE + j
            yield (uuid_of(seed, LINE_ITEMS, row), invoice_id, uuid_of(seed, SERVICES, service), quantity, _price(service))


def tip_split_rows(seed: int, profile: Profile, first: int, count: int) -> Iterator[tuple]:  # type: ignore[type-arg]
    for i in range(first, first + count):
        _, tip = invoice_amounts(seed, profile, i)
        if tip == 0:
            continue
        invoice_id = uuid_of(seed, INVOICES, i)
        d = RowDraws(seed, TIP_SPLITS, i * MAX_SPLITS_PER_INVOICE)
        first_groomer = groomer_index(profile, d[4])
        if tip >= 2 and d[5] % 2 and profile.staff > 3:
            second = 2 + (first_groomer - 2 + 1 + d[6] % (profile.staff - 3)) % (profile.staff - 2)
            shares = [(first_groomer, tip - tip // 2), (second, tip // 2)]
        else:
            shares = [(first_groomer, tip)]
        for j, (groomer, amount) in enumerate(shares):
            row = i * MAX_SPLITS_PER_INVOICE + j
            yield (uuid_of(seed, TIP_SPLITS, row), invoice_id, uuid_of(seed, STAFF, groomer), amount)


def visit_rows(seed: int, profile: Profile, first: int, count: int) -> Iterator[tuple]:  # type: ignore[type-arg]
    for i in range(first, first + count):
        d = RowDraws(seed, VISITS, i)
        invoice = i % profile.invoices
        pet = invoice_pet(seed, profile, invoice)
        minutes = 15 * (1 + d[4] % 8)
        yield (d.uuid(), uuid_of(seed, PETS, pet), uuid_of(seed, STAFF, groomer_index(profile, d[5])),
               uuid_of(seed, INVOICES, invoice), _ts(invoice_seconds(seed, profile, invoice)), minutes,
               d.pick(6, VISIT_NOTES))


# Same tables, columns and drivers as the generator, with the scalar row functions.
from dbtool.seed.generate import TABLE_SPECS as _VECTORIZED  # noqa: E402

TABLE_SPECS: tuple[TableSpec, ...] = tuple(
    TableSpec(spec.name, spec.columns, spec.driver, rows)
    for spec, rows in zip(
        _VECTORIZED,
        (staff_rows, service_rows, client_rows, pet_rows, invoice_rows, line_item_rows, tip_split_rows, visit_rows),
    )
)


def chunks(total: int, size: int) -> Iterator[tuple[int, int]]:
    """Split driver rows [0, total) into (first, count) ranges of at most `size`."""
    for first in range(0, total, size):
        yield first, min(size, total - first)
