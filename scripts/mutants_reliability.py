"""Breaks of the reliability guarantees (README "Rate limits, retries and errors", "What
the log says", "Security"), each guarded by a test through the `tap-mixmax` command with
the whole catalog, or in `accounts` mode. scripts/mutants.py runs them with the others.
"""

from __future__ import annotations

from mutant import Mutant

T_HOSTILE = "tests/tap/test_hostile_servers.py::"

RELIABILITY_MUTANTS: tuple[Mutant, ...] = (
    # -- First contact ---------------------------------------------------------------------
    Mutant(
        name="first-contact-takes-the-whole-budget",
        guarantee="An API that cannot be reached fails within 60 s, naming host:port",
        file="tap_mixmax/retrying.py",
        original="        return deadline if first_contact is None else min(deadline, first_contact)",
        replacement="        return deadline",
        tests=(
            T_HOSTILE + "test_an_api_that_cannot_be_reached_fails_within_the_first_contact_limit",
        ),
    ),
    Mutant(
        name="blips-held-to-first-contact",
        guarantee="A blip in the middle of a sync keeps retrying within the budget",
        file="tap_mixmax/client.py",
        original="        self.first_contact.answer_received()",
        replacement="        pass",
        tests=(T_HOSTILE + "test_a_blip_in_the_middle_of_a_sync_keeps_retrying_within_the_budget",),
    ),
)
