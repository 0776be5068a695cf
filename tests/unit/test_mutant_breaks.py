"""Every break of `make mutants` still matches the code and names tests that exist.

`make mutants` refuses a stale break only after the slow setup of `make test`; this
catches one in `make check`, right after the edit that made it stale.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "scripts"))

import mutants  # noqa: E402
from mutant_runner import Mutant, stale  # noqa: E402

BREAKS = mutants.MUTANTS


def test_there_are_breaks_to_check() -> None:
    assert len(BREAKS) > 100


def test_every_break_finds_its_original_text_exactly_once() -> None:
    assert stale(BREAKS, REPO) == []


def test_break_names_are_unique() -> None:
    names = [mutant.name for mutant in BREAKS]
    assert len(names) == len(set(names))


@pytest.mark.parametrize("mutant", BREAKS, ids=lambda mutant: mutant.name)
def test_every_guarding_test_exists(mutant: Mutant) -> None:
    assert mutant.tests, f"{mutant.name} names no test"
    assert mutant.replacement != mutant.original
    for node in mutant.tests:
        path, _, name = node.partition("::")
        source = (REPO / path).read_text(encoding="utf-8")
        if name:
            function = name.split("[")[0].split("::")[-1]
            assert re.search(rf"def {re.escape(function)}\(", source), f"{mutant.name}: no {node}"
