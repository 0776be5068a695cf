"""The HTTP side: a keep-alive ThreadingHTTPServer, auth, rate limit, faults, request log.

Order per API request: count it (for `nth`), pick a fault, check the token (401: missing,
unknown or revoked), check that token's rate limit (429), then route (200/400/404) over
what that token's user sees. Every API request is logged, including
faulted ones (`fault` set) and dropped ones (`status` 0). The request log stores the path
as the client sent it, *including* `/v1` and without the query string. Control calls
under `/_sandbox/` skip all of that (see control.py).
"""

from __future__ import annotations

import contextlib
import json
import socket
import sys
import threading
import time
from dataclasses import asdict, dataclass, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from . import control
from .api import NOT_FOUND_MESSAGE, NotFound, dispatch
from .drift import Drift
from .faults import Fault, FaultBook
from .org import Org
from .paging import BadRequest
from .ratelimit import RateLimiter
from .world import World

API_PREFIX = "/v1"
CONTROL_PREFIX = "/_sandbox"
TOKEN_HEADER = "X-API-Token"
TOKEN_PARAM = "apiToken"
NO_TOKEN_MESSAGE = (
    "No API token provided; please visit "
    "https://app.mixmax.com/dashboard/settings/personal/integrations to create one"
)
BAD_TOKEN_MESSAGE = (
    "Invalid API token; please visit "
    "https://app.mixmax.com/dashboard/settings/personal/integrations to create one"
)
RATE_LIMITED_MESSAGE = "Rate limit exceeded: 120 requests per minute. Retry after the delay."
BAD_GATEWAY_HTML = (
    "<html><head><title>502 Bad Gateway</title></head>"
    "<body><center><h1>502 Bad Gateway</h1></center></body></html>"
)


@dataclass(frozen=True)
class RequestRecord:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    status: int
    fault: str | None
    user: int | None = None  # index of the user whose valid token it carried
    time: float = 0.0  # time.monotonic() when the request was received

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def query_of(raw_path: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(raw_path).query, keep_blank_values=True))


