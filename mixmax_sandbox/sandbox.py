"""`Sandbox`: the in-process handle tests and benchmarks use."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterable
from types import TracebackType
from typing import Any

from .faults import (
    DEFAULT_DELAY,
    DEFAULT_RETRY_AFTER,
    Fault,
    FaultBook,
    fault_from_mapping,
    parse_fault_spec,
)
from .ratelimit import DEFAULT_RATE_LIMIT, DEFAULT_RATE_WINDOW, DEFAULT_RESET_STYLE, RateLimiter
from .server import API_PREFIX, CONTROL_PREFIX, App, RequestRecord, SandboxHTTPServer
from .world import World, token_for

DEFAULT_HOST = "127.0.0.1"


class Sandbox:
    """A Mixmax v1 API on a real socket, from seeded data. Use as a context manager."""

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
        **scale_overrides: int,
    ) -> None:
        self.seed = seed
        self.host = host
        self.port = port
        self.world = World(seed, scale, **scale_overrides)
        self.token = token or token_for(seed)
        self._faults = FaultBook()
        for spec in faults:
            if isinstance(spec, str):
                self._faults.add(parse_fault_spec(spec))
            elif isinstance(spec, dict):
                self._faults.add(fault_from_mapping(spec))
            else:
                self._faults.add(spec)
        self.app = App(
            self.world, self.token, RateLimiter(rate_limit, rate_window, reset_style), self._faults
        )
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

    # ------------------------------------------------------------ data
    def ids(self, resource: str) -> list[str]:
        with self.world.lock:
            return self.world.ids(resource)

    def records(self, resource: str) -> list[dict[str, Any]]:
        with self.world.lock:
            return self.world.records(resource)

    def counts(self) -> dict[str, int]:
        with self.world.lock:
            return self.world.counts()

    def advance(self, days: float = 1.0) -> dict[str, Any]:
        return self.world.advance(days)

    @property
    def now(self) -> dt.datetime:
        return self.world.now

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
