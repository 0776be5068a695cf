"""Faults on demand: which request fails, and how.

Kinds: "500" (JSON), "502" (HTML), "503" (Retry-After), "429" (Retry-After + rate headers),
"drop" (close the socket, no response), "truncate" (200 with half a JSON body), "slow"
(sleep `delay` s, then answer normally), "404" and "403" (JSON message).
Targeting: `nth` (the Nth API request since start, 1-based, control calls excluded),
`path` (prefix of the path after /v1), `probability` with its own `seed`. All given
criteria must match. `times` is how often it fires (0 or None: unlimited).
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass, field
from typing import Any

FAULT_KINDS = ("500", "502", "503", "429", "drop", "truncate", "slow", "404", "403")
DEFAULT_DELAY = 2.0
DEFAULT_RETRY_AFTER = 1


@dataclass
class Fault:
    kind: str
    nth: int | None = None
    path: str | None = None
    probability: float | None = None
    seed: int | None = None
    times: int | None = 1
    delay: float = DEFAULT_DELAY
    retry_after: int = DEFAULT_RETRY_AFTER
    fired: int = 0
    _rng: random.Random = field(default_factory=random.Random, repr=False)

    def __post_init__(self) -> None:
        self.kind = str(self.kind)
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; choose one of {FAULT_KINDS}")
        if self.path is not None and not self.path.startswith("/"):
            self.path = "/" + self.path
        self._rng = random.Random(self.seed)

    def exhausted(self) -> bool:
        return bool(self.times) and self.fired >= (self.times or 0)

    def matches(self, number: int, path: str) -> bool:
        if self.exhausted():
            return False
        if self.nth is not None and number != self.nth:
            return False
        if self.path is not None and not path.startswith(self.path):
            return False
        return not (self.probability is not None and self._rng.random() >= self.probability)

    def describe(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "nth": self.nth,
            "path": self.path,
            "probability": self.probability,
            "seed": self.seed,
            "times": self.times,
            "delay": self.delay,
            "retry_after": self.retry_after,
            "fired": self.fired,
        }


_NUMBERS = {"nth": int, "times": int, "seed": int, "retry_after": int}
_FLOATS = {"probability": float, "delay": float}


def fault_from_mapping(data: dict[str, Any]) -> Fault:
    """A Fault from JSON-ish keys (`kind` required); values may be strings."""
    args: dict[str, Any] = {}
    for key, value in data.items():
        if key == "kind":
            continue
        if key in _NUMBERS:
            args[key] = None if value in (None, "", "none", "None") else int(value)
        elif key in _FLOATS:
            args[key] = None if value in (None, "") else float(value)
        elif key == "path":
            args[key] = value
        else:
            raise ValueError(f"unknown fault option {key!r}")
    return Fault(kind=str(data["kind"]), **args)


def parse_fault_spec(spec: str) -> Fault:
    """`KIND[:key=value,...]`, e.g. `500:nth=3` or `drop:path=/messages,times=2`."""
    kind, _, rest = spec.partition(":")
    data: dict[str, Any] = {"kind": kind.strip()}
    for part in filter(None, (p.strip() for p in rest.split(","))):
        key, sep, value = part.partition("=")
        if not sep:
            raise ValueError(f"bad fault option {part!r} in {spec!r}")
        data[key.strip()] = value.strip()
    return fault_from_mapping(data)


class FaultBook:
    """The active faults; `pick` is called once per API request."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []
        self._lock = threading.Lock()

    def add(self, fault: Fault) -> Fault:
        with self._lock:
            self._faults.append(fault)
        return fault

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def pick(self, number: int, path: str) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.matches(number, path):
                    fault.fired += 1
                    return fault
        return None

    def describe(self) -> list[dict[str, Any]]:
        with self._lock:
            return [f.describe() for f in self._faults]
