"""Parsing postmaster.pid of the embedded server: pure, no server."""

from __future__ import annotations

from dbtool.servers.local import parse_pid_file

READY = "4242\n/data/pgdata\n1700000000\n5432\n/data/pgdata\n\n  2224762        59\nready   \n"


def test_a_ready_server_gives_its_pid_socket_and_url() -> None:
    info = parse_pid_file(READY)
    assert info is not None
    assert (info.pid, info.port, info.status) == (4242, 5432, "ready")
    assert info.url("dbtool") == "postgresql://postgres:@/dbtool?host=/data/pgdata"
    assert str(info.socket_lock) == "/data/pgdata/.s.PGSQL.5432.lock"


def test_a_tcp_only_server_gets_a_host_and_port_url() -> None:
    info = parse_pid_file("7\n/d\n1700000000\n6543\n\n127.0.0.1\n0 0\nready\n")
    assert info is not None and info.socket_lock is None
    assert info.url("x") == "postgresql://postgres:@127.0.0.1:6543/x"


def test_a_pid_file_still_being_written_is_not_parsed() -> None:
    assert parse_pid_file("4242\n/data/pgdata\n1700000000\n") is None
    assert parse_pid_file("") is None
    assert parse_pid_file("garbage\n" * 8) is None
