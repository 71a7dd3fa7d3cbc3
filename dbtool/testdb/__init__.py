"""Databases for tests: templates, clones, the pytest plugin."""
