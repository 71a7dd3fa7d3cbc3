from __future__ import annotations

import pytest

from dbtool.errors import ConfigError
from dbtool.settings.config import ADVISORY_LOCK_KEY, Settings
from dbtool.settings.urls import mask_url, parse_target

URL = "postgresql://app:s3cret@db.example:6543/uat"


def test_defaults_match_the_documented_ones() -> None:
    s = Settings.from_options(database_url=URL)
    assert (s.pool_max, s.lock_timeout, s.lock_key, s.profile, s.seed, s.schema) == (6, 600.0, 0x47524F4F, "dev", 42, "public")
    assert ADVISORY_LOCK_KEY == 1196576591


@pytest.mark.parametrize("pool_max", [-3, 0, 1])
def test_pool_max_below_two_is_refused_with_the_reason(pool_max: int) -> None:
    with pytest.raises(ConfigError, match="one connection holds the advisory lock") as exc:
        Settings.from_options(database_url=URL, pool_max=pool_max)
    assert exc.value.exit_code == 2
    assert "--pool-max 2" in str(exc.value)


@pytest.mark.parametrize(
    ("options", "fragment"),
    [
        ({"seed": -1}, "--seed -1 is out of range"),
        ({"seed": 2**32}, "out of range"),
        ({"lock_timeout": -1.0}, "--lock-timeout"),
        ({"lock_key": 2**63}, "bigint"),
        ({"profile": "prod"}, "unknown profile 'prod'"),
        ({"scale": 0}, "--scale"),
        ({"pool_max": 10_000}, "too large"),
        ({"schema": 'public"; DROP TABLE x; --'}, "not a plain lowercase identifier"),
        ({"schema": "Public"}, "not a plain lowercase identifier"),
        ({"database_url": "mysql://u@h/db"}, "must start with postgresql://"),
        ({"database_url": "postgresql://u@h:notaport/db"}, "malformed"),
        ({"database_url": "postgresql://u@h:5432"}, "names no database"),
        ({"database_url": "postgresql:///db"}, "has no host"),
        ({"database_url": "postgresql://u:p\udcff@h/db"}, "not valid UTF-8"),
    ],
)
def test_bad_settings_say_what_is_wrong(options: dict[str, object], fragment: str) -> None:
    with pytest.raises(ConfigError) as exc:
        Settings.from_options(**{"database_url": URL, **options})
    assert fragment in str(exc.value)
    assert "\n" not in str(exc.value)


def test_target_never_shows_the_password() -> None:
    target = parse_target(URL)
    assert str(target) == "app@db.example:6543/uat"
    assert "s3cret" not in mask_url(URL) and "***" in mask_url(URL)


def test_errors_about_a_url_mask_its_password() -> None:
    with pytest.raises(ConfigError) as exc:
        Settings.from_options(database_url="postgresql://app:s3cret@db:bad/uat")
    assert "s3cret" not in str(exc.value)


def test_unix_socket_urls_are_accepted() -> None:
    assert str(parse_target("postgresql://postgres:@/dbtool?host=/tmp/pg")) == "postgres@/tmp/pg:5432/dbtool"


def test_a_password_in_the_query_string_is_masked_too() -> None:
    masked = mask_url("postgresql://app@db/uat?sslmode=require&password=s3cret")
    assert "s3cret" not in masked and "password=***" in masked


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("sslmode=bogus", "sslmode"),
        ("sslmode=REQUIRE", "sslmode"),
        ("target_session_attrs=bogus", "target_session_attrs"),
        ("gssencmode=x", "gssencmode"),
        ("channel_binding=x", "channel_binding"),
        ("load_balance_hosts=x", "load_balance_hosts"),
        ("ssl_min_protocol_version=TLSv9", "ssl_min_protocol_version"),
        ("connect_timeout=abc", "connect_timeout"),
        ("connect_timeout=nan", "connect_timeout"),
        ("keepalives_idle=soon", "keepalives_idle"),
        ("port=abc", "port"),
        ("port=70000", "port"),
        ("host=/tmp&sslmode=require&target_session_attrs=nope", "target_session_attrs"),
    ],
)
def test_url_parameters_libpq_checks_only_when_connecting_are_refused_before(query: str, parameter: str) -> None:
    with pytest.raises(ConfigError) as exc:
        Settings.from_options(database_url=f"{URL}?{query}")
    message = str(exc.value)
    assert exc.value.exit_code == 2
    assert f"parameter {parameter};" in message and "\n" not in message and "s3cret" not in message


@pytest.mark.parametrize(
    "query",
    ["sslmode=verify-full", "target_session_attrs=read-write", "connect_timeout=5", "connect_timeout=2.5",
     "keepalives=1&keepalives_idle=30", "ssl_min_protocol_version=tlsv1.2", "port=6543", "application_name=x"],
)
def test_valid_url_parameters_are_accepted(query: str) -> None:
    Settings.from_options(database_url=f"{URL}?{query}")


def test_the_project_is_found_when_settings_are_built_and_replace_keeps_it(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from dataclasses import replace
    from pathlib import Path

    project = Path(__file__).resolve().parents[1] / "projects" / "pyproject"
    monkeypatch.chdir(project)
    settings = Settings.from_options(profile="ci")
    assert settings.project.ini == project / "alembic.ini"
    monkeypatch.chdir(tmp_path)  # e.g. Alembic's env.py, or a test, changed directory since
    moved = replace(settings, database_url="postgresql://u@h/other", workers=1)
    assert moved.project == settings.project and not Settings().project.ini
