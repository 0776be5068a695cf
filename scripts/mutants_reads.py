"""Breaks of the reading guarantees (README "Paging never trusts an unproven limit", the
10,000-recipient cap, the live feed's search parameter, the streams of the rest of the read
API, and `--doctor`'s type and page-size checks). scripts/mutants.py runs them with the
others.
"""

from __future__ import annotations

from mutant import Mutant

T_CORE = "tests/tap/test_core_streams.py::"
T_CAP = "tests/tap/test_recipients_cap.py::"
T_OFFSETS = "tests/unit/test_offsets.py::"
T_CLAMP = "tests/tap/test_recipients_clamp.py::"
T_CLAMP_COMMAND = T_CLAMP + "test_a_silent_clamp_loses_no_recipient_through_the_command"

READ_MUTANTS: tuple[Mutant, ...] = (
    # -- Offset paging: the end of a list only on proof ---------------------------------------
    Mutant(
        name="recipients-stop-on-a-full-page",
        guarantee="reads every recipient of every sequence by offset",
        file="tap_mixmax/offsets.py",
        original="        full = rows >= self.limits.limit(self.stream, window.limit)",
        replacement="        full = rows > self.limits.limit(self.stream, window.limit)",
        # Proof still reads every row: what breaks is a clamp "learnt" on a full page.
        tests=(T_CLAMP_COMMAND + "[None]",),
    ),
    Mutant(
        name="short-page-ends-a-list-without-proof",
        guarantee="Paging never trusts an unproven limit: a short page ends a list only once "
        "the server has served more",
        file="tap_mixmax/offsets.py",
        original="        proven = not full and self.limits.proves_end(self.stream, rows)",
        replacement="        proven = not full",
        tests=(
            T_OFFSETS + "test_a_short_page_ends_a_list_only_once_a_longer_one_was_served",
            T_CLAMP_COMMAND + "[50]",
        ),
    ),
    Mutant(
        name="proof-forgotten-between-sequences",
        guarantee="what a sync learnt of the page size holds for every sequence: proof is "
        "paid once, not per list",
        file="tap_mixmax/offsets.py",
        original="            self.offset_limits,\n",
        replacement="            OffsetLimits(),\n",
        tests=(
            T_CLAMP_COMMAND + "[None]",
            T_CORE + "test_full_sync_uses_exactly_the_fewest_requests",
        ),
    ),
    Mutant(
        name="clamp-not-remembered",
        guarantee="a silent clamp is learnt, logged once, and asked for by every later request",
        file="tap_mixmax/offsets.py",
        original="            self._clamps[stream] = size\n",
        replacement="            pass\n",
        tests=(
            T_OFFSETS + "test_a_silent_clamp_is_learnt_and_every_later_request_asks_for_it",
            T_CLAMP_COMMAND + "[50]",
        ),
    ),
    Mutant(
        name="clamp-raised-again",
        guarantee="a learnt clamp only ever goes down: a page never asks for more than served",
        file="tap_mixmax/offsets.py",
        original="            if known is not None and known <= size:",
        replacement="            if False:",
        tests=(T_OFFSETS + "test_a_lower_clamp_replaces_a_higher_one_and_a_higher_never_does",),
    ),
    Mutant(
        name="next-offset-skips-a-clamped-page",
        guarantee="the next page starts right after the rows served, not after the limit asked",
        file="tap_mixmax/offsets.py",
        original="self.current_value.offset + len(page_body(response)))",
        replacement="self.current_value.offset + self.current_value.limit)",
        tests=(
            T_OFFSETS + "test_the_next_offset_follows_the_rows_served_not_the_limit_asked",
            T_CLAMP_COMMAND + "[200]",
        ),
    ),
    Mutant(
        name="lanes-learn-page-sizes-apart",
        guarantee="an account's lanes share what it learnt of page sizes; accounts do not",
        file="tap_mixmax/tap.py",
        original="        self.offset_limits = self.part.offset_limits or OffsetLimits(",
        replacement="        self.offset_limits = OffsetLimits(",
        tests=(
            T_CLAMP
            + "test_an_accounts_lanes_share_what_it_learnt_of_page_sizes_and_accounts_do_not",
        ),
    ),
    # -- The 10,000-recipient cap ------------------------------------------------------------
    Mutant(
        name="recipients-cap-raised",
        guarantee="Mixmax serves at most 10,000 recipients per sequence",
        file="tap_mixmax/offsets.py",
        original="    return max(1, min(page_size, cap - offset))",
        replacement="    return max(1, page_size)",
        tests=(T_CAP + "test_the_cap_is_read_to_the_last_row_and_named_in_a_warning",),
    ),
    Mutant(
        name="recipients-cap-not-warned",
        guarantee="the tap warns, naming the sequence, when one reaches the cap",
        file="tap_mixmax/offsets.py",
        original="            self._on_cap()\n",
        replacement="",
        tests=(T_CAP + "test_the_cap_is_read_to_the_last_row_and_named_in_a_warning",),
    ),
)