class App:
    """Everything one sandbox serves; shared by all handler threads."""

    def __init__(
        self, org: Org, limiter: RateLimiter, faults: FaultBook, drift: Drift | None = None
    ) -> None:
        self.org = org
        self.limiter = limiter
        self.faults = faults
        self.drift = drift if drift != Drift() else None  # None: the reference, no cost
        self.requests: list[RequestRecord] = []
        self.counter = 0
        self.revoked: set[int] = set()
        self._lock = threading.Lock()

    @property
    def world(self) -> World:
        """User 0's World."""
        return self.org.worlds[0]

    @property
    def token(self) -> str:
        """User 0's token."""
        return self.org.tokens[0]

    def authenticate(self, token: str) -> int | None:
        """The user a token belongs to; None if it is unknown or revoked."""
        user = self.org.user_of(token)
        with self._lock:
            return None if user is None or user in self.revoked else user

    def revoke(self, user: int) -> None:
        self.org.check_user(user)
        with self._lock:
            self.revoked.add(user)

    def restore(self, user: int) -> None:
        self.org.check_user(user)
        with self._lock:
            self.revoked.discard(user)

    def next_number(self) -> int:
        with self._lock:
            self.counter += 1
            return self.counter

    def log(self, record: RequestRecord, replacing: RequestRecord | None = None) -> None:
        """Append a record, or put it in the place of an earlier placeholder record."""
        with self._lock:
            if replacing is not None:
                for index in range(len(self.requests) - 1, -1, -1):
                    if self.requests[index] is replacing:
                        self.requests[index] = record
                        return
            self.requests.append(record)

    def request_log(self) -> list[RequestRecord]:
        with self._lock:
            return list(self.requests)

    def clear_requests(self) -> None:
        with self._lock:
            self.requests.clear()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "MixmaxSandbox/1.0"
    disable_nagle_algorithm = True  # headers and body go out in two writes
    server: SandboxHTTPServer
    _pending: tuple[App, RequestRecord] | None = None
    _slot: RequestRecord | None = None

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the request log is the record."""

    # ------------------------------------------------------------ plumbing
    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _send(
        self,
        status: int,
        body: bytes,
        content_type: str = "application/json; charset=utf-8",
        headers: dict[str, str] | None = None,
    ) -> None:
        pending = self._pending
        if pending is not None and "X-RateLimit-Limit" not in (headers or {}):
            # Every API response carries the rate headers, errors and faults too.
            rate = pending[0].limiter.peek(self._token(query_of(self.path))).headers
            headers = {**rate, **(headers or {})}
        self._log(status)
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _send_json(self, status: int, data: Any, headers: dict[str, str] | None = None) -> None:
        self._send(status, json.dumps(data, separators=(",", ":")).encode(), headers=headers)

    def _drop(self) -> None:
        self._log(0)
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    # ------------------------------------------------------------ entry points
    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def do_DELETE(self) -> None:
        self._handle()

    def do_PUT(self) -> None:
        self._handle()

    def do_PATCH(self) -> None:
        self._handle()

    def _handle(self) -> None:
        body = self._read_body()
        url = urlsplit(self.path)
        query = dict(parse_qsl(url.query, keep_blank_values=True))
        app = self.server.app
        if url.path == CONTROL_PREFIX or url.path.startswith(CONTROL_PREFIX + "/"):
            status, data = control.handle(
                app, self.command, url.path[len(CONTROL_PREFIX) :], query, body
            )
            self._send_json(status, data)
            return
        self._api(app, url.path, query)

    def _api(self, app: App, path: str, query: dict[str, str]) -> None:
        received = time.monotonic()
        number = app.next_number()
        headers = dict(self.headers.items())
        relative = path[len(API_PREFIX) :] if path.startswith(API_PREFIX + "/") else None
        fault = app.faults.pick(number, relative if relative is not None else path)
        user = app.authenticate(self._token(query))
        # Logged just before the response is written, so a client that has its answer
        # always finds its request in the log.
        record = RequestRecord(self.command, path, query, headers, 0, None, user, received)
        self._pending = (app, record)
        if fault is not None:
            self._pending = (app, replace(self._pending[1], fault=fault.kind))
        try:
            if fault is not None and fault.kind != "slow":
                self._fault(app, fault, query, user)
                return
            if fault is not None:
                # Logged on arrival (status 0 until answered): a client that gave up
                # waiting must still find the slow request in the log.
                pending = self._pending
                assert pending is not None
                self._slot = pending[1]
                app.log(pending[1])
                time.sleep(fault.delay)
            self._serve(app, relative, query)
        finally:
            self._log(0)

    def _log(self, status: int) -> None:
        pending = getattr(self, "_pending", None)
        if pending is not None:
            self._pending = None
            app, record = pending
            app.log(replace(record, status=status), self._slot)
            self._slot = None

    def _token(self, query: dict[str, str]) -> str:
        return self.headers.get(TOKEN_HEADER) or query.get(TOKEN_PARAM) or ""

    def _serve(self, app: App, relative: str | None, query: dict[str, str]) -> int:
        token = self._token(query)
        if not token:
            self._send_json(401, {"message": NO_TOKEN_MESSAGE})
            return 401
        user = app.authenticate(token)
        if self._pending is not None and self._pending[1].user != user:
            self._pending = (app, replace(self._pending[1], user=user))  # revoked meanwhile
        if user is None:
            self._send_json(401, {"message": BAD_TOKEN_MESSAGE})
            return 401
        verdict = app.limiter.check(token)
        if not verdict.allowed:
            headers = {**verdict.headers, "Retry-After": str(verdict.retry_after)}
            self._send_json(429, {"message": RATE_LIMITED_MESSAGE}, headers)
            return 429
        params = {k: v for k, v in query.items() if k != TOKEN_PARAM}
        try:
            if relative is None or self.command != "GET":
                raise NotFound
            if app.drift is None:
                data = dispatch(app.org.source(user), relative, params)
            else:
                params = app.drift.request(relative, params)
                data = app.drift.response(
                    relative, dispatch(app.org.source(user), relative, params)
                )
        except NotFound:
            self._send_json(404, {"message": NOT_FOUND_MESSAGE}, verdict.headers)
            return 404
        except BadRequest as error:
            self._send_json(400, {"message": str(error)}, verdict.headers)
            return 400
        self._send_json(200, data, verdict.headers)
        return 200

    def _fault(self, app: App, fault: Fault, query: dict[str, str], user: int | None) -> int:
        kind = fault.kind
        retry = {"Retry-After": str(max(1, fault.retry_after))}
        if kind == "drop":
            self._drop()
            return 0
        if kind == "500":
            self._send_json(500, {"message": "Internal Server Error"})
            return 500
        if kind == "502":
            self._send(502, BAD_GATEWAY_HTML.encode(), "text/html; charset=utf-8")
            return 502
        if kind == "503":
            self._send_json(503, {"message": "Service Unavailable"}, retry)
            return 503
        if kind == "429":
            rate = app.limiter.peek(self._token(query)).headers
            self._send_json(429, {"message": RATE_LIMITED_MESSAGE}, {**rate, **retry})
            return 429
        if kind == "404":
            self._send_json(404, {"message": NOT_FOUND_MESSAGE})
            return 404
        if kind == "403":
            self._send_json(403, {"message": "Forbidden: this feature is not enabled for you"})
            return 403
        # truncate: a 200 whose JSON body is cut in half (Content-Length matches the cut).
        relative = self.path.split("?")[0][len(API_PREFIX) :]
        try:
            data: Any = dispatch(app.org.source(user or 0), relative, query)
        except (NotFound, BadRequest):
            data = {"results": [], "hasNext": False, "hasPrevious": False}
        full = json.dumps(data, separators=(",", ":")).encode()
        self._send(200, full[: max(1, len(full) // 2)])
        return 200


class SandboxHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Clients that hang up (timeouts, retries) are normal here; report the rest."""
        error = sys.exc_info()[1]
        if isinstance(error, ConnectionError | TimeoutError):
            return
        super().handle_error(request, client_address)

    def __init__(self, address: tuple[str, int], app: App) -> None:
        self.app = app
        super().__init__(address, Handler)
