"""Breaks of the reading guarantees (README "Paging never trusts an unproven limit", the
10,000-recipient cap, the live feed's search parameter, the streams of the rest of the read
API, and `--doctor`'s type and page-size checks). scripts/mutants.py runs them with the
others.
"""

from __future__ import annotations

from mutant_runner import Mutant

T_CORE = "tests/tap/test_core_streams.py::"
T_CAP = "tests/tap/test_recipients_cap.py::"
T_OFFSETS = "tests/unit/test_offsets.py::"
T_CLAMP = "tests/tap/test_recipients_clamp.py::"
T_CLAMP_COMMAND = T_CLAMP + "test_a_silent_clamp_loses_no_recipient_through_the_command"
T_DOCTOR = "tests/tap/test_doctor_reads.py::"
T_DOCTOR_HTTP = (
    "tests/tap/test_doctor.py::"
    "test_every_try_goes_through_the_tap_api_object_with_the_doctor_try_count"
)
T_TYPES = T_DOCTOR + "test_a_value_of_another_type_names_the_field_and_what_the_tap_does"
T_INC = "tests/tap/test_incremental.py::"
T_MORE = "tests/tap/test_more_streams.py::"

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
        file="tap_mixmax/page_sizes.py",
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
        file="tap_mixmax/page_sizes.py",
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
        file="tap_mixmax/parts.py",
        original="                api=tap.api,\n",
        replacement="",
        tests=(
            T_CLAMP
            + "test_an_accounts_lanes_share_what_it_learnt_of_page_sizes_and_accounts_do_not",
        ),
    ),
    # -- The 10,000-recipient cap ------------------------------------------------------------
    Mutant(
        name="recipients-cap-raised",
        guarantee="Mixmax serves at most 10,000 recipients per sequence",
        file="tap_mixmax/page_sizes.py",
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
    # -- The live feed's search parameter ------------------------------------------------------
    Mutant(
        name="livefeed-searches-in-the-docs-guess",
        guarantee="the live feed's search goes in `query`, as the only live-API connector sends",
        file="tap_mixmax/settings.py",
        original='LIVEFEED_QUERY_PARAM = "query"',
        replacement='LIVEFEED_QUERY_PARAM = "q"',
        tests=(T_INC + "test_livefeed_asks_for_everyone_and_a_sent_window_once_bookmarked",),
    ),
    Mutant(
        name="livefeed-query-param-setting-ignored",
        guarantee="livefeed_query_param changes where the live feed's search goes",
        file="tap_mixmax/streams.py",
        original='str(config.get("livefeed_query_param") or LIVEFEED_QUERY_PARAM)',
        replacement="LIVEFEED_QUERY_PARAM",
        tests=(T_INC + "test_the_live_feed_search_goes_where_livefeed_query_param_says",),
    ),
    Mutant(
        name="doctor-checks-the-default-search-parameter",
        guarantee="--doctor checks the search parameter the config names",
        file="tap_mixmax/doctor/__init__.py",
        original='str(config.get("livefeed_query_param") or LIVEFEED_QUERY_PARAM)',
        replacement="LIVEFEED_QUERY_PARAM",
        tests=(T_DOCTOR + "test_the_doctor_checks_the_search_parameter_the_config_names",),
    ),
    # -- The rest of the read API ------------------------------------------------------------
    Mutant(
        name="tag-snippets-keyed-by-snippet-alone",
        guarantee="a snippet under two tags is two rows: the key is (snippetTagId, _id)",
        file="tap_mixmax/streams.py",
        original='    primary_keys = ("snippetTagId", "_id")',
        replacement='    primary_keys = ("_id",)',
        tests=(T_MORE + "test_a_snippet_under_two_tags_is_two_rows_keyed_by_its_tag",),
    ),
    Mutant(
        name="enhancement-category-left-in-two-types",
        guarantee="every record matches its schema: a category list becomes its JSON text",
        file="tap_mixmax/schemas/integration_enhancements.json",
        original='"x-coerce": "json-text",',
        replacement='"x-coerce-off": "json-text",',
        tests=(
            T_MORE + "test_an_enhancement_category_list_is_kept_whole_as_json_text",
            T_CORE + "test_records_match_their_schema_and_come_after_it[integration_enhancements]",
        ),
    ),
    # -- --doctor: value types and the recipients' page --------------------------------------
    Mutant(
        name="doctor-ignores-a-type-mismatch",
        guarantee="--doctor compares every value's type with its schema",
        file="tap_mixmax/doctor/reads.py",
        original="    if not fits(value, declared):",
        replacement="    if False:",
        tests=(T_TYPES + "[live-feed flag as text]",),
    ),
    Mutant(
        name="doctor-types-only-at-the-top",
        guarantee="--doctor compares value types at any depth",
        file="tap_mixmax/doctor/reads.py",
        original="                yield from mismatches(sub, value[name], (*trail, name))",
        replacement="                pass",
        tests=(T_TYPES + "[nested counter as text]",),
    ),
    Mutant(
        name="doctor-says-converted-whatever-the-tap-does",
        guarantee="a DIFFERENT value type says what the tap really does with the value",
        file="tap_mixmax/doctor/reads.py",
        original="    if found and value is not None and fits(value, mismatch.declared):",
        replacement="    if True:",
        tests=(T_TYPES + "[recipient stage flag as an object]",),
    ),
    Mutant(
        name="doctor-flags-shapes-an-x-coerce-names",
        guarantee="a value the tap converts without loss (or by its x-coerce) is OK, listed",
        file="tap_mixmax/doctor/reads.py",
        original="        if set(outcomes) <= lossless:",
        replacement="        if False:",
        tests=(
            T_DOCTOR
            + "test_the_evidenced_sandbox_has_no_type_to_report_and_serves_full_recipient_pages",
        ),
    ),
    Mutant(
        name="doctor-trusts-a-short-recipients-page",
        guarantee="--doctor measures the largest page the recipients endpoint serves",
        file="tap_mixmax/doctor/reads.py",
        original="        if after:",
        replacement="        if False:",
        tests=(T_DOCTOR + "test_a_silent_recipients_clamp_is_measured_and_nothing_else_changes",),
    ),
    Mutant(
        name="doctor-sends-around-the-api-object",
        guarantee="--doctor sends every request through the tap's MixmaxAPI (one HTTP policy)",
        file="tap_mixmax/doctor/client.py",
        original="                response = self.api.send(request, retrying, self.figures)",
        replacement="                response = self.api.transport.send(request, timeout=30, deadline=time.monotonic() + 30)",
        tests=(T_DOCTOR_HTTP,),
    ),
    Mutant(
        name="doctor-tries-past-its-count",
        guarantee="--doctor gives a failing endpoint its MAX_TRIES tries, no more",
        file="tap_mixmax/doctor/client.py",
        original="                budget_seconds=RETRY_BUDGET_SECONDS, request_timeout=timeout, max_tries=MAX_TRIES",
        replacement="                budget_seconds=RETRY_BUDGET_SECONDS, request_timeout=timeout, max_tries=MAX_TRIES + 1",
        tests=(T_DOCTOR_HTTP,),
    ),
)
