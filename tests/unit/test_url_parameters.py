"""dbtool's table of URL parameter values must be libpq's: what it accepts, libpq accepts, and vice versa."""

from __future__ import annotations

import psycopg
import pytest

from dbtool.settings.urls import URL_PARAMETER_CHOICES, URL_PARAMETER_CHOICES_ANY_CASE

NO_SERVER = "postgresql://u@/x?host=/nonexistent-dbtool-socket-dir"  # libpq fails locally, never on the network


def _libpq_refuses(name: str, value: str) -> str | None:
    """libpq's complaint about name=value when it connects, or None when it got as far as the socket."""
    # A maximum below libpq's default minimum (TLSv1.2) is a bad pair, not a bad value.
    context = "&ssl_min_protocol_version=TLSv1" if name == "ssl_max_protocol_version" else ""
    try:
        psycopg.connect(f"{NO_SERVER}{context}&{name}={value}", connect_timeout=1).close()
    except psycopg.Error as exc:
        message = " ".join(str(exc).split())
        return None if "nonexistent-dbtool-socket-dir" in message else message
    return None


CASES = [
    (name, value)
    for table in (URL_PARAMETER_CHOICES, URL_PARAMETER_CHOICES_ANY_CASE)
    for name, values in table.items()
    for value in values
    # libpq refuses these over a Unix socket (GSSAPI) or without sslmode=require (direct): not a bad value.
    if (name, value) not in {("gssencmode", "require"), ("sslnegotiation", "direct")}
]


@pytest.mark.parametrize(("name", "value"), CASES)
def test_every_value_dbtool_accepts_libpq_accepts(name: str, value: str) -> None:
    assert _libpq_refuses(name, value) is None


@pytest.mark.parametrize("name", [*URL_PARAMETER_CHOICES, *URL_PARAMETER_CHOICES_ANY_CASE])
def test_libpq_refuses_a_bogus_value_only_when_connecting(name: str) -> None:
    from psycopg.conninfo import conninfo_to_dict

    assert conninfo_to_dict(f"{NO_SERVER}&{name}=bogus")[name] == "bogus"  # the parser lets it through
    assert name in (_libpq_refuses(name, "bogus") or "")
