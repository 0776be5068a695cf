"""`Sandbox`: the in-process handle tests and benchmarks use."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterable, Mapping
from types import TracebackType
from typing import Any

from .drift import Drift
from .faults import (
    DEFAULT_DELAY,
    DEFAULT_RETRY_AFTER,
    Fault,
    FaultBook,
    fault_from_mapping,
    parse_fault_spec,
)
from .org import Org
from .ratelimit import DEFAULT_RATE_LIMIT, DEFAULT_RATE_WINDOW, DEFAULT_RESET_STYLE, RateLimiter
from .server import API_PREFIX, CONTROL_PREFIX, App, RequestRecord, SandboxHTTPServer
from .world import World

DEFAULT_HOST = "127.0.0.1"


class Sandbox:
    """A Mixmax v1 API on a real socket, from seeded data. Use as a context manager.

    With `users=N` it serves an organisation: N tokens, each seeing its user's own data
    plus what that user's teams share (org.py). `user` arguments are user indexes.
    `drift` (a `Drift`, or a dict of its fields) breaks chosen guesses of the reference
    on purpose (drift.py).
    """

    def __init__(  # noqa: PLR0917 (the documented positional order)
        self,
        seed: int = 42,
        scale: str = "small",
        token: str | None = None,
        rate_limit: int | None = DEFAULT_RATE_LIMIT,
        rate_window: float = DEFAULT_RATE_WINDOW,
        reset_style: str = DEFAULT_RESET_STYLE,
        host: str = DEFAULT_HOST,
        port: int = 0,
        faults: Iterable[str | dict[str, Any] | Fault] = (),
        users: int = 1,
        drift: Drift | Mapping[str, Any] | None = None,
        **scale_overrides: int,
    ) -> None:
        self.seed = seed
        self.host = host
        self.port = port
        self.org = Org(seed, scale, users, token, **scale_overrides)
        self.world: World = self.org.worlds[0]  # user 0's own data
        self.token: str = self.org.tokens[0]
        self._faults = FaultBook()
        for spec in faults:
            if isinstance(spec, str):
                self._faults.add(parse_fault_spec(spec))
            elif isinstance(spec, dict):
                self._faults.add(fault_from_mapping(spec))
            else:
                self._faults.add(spec)
        if drift is not None and not isinstance(drift, Drift):
            drift = Drift(**drift)
        limiter = RateLimiter(rate_limit, rate_window, reset_style)
        self.app = App(self.org, limiter, self._faults, drift)
        self._server: SandboxHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------ lifecycle
    def start(self) -> Sandbox:
        if self._server is None:
            self._server = SandboxHTTPServer((self.host, self.port), self.app)
            self.port = self._server.server_address[1]
            self._thread = threading.Thread(
                target=self._server.serve_forever, name="mixmax-sandbox", daemon=True
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # ------------------------------------------------------------ addresses
    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def url(self) -> str:
        return self.base_url + API_PREFIX

    @property
    def control_url(self) -> str:
        return self.base_url + CONTROL_PREFIX

    # ------------------------------------------------------------ users
    @property
    def tokens(self) -> list[str]:
        """One token per user; `tokens[0] == token`."""
        return list(self.org.tokens)

    @property
    def user_ids(self) -> list[str]:
        """Each user's `_id`, as their /users/me serves it."""
        return self.org.user_ids

    def revoke(self, user: int) -> None:
        """From now on that user's token answers 401 (invalid token)."""
        self.app.revoke(user)

    def restore(self, user: int) -> None:
        """Undo `revoke`."""
        self.app.restore(user)

    # ------------------------------------------------------------ data
    def ids(self, resource: str, user: int = 0) -> list[str]:
        """Every id the API can currently return to `user`'s token, newest first."""
        return self.org.ids(resource, user)

    def records(self, resource: str, user: int = 0) -> list[dict[str, Any]]:
        """The rows of `ids(resource, user)` as the API serialises them."""
        return self.org.records(resource, user)

    def shared_ids(self, resource: str) -> list[str]:
        """Ids of `resource` that two or more users see (empty with one user)."""
        return self.org.shared_ids(resource)

    def counts(self, user: int = 0) -> dict[str, int]:
        return self.org.counts(user)

    def advance(self, days: float = 1.0) -> dict[str, Any]:
        return self.org.advance(days)

    @property
    def now(self) -> dt.datetime:
        return self.org.now

    # ------------------------------------------------------------ faults and log
    def add_fault(  # noqa: PLR0917 (the documented positional order)
        self,
        kind: str,
        nth: int | None = None,
        path: str | None = None,
        probability: float | None = None,
        seed: int | None = None,
        times: int | None = 1,
        delay: float = DEFAULT_DELAY,
        retry_after: int = DEFAULT_RETRY_AFTER,
    ) -> Fault:
        return self._faults.add(
            Fault(str(kind), nth, path, probability, seed, times, delay, retry_after)
        )

    def clear_faults(self) -> None:
        self._faults.clear()

    @property
    def requests(self) -> list[RequestRecord]:
        return self.app.request_log()

    def clear_requests(self) -> None:
        self.app.clear_requests()
