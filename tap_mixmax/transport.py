"""How one request reaches Mixmax: its origin only, within a deadline, with a bounded body.

- **One origin.** The token travels in a header, and requests forwards custom headers on
  every redirect. So redirects are never left to requests: one within api_url's scheme,
  host and port is followed here; one anywhere else (another host or port, or https down
  to http) fails in one line naming where it pointed.
- **Deadlines.** A socket timeout bounds each read, not the answer: a server sending a
  byte a second would hold a request forever. A watchdog shuts the request's socket at its
  deadline instead, so the deadline bounds connecting, headers and body together. A socket
  joins the watch before it connects (a connect that hangs is cut too), and a host name
  is looked up in a thread of its own, waited for interruptibly (getaddrinfo has no
  timeout). A stop cuts every request in flight the same way.
- **Connect failures.** A request that fails before its connection is up (refused, unknown
  host, TLS handshake) raises ConnectFailedError: the first-contact rule counts only these.
- **Bounded bodies.** The body is read in chunks and refused once it passes the cap
  (decoded), so a small gzip bomb cannot inflate into gigabytes.
- **The system's trust.** REQUESTS_CA_BUNDLE or SSL_CERT_FILE (a company's inspecting
  proxy) and the environment's proxies apply, as they would to `requests.get`. A
  certificate that is not trusted fails at once: retrying cannot fix it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import ipaddress
import os
import socket
import ssl
import sys
import threading
import time
import typing as t
from urllib.parse import urljoin, urlsplit

import requests
from requests.adapters import HTTPAdapter
from typing_extensions import override
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import (
    ConnectTimeoutError,
    LocationParseError,
    NameResolutionError,
    NewConnectionError,
)
from urllib3.util.connection import allowed_gai_family

from tap_mixmax import errors, stopping

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
MAX_REDIRECTS = 5
READ_CHUNK_BYTES = 64 * 1024
# Environment variables naming a CA bundle, in the order requests and OpenSSL read them.
CA_BUNDLE_VARIABLES = ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_FILE")
_DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclasses.dataclass(frozen=True)
class Origin:
    """Scheme, host and port: what a redirect must keep for the token to follow it."""

    scheme: str
    host: str
    port: int

    @classmethod
    def of(cls, url: str) -> Origin:
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        port = parts.port or _DEFAULT_PORTS.get(scheme, 0)
        return cls(scheme, (parts.hostname or "").lower(), port)

    @property
    def hostport(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    @override
    def __str__(self) -> str:
        return f"{self.scheme}://{self.hostport}"


# -- the watchdog ---------------------------------------------------------------------


class _Watch:
    """The sockets of one request; shut down when its deadline passes (or on a stop)."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._sockets: list[socket.socket] = []
        self.expired = False
        self.connected = False  # TCP (and TLS) up: a failure now is not a connect failure

    def attach(self, sock: socket.socket | None) -> None:
        if sock is None:
            return
        with self._lock:
            self._sockets.append(sock)
            if self.expired:
                _shut(sock)

    def expire(self) -> None:
        with self._lock:
            self.expired = True
            for sock in self._sockets:
                _shut(sock)


def _shut(sock: socket.socket) -> None:
    # The plain socket's shutdown (not SSLSocket's): it wakes a read blocked in another
    # thread, which close() does not.
    with contextlib.suppress(OSError):  # already closed
        socket.socket.shutdown(sock, socket.SHUT_RDWR)


_current = threading.local()
# Every request in flight, so that a stop can cut them all short.
_in_flight: set[_Watch] = set()
_in_flight_lock = threading.Lock()


def _cut_every_request() -> None:
    with _in_flight_lock:
        watches = list(_in_flight)
    for watch in watches:
        watch.expire()


stopping.on_stop(_cut_every_request)


def _attach(sock: socket.socket | None, *, connected: bool = False) -> None:
    watch: _Watch | None = getattr(_current, "watch", None)
    if watch is not None:
        watch.attach(sock)
        watch.connected = watch.connected or connected


