"""Scenario 7: bad input exits with its documented code, one line on stderr, no traceback, nothing touched."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from psycopg import sql

from tests.fire import figures
from tests.fire.runs import Run, process_env, reset_in_process
from tests.fire.servers import PrivateServer
from tests.fire.state import Fingerprint, advisory_lock_holders, fingerprint

pytestmark = pytest.mark.fire

RIGHT_PASSWORD = "Right-Passw0rd-fire"
WRONG_PASSWORD = "Wr0ng-Passw0rd-fire"
SECRETS = (RIGHT_PASSWORD, WRONG_PASSWORD, "zz-secret")


@dataclass(frozen=True)
class Bad:
    """One bad input: the command line ({url} etc. filled in), environment, expected exit code and message."""

    args: tuple[str, ...]
    code: int
    fragment: str
    env: dict[str, str | bytes] = field(default_factory=dict)
    command: str = "reset"


# Placeholders: {url} a seeded database; {ro_db} the same server's read-only database; {reader} and
# {nobody} roles without DROP rights; {socket} the server's socket directory; {pw_wrong} and {pw_right}
# the private server's password-protected role.
CASES = {
    # malformed or partial URLs: exit 2 before any connection
    "url-not-a-url": Bad(("--database-url", "localhost/app"), 2, "expected postgresql://user:password@host:port/dbname or key=value"),
    "url-other-scheme": Bad(("--database-url", "mysql://app@localhost/app"), 2, "must start with postgresql://"),
    "url-no-host": Bad(("--database-url", "postgresql:///app"), 2, "has no host"),
    "url-no-database": Bad(("--database-url", "postgresql://app@localhost"), 2, "names no database"),
    "url-port-not-a-number": Bad(("--database-url", "postgresql://app@localhost:fivefour/app"), 2, "malformed"),
    "url-port-out-of-range": Bad(("--database-url", "postgresql://app@localhost:99999/app"), 2, "malformed"),
    "url-broken-ipv6": Bad(("--database-url", "postgresql://app@[::1/app"), 2, "malformed"),
    "url-unknown-parameter": Bad(("--database-url", "{url}&frobnicate=1"), 2, "frobnicate"),
    "url-bad-escape-in-password": Bad(("--database-url", "postgresql://app:zz-secret%zz@/app?host={socket}"), 2,
                                      "percent-encoded"),
    "url-sslmode-bogus": Bad(("--database-url", "{url}&sslmode=bogus"), 2, "parameter sslmode"),
    "url-target-session-attrs-bogus": Bad(("--database-url", "{url}&target_session_attrs=bogus"), 2,
                                          "parameter target_session_attrs"),
    "url-connect-timeout-abc": Bad(("--database-url", "{url}&connect_timeout=abc"), 2, "parameter connect_timeout"),
    "url-space-in-host": Bad(("--database-url", "postgresql://app@local host/app"), 2, "spaces"),
    # unreachable: exit 69 with the reason
    "unknown-host": Bad(("--database-url", "postgresql://app:zz-secret@no-such-host.invalid:5432/app"), 69,
                        "no-such-host.invalid"),
    "unknown-database": Bad(("--database-url", "{missing_db}"), 69, "does not exist"),
    "wrong-port": Bad(("--database-url", "{url}&port=1"), 69, "PGSQL.1"),
    "unknown-role": Bad(("--database-url", "{nobody_role}"), 69, "does not exist"),
    "no-such-socket-directory": Bad(("--database-url", "postgresql://app@/app?host=/nonexistent-dbtool"), 69,
                                    "nonexistent-dbtool"),
    "wrong-password": Bad(("--database-url", "{pw_wrong}"), 69, "password authentication failed"),
    # options
    "pool-max-0": Bad(("--database-url", "{url}", "--pool-max", "0"), 2, "--pool-max 2"),
    "pool-max-1": Bad(("--database-url", "{url}", "--pool-max", "1"), 2, "deadlock"),
    "pool-max-negative": Bad(("--database-url", "{url}", "--pool-max", "-3"), 2, "--pool-max 2"),
    "pool-max-abc": Bad(("--database-url", "{url}", "--pool-max", "abc"), 2, "--pool-max"),
    "pool-max-huge": Bad(("--database-url", "{url}", "--pool-max", "1" + "0" * 30), 2, "too large"),
    "pool-max-env-abc": Bad(("--database-url", "{url}"), 2, "DBTOOL_POOL_MAX", env={"DBTOOL_POOL_MAX": "abc"}),
    "lock-timeout-negative": Bad(("--database-url", "{url}", "--lock-timeout", "-1"), 2, "--lock-timeout"),
    "lock-timeout-nan": Bad(("--database-url", "{url}", "--lock-timeout", "nan"), 2, "--lock-timeout"),
    "lock-timeout-infinite": Bad(("--database-url", "{url}", "--lock-timeout", "1e400"), 2, "--lock-timeout"),
    "lock-key-beyond-bigint": Bad(("--database-url", "{url}", "--lock-key", str(2**63)), 2, "bigint"),
    "seed-negative": Bad(("--database-url", "{url}", "--seed", "-1"), 2, "--seed -1"),
    "seed-beyond-32-bits": Bad(("--database-url", "{url}", "--seed", str(2**32)), 2, "out of range"),
    "seed-env-abc": Bad(("--database-url", "{url}"), 2, "DBTOOL_SEED", env={"DBTOOL_SEED": "forty-two"}),
    "scale-0": Bad(("--database-url", "{url}", "--scale", "0"), 2, "--scale 0"),
    "scale-huge": Bad(("--database-url", "{url}", "--scale", "10" + "0" * 12), 2, "out of range"),
    "profile-unknown": Bad(("--database-url", "{url}", "--profile", "prod"), 2, "unknown profile 'prod'"),
    "profile-env-unknown": Bad(("--database-url", "{url}"), 2, "unknown profile", env={"DBTOOL_PROFILE": "huge"}),
    "schema-with-quotes": Bad(("--database-url", "{url}", "--schema", 'pub"lic'), 2, "plain lowercase identifier"),
    "schema-with-sql": Bad(("--database-url", "{url}", "--schema", "public; DROP TABLE clients; --"), 2,
                           "plain lowercase identifier"),
    "schema-env-with-sql": Bad(("--database-url", "{url}"), 2, "plain lowercase identifier",
                               env={"DBTOOL_SCHEMA": "x' OR '1'='1"}),
    "schema-uppercase": Bad(("--database-url", "{url}", "--schema", "Public"), 2, "plain lowercase identifier"),
    "log-format-unknown": Bad(("--database-url", "{url}", "--log-format", "xml"), 2, "--log-format"),
    "unknown-option": Bad(("--database-url", "{url}", "--yes-really"), 2, "No such option"),
    "revision-unknown": Bad(("--database-url", "{url}", "--revision", "9999_nope"), 2, "unknown revision",
                            command="migrate"),
    "revision-empty": Bad(("--database-url", "{url}", "--revision", ""), 2, "revision", command="migrate"),
    # environment values that are not UTF-8 (a latin-1 shell, a broken secret mount)
    "env-url-not-utf8": Bad((), 2, "not valid UTF-8", env={"DATABASE_URL": b"postgresql://app\xff@/app?host=/tmp"}),
    "env-profile-not-utf8": Bad(("--database-url", "{url}"), 2, "not valid UTF-8", env={"DBTOOL_PROFILE": b"d\xe9v"}),
    "env-schema-not-utf8": Bad(("--database-url", "{url}"), 2, "not valid UTF-8", env={"DBTOOL_SCHEMA": b"caf\xe9"}),
    "env-pool-max-not-utf8": Bad(("--database-url", "{url}"), 2, "DBTOOL_POOL_MAX", env={"DBTOOL_POOL_MAX": b"\xff"}),
    # no right to drop: exit 1, rolled back
    "user-without-drop-rights-reset": Bad(("--database-url", "{reader}"), 1, "permission denied"),
    "user-without-drop-rights-seed": Bad(("--database-url", "{reader}", "--profile", "ci"), 1, "permission denied",
                                         command="seed"),
    "user-without-drop-rights-drop": Bad(("--database-url", "{reader}"), 1, "permission denied", command="drop"),
    "user-without-any-rights-reset": Bad(("--database-url", "{no_rights}"), 1, "permission denied"),
    "right-password-no-rights": Bad(("--database-url", "{pw_right}"), 1, "permission denied"),
    # a database in read-only mode: exit 1, rolled back
    "read-only-database-reset": Bad(("--database-url", "{ro_db}"), 1, "read-only transaction"),
    "read-only-database-seed": Bad(("--database-url", "{ro_db}", "--profile", "ci"), 1, "read-only transaction",
                                   command="seed"),
    "read-only-database-migrate": Bad(("--database-url", "{ro_db}", "--revision", "base"), 1, "read-only transaction",
                                      command="migrate"),
    "read-only-database-protect": Bad(("--database-url", "{ro_db}"), 1, "read-only transaction", command="protect"),
}
KNOWN_BUGS: dict[str, str] = {}  # case name -> reason, for a strict xfail while a bug is open


def _with_database(url: str, dbname: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{dbname}"))


def _url_as(url: str, user: str, password: str = "") -> str:
    parts = urlsplit(url)
    credentials = f"{user}:{password}" if password else user
    return urlunsplit(parts._replace(netloc=f"{credentials}@{parts.hostname or ''}"))


@dataclass
class Targets:
    """The databases and roles the bad inputs point at, and a fingerprint of each before anything ran."""

    values: dict[str, str]
    watched: dict[str, str]  # name -> URL of every database that must stay untouched

    def snapshot(self) -> dict[str, Fingerprint]:
        return {name: fingerprint(url) for name, url in self.watched.items()}


@pytest.fixture(scope="module")
def targets(server_url: str, private_server: PrivateServer) -> Iterator[Targets]:
    suffix = uuid.uuid4().hex[:8]
    main_db, ro_db = f"fire_bad_{suffix}", f"fire_bad_ro_{suffix}"
    reader, no_rights, pw_role = f"fire_reader_{suffix}", f"fire_norights_{suffix}", f"fire_pw_{suffix}"
    with psycopg.connect(server_url, autocommit=True) as admin:
        for name in (main_db, ro_db):
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        admin.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(reader)))
        admin.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(no_rights)))
    url, ro_url = _with_database(server_url, main_db), _with_database(server_url, ro_db)
    for target in (url, ro_url):
        reset_in_process(target, "--profile", "ci")
    with psycopg.connect(url, autocommit=True) as owner:
        # Can read everything, may not drop, truncate, lock exclusively or write.
        owner.execute(sql.SQL("GRANT USAGE ON SCHEMA public TO {r}; GRANT SELECT ON ALL TABLES IN SCHEMA public TO {r}")
                      .format(r=sql.Identifier(reader)))
    with psycopg.connect(server_url, autocommit=True) as admin:
        admin.execute(sql.SQL("ALTER DATABASE {} SET default_transaction_read_only = on").format(sql.Identifier(ro_db)))

    # Real password authentication, on a server of our own (the shared one trusts its socket).
    pw_db = f"fire_pw_{suffix}"
    pw_url = private_server.database(pw_db)
    reset_in_process(pw_url, "--profile", "ci")
    with psycopg.connect(private_server.url, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(sql.Identifier(pw_role), sql.Literal(RIGHT_PASSWORD)))
    private_server.require_password(pw_role)

    socket = urlsplit(url).query.split("host=", 1)[1].split("&", 1)[0] if "host=" in url else ""
    values = {
        "url": url, "ro_db": ro_url, "socket": socket,
        "missing_db": _with_database(server_url, f"fire_missing_{suffix}"),
        "nobody_role": _url_as(url, f"fire_nobody_{suffix}"),
        "reader": _url_as(url, reader), "no_rights": _url_as(url, no_rights),
        "pw_wrong": private_server.url_of(pw_db, pw_role, WRONG_PASSWORD),
        "pw_right": private_server.url_of(pw_db, pw_role, RIGHT_PASSWORD),
    }
    try:
        yield Targets(values, {"main": url, "read-only": ro_url, "password": pw_url})
    finally:
        with psycopg.connect(server_url, autocommit=True) as admin:
            for name in (main_db, ro_db):
                admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
            for role in (reader, no_rights):
                admin.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role)))
        with psycopg.connect(private_server.url, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(pw_db)))
            admin.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(pw_role)))


def _environment(extra: dict[str, str | bytes]) -> dict[bytes, bytes] | dict[str, str]:
    if not any(isinstance(v, bytes) for v in extra.values()):
        return extra  # type: ignore[return-value]
    # Bytes all the way, as a shell with another locale (or a broken secret) hands them over.
    env = {os.fsencode(k): os.fsencode(v) for k, v in process_env().items()}
    env.update({k.encode(): v if isinstance(v, bytes) else v.encode() for k, v in extra.items()})
    return env


@pytest.mark.parametrize("name", [
    pytest.param(name, marks=pytest.mark.xfail(strict=True, reason=KNOWN_BUGS[name])) if name in KNOWN_BUGS else name
    for name in CASES
])
def test_bad_input_is_refused_in_one_line_and_touches_nothing(name: str, targets: Targets) -> None:
    case = CASES[name]
    before = targets.snapshot()
    args = tuple(arg.format(**targets.values) for arg in case.args)
    env = {k: (v.format(**targets.values) if isinstance(v, str) else v) for k, v in case.env.items()}
    result = Run(case.command, None, args, env=_environment(env)).finish(timeout=60)
    figures.count("7 bad input: inputs tried", 1)

    assert result.code == case.code, f"exit {result.code}, want {case.code}:\n{result.output}"
    lines = result.error_lines()
    assert len(lines) == 1 and lines[0].startswith("dbtool: error:"), f"want one error line:\n{result.stderr}"
    assert case.fragment in lines[0], lines[0]
    assert "Traceback" not in result.output
    assert not [s for s in SECRETS if s in result.output], "a password was printed"
    assert targets.snapshot() == before, "a bad input changed a database"
    assert all(advisory_lock_holders(url) == [] for url in targets.watched.values())
