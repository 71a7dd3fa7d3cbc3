"""dbtool/settings/urls.py: every accepted spelling of a database URL, read by libpq's own parser; no database."""

from __future__ import annotations

import pytest
from psycopg.conninfo import conninfo_to_dict

from dbtool.errors import ConfigError
from dbtool.settings import urls

ACCEPTED = {  # input -> how it is shown (never with the password)
    "postgresql://app:pw%40x@db:5433/app": "app@db:5433/app",
    "postgres://app:pw%40x@db/app": "app@db:5432/app",
    "postgresql+psycopg://app:pw%40x@db/app?sslmode=require": "app@db:5432/app",
    "host=db dbname=app user=app password=pw@x": "app@db:5432/app",
    "postgresql://app:pw%40x@h1:5432,h2:5433/app": "app@h1:5432,h2:5433/app",
}


@pytest.mark.parametrize("url", ACCEPTED)
def test_every_accepted_spelling_is_shown_without_its_password(url: str) -> None:
    assert urls.shown(url) == ACCEPTED[url]
    assert urls.password(url) == "pw@x"
    assert "pw" not in urls.mask_url(url)


@pytest.mark.parametrize("url", ACCEPTED)
def test_another_database_and_no_password_keep_everything_else(url: str) -> None:
    before = conninfo_to_dict(urls.libpq_form(url))
    moved = conninfo_to_dict(urls.with_dbname(url, "other"))
    assert moved == {**before, "dbname": "other"}
    bare = conninfo_to_dict(urls.without_password(url))
    assert bare == {k: v for k, v in before.items() if k != "password"}


@pytest.mark.parametrize("url", ["mysql://app:pw@db/app", "postgresql://app:pw@db:99999/app", "host=db dbname"])
def test_what_libpq_refuses_is_a_config_error_without_the_password(url: str) -> None:
    with pytest.raises(ConfigError) as caught:
        urls.shown(url)
    assert "pw" not in str(caught.value) and caught.value.exit_code == 2
    assert urls.password("host=db dbname") == ""


def test_masking_hides_a_secret_and_the_token_libpq_quoted_around_it() -> None:
    text = 'invalid percent-encoded token: "p%zzsecret" for secret'
    assert urls.mask_secrets(text, {"secret"}) == 'invalid percent-encoded token: "***" for ***'
    assert urls.mask_secrets("ab in a cab", {"ab"}) == "ab in a cab"  # too short to mask outside quotes