class _WatchedHTTPConnection(HTTPConnection):
    """A connection whose sockets the current request's watch can shut, even connecting."""

    @override
    def _new_conn(self) -> socket.socket:
        # urllib3's own, with its errors, around _connect instead of create_connection.
        try:
            sock = _connect(
                (self._dns_host, self.port), self.timeout, self.source_address, self.socket_options
            )
        except socket.gaierror as e:
            raise NameResolutionError(self.host, self, e) from e
        except TimeoutError as e:
            raise ConnectTimeoutError(
                self, f"Connection to {self.host} timed out. (connect timeout={self.timeout})"
            ) from e
        except OSError as e:
            raise NewConnectionError(self, f"Failed to establish a new connection: {e}") from e
        sys.audit("http.client.connect", self, self.host, self.port)
        return sock

    @override
    def connect(self) -> None:
        super().connect()  # TCP, a proxy's tunnel, and for https the TLS handshake
        _attach(self.sock, connected=True)

    @override
    def request(self, *args: t.Any, **kwargs: t.Any) -> None:
        if self.sock is not None:  # a kept-alive connection, opened by an earlier request
            _attach(self.sock, connected=True)
        super().request(*args, **kwargs)


def _connect(
    address: tuple[str, int],
    timeout: t.Any,
    source_address: tuple[str, int] | None,
    options: t.Iterable[tuple[int, int, int | bytes]] | None,
) -> socket.socket:
    """urllib3's create_connection, but each socket joins the watch before it connects."""
    host, port = address[0].strip("[]"), address[1]
    try:
        host.encode("idna")
    except UnicodeError:
        raise LocationParseError(f"'{host}', label empty or too long") from None
    seconds = timeout if isinstance(timeout, int | float) else None
    error: OSError = OSError("getaddrinfo returns an empty list")
    for family, kind, proto, _name, where in _resolve(host, port, seconds):
        sock = socket.socket(family, kind, proto)
        try:
            for option in options or ():
                sock.setsockopt(*option)
            if seconds is not None or timeout is None:
                sock.settimeout(seconds)
            if source_address:
                sock.bind(source_address)
            _attach(sock)
            sock.connect(where)
        except OSError as exc:
            error = exc
            sock.close()
        else:
            return sock
    raise error


def _resolve(host: str, port: int, seconds: float | None) -> list[t.Any]:
    """getaddrinfo, which cannot be interrupted, in a thread: waiting for it can be."""
    with contextlib.suppress(ValueError):
        ipaddress.ip_address(host)  # an address: nothing to look up, no thread needed
        return socket.getaddrinfo(host, port, allowed_gai_family(), socket.SOCK_STREAM)
    found: list[t.Any] = []

    def look_up() -> None:
        try:
            found.append(socket.getaddrinfo(host, port, allowed_gai_family(), socket.SOCK_STREAM))
        except BaseException as exc:  # handed to the waiting thread
            found.append(exc)
        stopping.wake()

    threading.Thread(target=look_up, name="dns", daemon=True).start()
    stopping.wait(seconds, until=lambda: bool(found))
    if not found:
        raise TimeoutError(f"no answer from DNS for {host} within {seconds:g} s")
    if isinstance(found[0], BaseException):
        raise found[0]
    return t.cast(list[t.Any], found[0])


class _WatchedHTTPSConnection(_WatchedHTTPConnection, HTTPSConnection):
    pass


class _WatchedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _WatchedHTTPConnection


class _WatchedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPSConnection


_WATCHED_POOLS = {"http": _WatchedHTTPPool, "https": _WatchedHTTPSPool}


