"""A container engine that answers but cannot start anything: `python -m tests.fake_container_engine SOCKET`.

It serves the Docker API's /_ping and /version on a Unix socket and fails every other request with
500, like an engine whose registry is unreachable (e.g. testcontainers' ryuk image cannot be pulled).
"""

from __future__ import annotations

import json
import socketserver
import sys
from http.server import BaseHTTPRequestHandler

VERSION = {"ApiVersion": "1.41", "MinAPIVersion": "1.12", "Version": "0-fake", "Os": "linux", "Arch": "amd64"}
FAILURE = {"message": "fake engine: cannot pull or create containers"}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as docker-py expects

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        path = self.path.split("?", 1)[0].rstrip("/")
        if path.endswith("/_ping"):
            status, body, kind = 200, b"OK", "text/plain"
        elif path.endswith("/version"):
            status, body, kind = 200, json.dumps(VERSION).encode(), "application/json"
        else:
            status, body, kind = 500, json.dumps(FAILURE).encode(), "application/json"
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _answer

    def address_string(self) -> str:  # a Unix socket peer has no address
        return "unix"

    def log_message(self, format: str, *args: object) -> None:
        pass


class Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True


if __name__ == "__main__":
    with Server(sys.argv[1], Handler) as server:
        print("ready", flush=True)
        server.serve_forever()
