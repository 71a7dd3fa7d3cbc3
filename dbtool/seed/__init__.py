"""Deterministic seed data: a pure core (prng, checks, domains, plan, rules, evaluate), a project's
profiles and hooks, and the COPY loader."""
