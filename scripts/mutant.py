"""One deliberate break of a guarantee (scripts/mutants.py runs them all)."""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class Mutant:
    name: str
    guarantee: str
    file: str
    original: str  # exact text, found once in `file`
    replacement: str
    tests: tuple[str, ...]  # the guarding tests, fast ones first: -x stops there
