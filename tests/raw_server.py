"""A loopback HTTP(S) server whose every byte a test controls: for hostile-server tests.

Each connection serves one request and closes. The handler gets the parsed request and
the socket, so it can answer properly, trickle bytes, stall, redirect or echo headers.
"""

from __future__ import annotations

import contextlib
import json
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # names lower-cased


Handler = Callable[[Request, socket.socket], None]


def response_bytes(
    status: int, body: bytes | str | Any = b"", headers: dict[str, str] | None = None
) -> bytes:
    if not isinstance(body, bytes | str):
        body = json.dumps(body)
    if isinstance(body, str):
        body = body.encode()
    head = {"Content-Type": "application/json", "Content-Length": str(len(body))}
    head.update(headers or {})
    head["Connection"] = "close"
    lines = [f"HTTP/1.1 {status} X"] + [f"{k}: {v}" for k, v in head.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def send(conn: socket.socket, status: int, body: Any = b"", **headers: str) -> None:
    conn.sendall(response_bytes(status, body, {k.replace("_", "-"): v for k, v in headers.items()}))


def trickle(conn: socket.socket, data: bytes, every: float) -> None:
    """Send one byte at a time, `every` seconds apart, until the client hangs up."""
    for index in range(len(data)):
        conn.sendall(data[index : index + 1])
        time.sleep(every)


@dataclass
class RawServer:
    handler: Handler
    tls: ssl.SSLContext | None = None
    host: str = "127.0.0.1"
    requests: list[Request] = field(default_factory=list)
    connections: int = 0

    def __post_init__(self) -> None:
        self._sock = self._listen(0)
        self.port = self._sock.getsockname()[1]
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def _listen(self, port: int) -> socket.socket:
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, port))
        sock.listen(64)
        return sock

    def refuse_connections_for(self, seconds: float) -> None:
        """Stop listening (connections are refused), then listen again on the same port."""
        old = self._sock
        with contextlib.suppress(OSError):
            old.shutdown(socket.SHUT_RDWR)
        old.close()

        def reopen() -> None:
            self._sock = self._listen(self.port)
            self._thread = threading.Thread(target=self._serve, daemon=True)
            self._thread.start()

        threading.Timer(seconds, reopen).start()

    @property
    def origin(self) -> str:
        scheme = "https" if self.tls else "http"
        return f"{scheme}://{self.host}:{self.port}"

    @property
    def url(self) -> str:
        return f"{self.origin}/v1"

    def __enter__(self) -> RawServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stopped.set()
        with contextlib.suppress(OSError):
            self._sock.close()

    def _serve(self) -> None:
        while not self._stopped.is_set():
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._one, args=(conn,), daemon=True).start()

    def _one(self, conn: socket.socket) -> None:
        try:
            if self.tls:
                conn = self.tls.wrap_socket(conn, server_side=True)
            request = _read_request(conn)
            if request is None:
                return
            self.requests.append(request)
            self.handler(request, conn)
        except (OSError, ssl.SSLError):
            pass  # the client hung up, or refused our certificate
        finally:
            with contextlib.suppress(OSError):
                conn.close()


def _read_request(conn: socket.socket) -> Request | None:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return None
        data += chunk
    head = data.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
    method, target, _ = head[0].split(" ", 2)
    headers = {}
    for line in head[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    parts = urlsplit(target)
    return Request(method, parts.path, dict(parse_qsl(parts.query)), headers)


@contextlib.contextmanager
def serving(handler: Handler, tls: ssl.SSLContext | None = None) -> Iterator[RawServer]:
    with RawServer(handler, tls) as server:
        yield server


ME = {"_id": "u1", "email": "me@example.com"}


def page(
    rows: list[dict[str, Any]], *, has_next: bool = False, next_cursor: str = "c"
) -> dict[str, Any]:
    body: dict[str, Any] = {"results": rows, "hasNext": has_next}
    if rows:
        body["next"] = next_cursor
    return body
