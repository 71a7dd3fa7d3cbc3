"""Named seed profiles: how many rows of each table, as plain data."""

from __future__ import annotations

from dataclasses import dataclass

# Bump whenever the same (seed, profile, scale) would produce different rows: it is recorded in
# dbtool_meta and hashed into the digest, so old and new data are never mistaken for each other.
GENERATOR_VERSION = 1
MAX_SCALE = 5_000  # keeps every table inside its 2**24-row slice of the PRNG counter space
TABLES = (
    "staff",
    "services",
    "clients",
    "pets",
    "invoices",
    "invoice_line_items",
    "invoice_tip_splits",
    "grooming_visit_logs",
)


# Rows per table for a project without a generator of its own (any team's schema): what the
# profile names mean everywhere. `load` is multiplied by --scale.
GENERIC_ROWS = {"ci": 10, "dev": 100, "demo": 1000, "load": 1000}


def generic_rows(profile: str, scale: int) -> int:
    """Rows per table of a generated schema for `profile` at `scale`."""
    return GENERIC_ROWS[profile] * scale


@dataclass(frozen=True)
class Profile:
    """Row counts for the tables whose size is chosen; dependent tables follow from the data."""

    name: str
    description: str
    staff: int
    clients: int
    pets: int
    invoices: int
    visits: int
    days: int  # invoices and visits spread over this many days after the epoch
    services: int = 10  # the catalog does not grow with scale

    def scaled(self, scale: int) -> Profile:
        """Return this profile with every scalable count multiplied by `scale`."""
        if scale == 1:
            return self
        return Profile(
            name=self.name,
            description=self.description,
            staff=self.staff * scale,
            clients=self.clients * scale,
            pets=self.pets * scale,
            invoices=self.invoices * scale,
            visits=self.visits * scale,
            days=self.days,
            services=self.services,
        )


PROFILES: dict[str, Profile] = {
    p.name: p
    for p in (
        Profile("ci", "small set for fast tests", staff=4, clients=10, pets=18, invoices=50, visits=50, days=30),
        Profile("dev", "local development (default)", staff=4, clients=100, pets=176, invoices=1000, visits=1000, days=90),
        Profile("demo", "4x dev spread over a year", staff=8, clients=400, pets=704, invoices=4000, visits=4000, days=365),
        Profile("load", "dev counts over a year; use with --scale N", staff=4, clients=100, pets=176, invoices=1000, visits=1000, days=365),
    )
}
