"""Deterministic seed data: a pure core (prng, profiles, generate) and the COPY loader."""
