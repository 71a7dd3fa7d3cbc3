"""The example app's hooks (migrations/salon_seed.py) and how hook values become COPY text: no database."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import importlib.util

import numpy as np

from dbtool.seed.evaluate import hook_text
from dbtool.settings.project import EXAMPLE_DIR

DOCUMENTED_DEV_PASSWORD = "groom-dev-only"  # docs/explanation/seed-data.md, "Dev logins"
DOCUMENTED_ITERATIONS = 10_000


def _salon_seed():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("salon_seed_under_test", EXAMPLE_DIR / "salon_seed.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_staff_password_is_a_salted_pbkdf2_hash_of_the_documented_dev_password() -> None:
    salon = _salon_seed()
    hashed = salon.password_hash(42, (1, 2))
    algorithm, iterations, salt, encoded = hashed.split("$")  # Django's pbkdf2_sha256 format
    assert (algorithm, int(iterations)) == ("pbkdf2_sha256", DOCUMENTED_ITERATIONS)
    expected = hashlib.pbkdf2_hmac("sha256", DOCUMENTED_DEV_PASSWORD.encode(), salt.encode(), DOCUMENTED_ITERATIONS)
    assert base64.b64decode(encoded) == expected
    assert salt == "0000000100000002" and salon.password_hash(42, (3, 4)).split("$")[2] != salt


def test_hook_values_become_copy_text() -> None:
    assert hook_text(np.array([1, -2])) == ["1", "-2"]
    assert hook_text(np.array([True, False])) == ["t", "f"]
    assert hook_text(np.array(["2026-01-02T03:04:05"], dtype="datetime64[s]"), timezone=True) == ["2026-01-02T03:04:05Z"]
    assert hook_text(np.array(["2026-01-02", "NaT"], dtype="datetime64[D]"), timezone=True) == ["2026-01-02", "\\N"]
    assert hook_text([None, "a\tb", dt.date(2026, 1, 2), 1.5]) == ["\\N", "a\\tb", "2026-01-02", "1.5"]