class _WatchedAdapter(HTTPAdapter):
    """requests' adapter, with connections whose sockets the watchdog can shut."""

    @override
    def init_poolmanager(self, *args: t.Any, **kwargs: t.Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = _WATCHED_POOLS

    @override
    def proxy_manager_for(self, proxy: str, **proxy_kwargs: t.Any) -> t.Any:
        manager = super().proxy_manager_for(proxy, **proxy_kwargs)
        manager.pool_classes_by_scheme = _WATCHED_POOLS
        return manager


# -- failures ---------------------------------------------------------------------------


def _causes(exc: BaseException) -> t.Iterator[BaseException]:
    """The exception, what it wraps (requests and urllib3 nest reasons in args), and so on."""
    seen: set[int] = set()
    todo = [exc]
    while todo:
        current = todo.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        todo += [arg for arg in current.args if isinstance(arg, BaseException)]
        reason = getattr(current, "reason", None)
        if isinstance(reason, BaseException):
            todo.append(reason)
        for linked in (current.__cause__, current.__context__):
            if linked is not None:
                todo.append(linked)


def is_untrusted_certificate(exc: BaseException) -> bool:
    return any(isinstance(cause, ssl.SSLCertVerificationError) for cause in _causes(exc))


class ConnectFailedError(requests.exceptions.ConnectionError):
    """The connection never came up: refused, unknown host, no route, TLS handshake failed."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason_text = reason


def is_connect_failure(exc: BaseException) -> bool:
    return isinstance(exc, ConnectFailedError)


def connect_failure_reason(exc: BaseException) -> str:
    """'Connection refused', 'Name or service not known', 'TLS handshake failed (...)'."""
    if isinstance(exc, ConnectFailedError):
        return exc.reason_text
    for cause in _causes(exc):
        if isinstance(cause, ssl.SSLError):
            return f"TLS handshake failed: {cause.reason or cause.strerror or cause}"
    for cause in _causes(exc):
        if isinstance(cause, OSError) and cause.strerror:
            return str(cause.strerror)
        if isinstance(cause, socket.gaierror | TimeoutError):
            return str(cause) or type(cause).__name__
    return type(exc).__name__


# -- the transport ----------------------------------------------------------------------


class Transport:
    """Sends prepared requests to one origin, each within its deadline."""

    def __init__(self, api_url: str, *, max_body_bytes: int) -> None:
        self.origin = Origin.of(api_url)
        self.max_body_bytes = max_body_bytes
        self._settings: dict[str, t.Any] | None = None
        self.session = requests.Session()
        adapter = _WatchedAdapter()
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)

    def send(
        self, request: requests.PreparedRequest, *, timeout: float, deadline: float
    ) -> requests.Response:
        """The final answer to `request`, redirects within the origin followed.

        `deadline` (time.monotonic()) bounds every hop together; `timeout` bounds each.
        """
        for _hop in range(MAX_REDIRECTS + 1):
            response = self._send_once(request, timeout=timeout, deadline=deadline)
            if response.status_code not in REDIRECT_STATUSES:
                return response
            request = self._redirected(request, response)
        raise errors.RedirectError(
            f"Mixmax redirected {urlsplit(request.url or '').path} more than {MAX_REDIRECTS} times"
        )

    def _redirected(
        self, request: requests.PreparedRequest, response: requests.Response
    ) -> requests.PreparedRequest:
        location = response.headers.get("Location")
        path = urlsplit(request.url or "").path
        if not location:
            raise errors.RedirectError(
                f"Mixmax answered {response.status_code} on {path} without a Location"
            )
        target = urljoin(request.url or "", location)
        origin = Origin.of(target)
        if origin != self.origin:
            raise errors.RedirectError(
                f"{self.origin} redirected {path} to {origin}{urlsplit(target).path}, "
                f"off api_url's origin; not followed, so the token stays with {self.origin}"
            )
        following = request.copy()
        following.url = target
        return following

    def _send_once(
        self, request: requests.PreparedRequest, *, timeout: float, deadline: float
    ) -> requests.Response:
        limit = min(timeout, deadline - time.monotonic())
        if limit <= 0:
            raise errors.SlowResponseError(
                f"no time left to ask {self.origin.hostport} for {urlsplit(request.url or '').path}"
            )
        watch = _Watch()
        timer = threading.Timer(limit, watch.expire)
        timer.daemon = True
        _current.watch = watch
        with _in_flight_lock:
            _in_flight.add(watch)
        timer.start()
        try:
            stopping.raise_if_stopping()  # a stop that came before this was in flight
            response = self.session.send(
                request,
                stream=True,
                timeout=(limit, limit),
                allow_redirects=False,
                **self._environment(request.url or ""),
            )
            self._read_body(response)
            if watch.expired:  # the cut socket read as a (short) end of headers or body
                stopping.raise_if_stopping()
                raise self._too_slow(request, limit, timeout)
        except requests.exceptions.RequestException as exc:
            stopping.raise_if_stopping()  # cut short by a stop, not by the server
            if is_untrusted_certificate(exc):
                raise errors.CertificateError(
                    f"the TLS certificate of {self.origin.hostport} is not trusted "
                    f"({_first_line(exc)}); behind a TLS-inspecting proxy, set "
                    "REQUESTS_CA_BUNDLE or SSL_CERT_FILE to its CA bundle"
                ) from None
            if not watch.connected:
                raise self._not_connected(exc, watch, limit, timeout) from exc
            if watch.expired or isinstance(exc, requests.exceptions.ReadTimeout):
                raise self._too_slow(request, limit, timeout) from exc
            raise
        except errors.OversizedPageError:
            raise
        except OSError as exc:
            stopping.raise_if_stopping()
            if watch.expired:
                raise self._too_slow(request, limit, timeout) from exc
            raise
        finally:
            timer.cancel()
            _current.watch = None
            with _in_flight_lock:
                _in_flight.discard(watch)
        return response

    def _not_connected(
        self, exc: BaseException, watch: _Watch, limit: float, timeout: float
    ) -> ConnectFailedError:
        if watch.expired or isinstance(exc, requests.exceptions.ConnectTimeout):
            return ConnectFailedError(f"no connection within {_within(limit, timeout)}")
        return ConnectFailedError(connect_failure_reason(exc))

    def _too_slow(
        self, request: requests.PreparedRequest, limit: float, timeout: float
    ) -> errors.MixmaxError:
        return errors.SlowResponseError(
            f"{self.origin.hostport} sent no complete answer to "
            f"{urlsplit(request.url or '').path} within {_within(limit, timeout)}"
        )

    def _environment(self, url: str) -> dict[str, t.Any]:
        """Proxies and CA bundle from the environment, as `requests.get` would use them.

        Read once: every request goes to the one origin, and reading them walks the whole
        environment.
        """
        if self._settings is None:
            self._settings = self._read_environment(url)
        return self._settings

    def _read_environment(self, url: str) -> dict[str, t.Any]:
        settings = self.session.merge_environment_settings(url, {}, None, None, None)
        if settings.get("verify") is True:
            bundle = next((os.environ[v] for v in CA_BUNDLE_VARIABLES if os.environ.get(v)), None)
            if bundle:
                settings["verify"] = bundle
        return {key: settings[key] for key in ("proxies", "verify", "cert")}

    def _read_body(self, response: requests.Response) -> None:
        """Read the whole (decoded) body into the response, refusing one over the cap."""
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > self.max_body_bytes:
            response.close()
            raise self._oversized(response)
        body = bytearray()
        for chunk in response.iter_content(READ_CHUNK_BYTES):
            body += chunk
            if len(body) > self.max_body_bytes:
                response.close()
                raise self._oversized(response)
        response._content = bytes(body)
        setattr(response, "_content_consumed", True)  # noqa: B010  # as requests does

    def _oversized(self, response: requests.Response) -> errors.MalformedPageError:
        megabytes = self.max_body_bytes / 2**20
        return errors.OversizedPageError(
            f"Mixmax sent a body over {megabytes:g} MB (max_response_megabytes) on "
            f"{urlsplit(response.url).path}"
        )


def _within(limit: float, timeout: float) -> str:
    if limit >= timeout:
        return f"request_timeout ({timeout:g} s)"
    return f"the {limit:.1f} s left before its retry deadline"


def _first_line(exc: BaseException) -> str:
    for cause in _causes(exc):
        if isinstance(cause, ssl.SSLCertVerificationError):
            return str(cause.verify_message or cause.reason or cause)
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__
