"""Database URLs and libpq key=value strings: read by libpq's own parser, shown without their password."""

from __future__ import annotations

import io
import logging
import sys

import pytest
from psycopg.conninfo import conninfo_to_dict

from dbtool import redact
from dbtool.errors import ConfigError
from dbtool.settings.config import Settings
from dbtool.settings.urls import mask_url, parse_target

SECRET = "Mask-S3cret"


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (f"host=db dbname=app user=u password={SECRET}", "u@db:5432/app"),
        (f"host=db port=6543 dbname=app user=u password='{SECRET} x'", "u@db:6543/app"),
        (f"postgresql://u:ab#{SECRET}@db:5432/app", "u@db:5432/app"),
        (f"postgresql://u:ab?{SECRET}@db:5432/app?sslmode=require", "u@db:5432/app"),
        (f"postgresql://u:{SECRET}@h1:5432,h2:5433/app", "u@h1:5432,h2:5433/app"),
        (f"postgresql+psycopg://u:{SECRET}@db/app", "u@db:5432/app"),
        (f"postgresql+psycopg2://u:{SECRET}@db/app", "u@db:5432/app"),
        (f"postgresql://u@db/app?password={SECRET}", "u@db:5432/app"),
    ],
)
def test_every_libpq_form_is_accepted_and_shown_without_its_password(url: str, shown: str) -> None:
    assert str(parse_target(url)) == shown
    masked = mask_url(url)
    assert SECRET not in masked and "***" in masked, masked
    settings = Settings.from_options(database_url=url)
    assert str(settings.target) == shown
    # What the run connects with is the same connection libpq reads from the input.
    assert conninfo_to_dict(settings.database_url or "") == conninfo_to_dict(url.replace("+psycopg2", "").replace("+psycopg", ""))


@pytest.mark.parametrize(
    "url",
    [
        f"postgresql://u:ab/{SECRET}@db:5432/app",  # an unencoded '/': libpq reads a port and a database name
        f"postgresql://u:ab@{SECRET}@db:5432/app",  # an unencoded '@'
        f"postgresql://u:{SECRET}%zz@db/app",  # a bad percent escape: libpq quotes the token
        f"host=db password={SECRET} garbage",
        f"host=db password={SECRET} frobnicate=1",
        f"mysql://u:{SECRET}@db/app",
        f"postgresql://u:{SECRET}@db:notaport/app",
        f"postgresql://u:{SECRET}@db/app?sslmode=bogus",
        f"password={SECRET} dbname=app",  # no host
    ],
)
def test_a_bad_url_is_refused_without_showing_its_password(url: str) -> None:
    with pytest.raises(ConfigError) as caught:
        Settings.from_options(database_url=url)
    message = str(caught.value)
    assert SECRET not in message and "ab/" not in message and "\n" not in message, message
    assert caught.value.exit_code == 2
    assert SECRET not in mask_url(url)


def test_a_password_with_a_slash_is_told_to_be_percent_encoded() -> None:
    with pytest.raises(ConfigError, match="%2F"):
        parse_target("postgresql://u:ab/cd@db:5432/app")


def test_the_log_filter_masks_key_value_passwords_and_urls_with_reserved_characters() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    logger = logging.getLogger("test_conninfo_masking")
    logger.addHandler(handler)
    redact.install(logger)
    try:
        redact.remember(f"host=db dbname=app user=u password={SECRET}")
        logger.warning("connecting with %s", f"user=u password={SECRET} host=db")
        logger.warning("opening %s", "postgresql://u:ab#cd?ef@db:5432/app")
        logger.warning("opening %s", f"postgresql+psycopg://u:{SECRET}@db/app")
    finally:
        logger.removeHandler(handler)
    logged = stream.getvalue()
    assert SECRET not in logged and "ab#cd?ef" not in logged and "cd?ef" not in logged, logged
    assert "u@db:5432/app" in logged


def test_no_container_packages_is_said_plainly(monkeypatch: pytest.MonkeyPatch) -> None:
    from contextlib import ExitStack

    from dbtool.servers.lookup import NoServer, container_server

    monkeypatch.setitem(sys.modules, "docker", None)  # import docker -> ImportError, as when it is not installed
    with ExitStack() as stack, pytest.raises(NoServer) as caught:
        container_server(stack)
    message = str(caught.value)
    assert "not installed" in message and "testcontainers" in message and "No module named" not in message, message


def test_a_targets_file_takes_key_value_strings_bare_or_named() -> None:
    from dbtool.settings.targets import parse_targets

    text = f"host=db1 dbname=app user=u password={SECRET}\nsecond = host=db2 dbname=app password=${{PW}}\n"
    entries = parse_targets(text, "f", {"PW": SECRET})
    assert [(e.name, e.origin) for e in entries] == [("u@db1:5432/app", "f:1"), ("second", "f:2")]
    assert SECRET not in repr(entries)
