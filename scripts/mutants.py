"""`make mutants`: deliberate breaks of the README's guarantees; each must fail a test.

Each break below is applied alone to a copy of the repository, and only its guarding
tests run there; a break they all pass "survives" and fails the run (how: see
scripts/mutant_runner.py). `make mutants CHANGED=1` runs only the breaks that the work
since main touches. Adding one (here, or in the files of breaks it gathers:
mutants_reliability.py for first contact, stops and the log; mutants_records.py for
records, schemas and the sandbox's shapes; mutants_reads.py and mutants_downstream.py):

    Mutant(
        name="short-name",
        guarantee="the README's promise it breaks",
        file="tap_mixmax/client.py",
        original="exact text, found once",
        replacement="the broken text",
        tests=("tests/unit/test_x.py::test_y", ...),  # fast ones first: -x stops there
    ),
"""

from __future__ import annotations

import sys

from mutant_runner import Mutant, main
from mutants_downstream import DOWNSTREAM_MUTANTS
from mutants_reads import READ_MUTANTS
from mutants_records import RECORD_MUTANTS
from mutants_reliability import RELIABILITY_MUTANTS

T_HTTP = "tests/unit/test_client_http.py::"
T_CORE = "tests/tap/test_core_streams.py::"
T_INC = "tests/tap/test_incremental.py::"
T_FAULTS = "tests/tap/test_faults.py::"
T_PACE = "tests/tap/test_pace.py::"
T_PACER = "tests/unit/test_pacing.py::"
T_ACCOUNTS = "tests/tap/test_accounts_sync.py::"
T_LANES = "tests/tap/test_lanes.py::"
T_RESUME = "tests/tap/test_resume.py::"
T_HOSTILE = "tests/tap/test_hostile_servers.py::"
T_RUNNING = "tests/tap/test_running.py::"
T_TYPES = "tests/unit/test_typecheck_config.py::"

MUTANTS: tuple[Mutant, ...] = (
    # -- Every row: paging ------------------------------------------------------------
    Mutant(
        name="cursor-stops-after-one-page",
        guarantee="Every row: pages are followed while hasNext is true",
        file="tap_mixmax/client.py",
        original="        return not self._stop_early()",
        replacement="        return False",
        tests=(
            T_HTTP + "test_follows_next_while_has_next_and_stops_on_the_last_page_even_with_next",
            T_CORE + "test_every_list_is_read_to_its_end_in_exactly_the_fewest_pages",
        ),
    ),
    Mutant(
        name="next-over-hasNext",
        guarantee="follows `hasNext` rather than the presence of `next`",
        file="tap_mixmax/client.py",
        original='        if not page_body(response).get("hasNext"):',
        replacement='        if not page_body(response).get("next"):',
        tests=(
            T_CORE + "test_full_sync_uses_exactly_the_fewest_requests",
            T_HTTP + "test_follows_next_while_has_next_and_stops_on_the_last_page_even_with_next",
        ),
    ),
    Mutant(
        name="same-cursor-followed-forever",
        guarantee="Every row: a cursor Mixmax repeats fails loudly instead of looping",
        file="tap_mixmax/client.py",
        original="        if cursor in self._seen or cursor == self.current_value:",
        replacement="        if False:",
        tests=(T_HTTP + "test_the_same_cursor_twice_fails_instead_of_looping",),
    ),
    # -- Incremental and resumable ------------------------------------------------------
    Mutant(
        name="bookmark-moves-mid-stream",
        guarantee="the bookmark may not move until a stream has been read to its end",
        file="tap_mixmax/streams.py",
        original='    name = "messages"\n    path = "/messages"\n    primary_keys = ("_id",)\n'
        '    replication_key = "created"\n    is_sorted = False',
        replacement='    name = "messages"\n    path = "/messages"\n    primary_keys = ("_id",)\n'
        '    replication_key = "created"\n    is_sorted = True\n    check_sorted = False',
        tests=(T_RESUME + "test_the_bookmark_moves_only_when_the_stream_ends[messages]",),
    ),
    Mutant(
        name="no-lookback",
        guarantee="reading stops once a whole page is older than bookmark - lookback",
        file="tap_mixmax/sync_window.py",
        original="        cutoff = to_datetime(bookmark) - dt.timedelta(days=lookback_days)",
        replacement="        cutoff = to_datetime(bookmark)",
        tests=(
            T_INC + "test_rerun_without_changes_costs_exactly_the_fewest_requests",
            T_INC + "test_rerun_after_time_moves_picks_up_every_new_and_changed_row",
        ),
    ),
    Mutant(
        name="livefeed-window-without-activity-days",
        guarantee="the live feed re-reads livefeed_activity_days before the bookmark",
        file="tap_mixmax/streams.py",
        original='    lookback_setting = "livefeed_activity_days"',
        replacement="    lookback_setting = None",
        tests=(
            T_INC + "test_livefeed_asks_for_everyone_and_a_sent_window_once_bookmarked",
            T_INC + "test_event_on_an_old_message_arrives_in_the_next_sync",
        ),
    ),
    Mutant(
        name="livefeed-window-unpadded",
        guarantee="the sent: window is padded by a day on each side",
        file="tap_mixmax/streams.py",
        original="LIVEFEED_DAY_PADDING = 1",
        replacement="LIVEFEED_DAY_PADDING = 0",
        tests=(T_INC + "test_livefeed_asks_for_everyone_and_a_sent_window_once_bookmarked",),
    ),
    Mutant(
        name="events-for-every-row",
        guarantee="a message nobody opened costs no request (events only on new activity)",
        file="tap_mixmax/streams.py",
        original='        if "lastEventAt" not in record:\n            return True',
        replacement="        if True:\n            return True",
        tests=(
            T_INC + "test_rerun_without_changes_costs_exactly_the_fewest_requests",
            T_INC + "test_rerun_after_time_moves_picks_up_every_new_and_changed_row",
        ),
    ),
    # -- Inside the rate limit ------------------------------------------------------------
    Mutant(
        name="retry-after-read-as-one-second",
        guarantee="waits exactly as long as Retry-After says",
        file="tap_mixmax/api.py",
        original='            retry_after = parse_retry_after(response.headers.get("Retry-After"))',
        replacement="            retry_after = 1.0",
        tests=(T_PACE + "test_a_429_waits_exactly_what_retry_after_says_in_seconds",),
    ),
    Mutant(
        name="retry-after-date-read-as-one-second",
        guarantee="Retry-After in seconds or an HTTP date",
        file="tap_mixmax/pacing.py",
        original="    return max(0.0, when.timestamp() - current)",
        replacement="    return 1.0",
        tests=(T_PACE + "test_a_429_with_an_http_date_waits_until_that_date",),
    ),
    Mutant(
        name="pace-setting-ignored",
        guarantee="max_requests_per_minute sets the client-side pace",
        file="tap_mixmax/tap.py",
        original="        self.pacer = api.pacer if api is not None else RequestPacer(rpm, logger=self.account_logger)",
        replacement="        self.pacer = api.pacer if api is not None else RequestPacer(\n"
        "            MIXMAX_RATE_LIMIT_PER_MINUTE, logger=self.account_logger\n        )",
        tests=(T_PACE + "test_the_pace_setting_reaches_the_pacer",),
    ),
    Mutant(
        name="no-client-pace",
        guarantee="It paces itself under 120 requests a minute",
        file="tap_mixmax/tap.py",
        original="        self.pacer = api.pacer if api is not None else RequestPacer(rpm, logger=self.account_logger)",
        replacement="        self.pacer = api.pacer if api is not None else RequestPacer(10**9)",
        tests=(T_PACE + "test_the_default_pace_stays_under_the_real_limit_and_uses_most_of_it",),
    ),
    Mutant(
        name="pacer-never-waits",
        guarantee="a sliding window of its own requests (max_requests_per_minute)",
        file="tap_mixmax/pacing.py",
        original="                if delay <= 0:",
        replacement="                if True:",
        tests=(
            T_PACER + "test_the_request_over_the_limit_waits_for_the_window_to_slide",
            T_FAULTS + "test_a_tight_server_limit_is_obeyed_from_its_headers_alone",
        ),
    ),
    Mutant(
        name="rate-headers-ignored",
        guarantee="stops when X-RateLimit-Remaining reaches 0 until X-RateLimit-Reset",
        file="tap_mixmax/api.py",
        original="        self.pacer.observe(response.headers)",
        replacement="        pass",
        tests=(
            T_FAULTS + "test_a_tight_server_limit_is_obeyed_from_its_headers_alone",
            T_ACCOUNTS + "test_accounts_sync_concurrently_and_each_within_its_own_server_limit",
        ),
    ),
    Mutant(
        name="remaining-zero-not-seen",
        guarantee="stops when X-RateLimit-Remaining reaches 0",
        file="tap_mixmax/pacing.py",
        original="            exhausted = float(remaining) <= self.reserve",
        replacement="            exhausted = False",
        tests=(
            T_PACER + "test_remaining_zero_blocks_until_reset",
            T_FAULTS + "test_a_tight_server_limit_is_obeyed_from_its_headers_alone",
        ),
    ),
    Mutant(
        name="lanes-pace-apart",
        guarantee="Every lane of a token waits for the token's one pacer",
        file="tap_mixmax/parts.py",
        original="                api=tap.api,\n",
        replacement="",
        tests=(T_LANES + "test_lanes_share_one_pacer_and_schema_goes_out_once",),
    ),
    Mutant(
        name="accounts-share-a-pacer",
        guarantee="Each account (token) has an API object of its own, so its own pace",
        file="tap_mixmax/parts.py",
        original="            part=Part(account=account.name, report=tap.report, first_contact=tap.first_contact),",
        replacement="            part=Part(\n                account=account.name,\n                api=tap.api,\n"
        "                report=tap.report,\n                first_contact=tap.first_contact,\n            ),",
        tests=(T_ACCOUNTS + "test_each_account_has_a_pacer_of_its_own",),
    ),
    # -- Retries: each fault kind -----------------------------------------------------------
    Mutant(
        name="429-not-retried",
        guarantee="429: waits what Retry-After says, and retries",
        file="tap_mixmax/retrying.py",
        original="RETRIABLE_ERRORS = (errors.TransientAPIError, errors.MalformedPageError, "
        "errors.RateLimitedError)",
        replacement="RETRIABLE_ERRORS = (errors.TransientAPIError, errors.MalformedPageError)",
        tests=(T_FAULTS + "test_each_transient_fault_is_retried_and_the_sync_is_exact[list-429]",),
    ),
    Mutant(
        name="5xx-not-retried",
        guarantee="retries 500, 502, 503, 504",
        file="tap_mixmax/api.py",
        original="        if status >= 500:",
        replacement="        if status >= 600:",
        tests=(T_FAULTS + "test_each_transient_fault_is_retried_and_the_sync_is_exact[list-500]",),
    ),
    Mutant(
        name="dropped-connection-not-retried",
        guarantee="retries dropped or reset connections",
        file="tap_mixmax/retrying.py",
        original="    requests.exceptions.Timeout,\n    requests.exceptions.ConnectionError,\n",
        replacement="    requests.exceptions.Timeout,\n",
        tests=(T_FAULTS + "test_each_transient_fault_is_retried_and_the_sync_is_exact[list-drop]",),
    ),
    Mutant(
        name="timeout-not-retried",
        guarantee="retries answers slower than request_timeout",
        file="tap_mixmax/transport.py",
        original='        return errors.SlowResponseError(\n            f"{self.origin.hostport} sent no complete answer',
        replacement='        return errors.MixmaxError(\n            f"{self.origin.hostport} sent no complete answer',
        tests=(T_FAULTS + "test_each_transient_fault_is_retried_and_the_sync_is_exact[list-slow]",),
    ),
    Mutant(
        name="cut-body-not-retried",
        guarantee="retries truncated bodies",
        file="tap_mixmax/retrying.py",
        original="    requests.exceptions.ChunkedEncodingError,\n",
        replacement="",
        tests=(T_HTTP + "test_a_body_cut_short_of_its_content_length_is_retried",),
    ),
    Mutant(
        name="non-json-200-fatal",
        guarantee="retries a 200 whose body is not valid JSON",
        file="tap_mixmax/api.py",
        original="            raise errors.MalformedPageError(\n"
        '                f"Mixmax sent a page that is not valid JSON on {path}"',
        replacement="            raise errors.BadRequestError(\n"
        '                f"Mixmax sent a page that is not valid JSON on {path}"',
        tests=(
            T_HTTP + "test_a_200_that_is_not_json_is_retried",
            T_FAULTS + "test_each_transient_fault_is_retried_and_the_sync_is_exact[list-truncate]",
        ),
    ),
    Mutant(
        name="broken-row-half-used",
        guarantee="A page is parsed whole before any of its rows is emitted",
        file="tap_mixmax/api.py",
        original="        if not all(isinstance(row, dict) for row in rows):",
        replacement="        if False:",
        tests=(T_HTTP + "test_a_page_with_a_broken_row_is_retried_whole_and_never_half_emitted",),
    ),
    # -- The token ------------------------------------------------------------------------
    Mutant(
        name="token-in-url",
        guarantee="The token travels only in the X-API-Token header, never in a URL",
        file="tap_mixmax/client.py",
        original='        params: dict[str, t.Any] = {**self.fixed_params(self.config), "limit": self.page_size}',
        replacement='        params: dict[str, t.Any] = {**self.fixed_params(self.config), "limit": self.page_size, '
        '"apiToken": self.config["api_token"]}',
        tests=(
            T_HTTP + "test_follows_next_while_has_next_and_stops_on_the_last_page_even_with_next",
            T_FAULTS + "test_the_token_never_leaks_even_at_debug",
        ),
    ),
    Mutant(
        name="token-in-retry-log",
        guarantee="The token never appears in a log line (masked as each record is made)",
        file="tap_mixmax/redact.py",
        original="    record.msg, record.args = redact(message), None",
        replacement="    record.msg, record.args = message, None",
        tests=(
            T_HOSTILE + "test_a_token_the_server_echoes_is_masked_everywhere_even_at_debug",
            T_FAULTS + "test_the_token_never_leaks_even_at_debug",
        ),
    ),
    *RECORD_MUTANTS,  # scripts/mutants_records.py: records, their schemas, the shapes
    # -- Accounts and stopping -------------------------------------------------------------
    Mutant(
        name="accounts-share-one-state",
        guarantee="An account only ever moves its own bookmarks",
        file="tap_mixmax/accounts.py",
        original="        state = self.output.state_of(account.name)",
        replacement="        state = self.output.state_of(self.accounts[0].name)",
        tests=(T_ACCOUNTS + "test_bookmarks_are_per_account_and_never_move_another",),
    ),
    Mutant(
        name="no-state-on-sigterm",
        guarantee="on SIGTERM the last message is the newest STATE",
        file="tap_mixmax/parallel.py",
        original="            if not self._stopped:\n                try:",
        replacement="            if False:\n                try:",
        tests=(
            T_LANES + "test_sigterm_stops_every_lane_at_once_and_the_last_state_covers_its_records",
        ),
    ),
    Mutant(
        name="lanes-go-on-after-sigterm",
        guarantee="SIGTERM stops every stream lane and every account at its next safe point",
        file="tap_mixmax/stopping.py",
        original='    if _stop.is_set() and not getattr(_last_word, "allowed", False):',
        replacement="    if False:",
        tests=(
            T_ACCOUNTS + "test_sigterm_stops_every_account_and_the_last_state_covers_its_records",
        ),
    ),
    *READ_MUTANTS,  # scripts/mutants_reads.py: offset paging, the cap, new streams, --doctor
    # -- Security: hostile and broken servers (README "Security") -----------------------
    Mutant(
        name="redirect-followed-off-origin",
        guarantee="The token never leaves its origin: a redirect elsewhere is refused",
        file="tap_mixmax/transport.py",
        original="        if origin != self.origin:",
        replacement="        if False:",
        tests=(
            T_HOSTILE + "test_a_redirect_to_another_port_is_refused_and_gets_no_token",
            T_HOSTILE + "test_https_never_goes_down_to_http",
        ),
    ),
    Mutant(
        name="redirect-origin-ignores-port",
        guarantee="The origin is scheme, host and port",
        file="tap_mixmax/transport.py",
        original='        return cls(scheme, (parts.hostname or "").lower(), port)',
        replacement='        return cls(scheme, (parts.hostname or "").lower(), 0)',
        tests=(T_HOSTILE + "test_a_redirect_to_another_port_is_refused_and_gets_no_token",),
    ),
    Mutant(
        name="token-in-a-page",
        guarantee="A page quoting the token is masked before its rows are read",
        file="tap_mixmax/api.py",
        original="                content = content.replace(form, MASK.encode())",
        replacement="                pass",
        tests=(T_HOSTILE + "test_a_token_the_server_echoes_is_masked_everywhere_even_at_debug",),
    ),
    Mutant(
        name="token-in-the-error-line",
        guarantee="The token never appears in an error message",
        file="tap_mixmax/cli.py",
        original='    text = " ".join(redact(message).split())',
        replacement='    text = " ".join(message.split())',
        tests=(T_HOSTILE + "test_a_token_the_server_echoes_is_masked_everywhere_even_at_debug",),
    ),
    Mutant(
        name="config-secrets-not-registered",
        guarantee="Config errors never print a token",
        file="tap_mixmax/checks.py",
        original="        redact.register(_strings(config.get(key)))",
        replacement="        pass",
        tests=(T_HOSTILE + "test_config_errors_never_print_tokens_in_any_shape",),
    ),
    Mutant(
        name="deadline-per-read-only",
        guarantee="request_timeout bounds the whole response, however slowly it trickles",
        file="tap_mixmax/transport.py",
        original="        timer.start()\n",
        replacement="",
        tests=(
            T_HOSTILE + "test_request_timeout_bounds_the_whole_response_however_slowly_it_trickles",
        ),
    ),
    Mutant(
        name="budget-ignored-in-flight",
        guarantee="The retry budget holds while a request is in flight",
        file="tap_mixmax/transport.py",
        original="        limit = min(timeout, deadline - time.monotonic())",
        replacement="        limit = timeout",
        tests=(T_HOSTILE + "test_the_retry_budget_holds_while_a_request_is_in_flight",),
    ),
    Mutant(
        name="cursor-cycle-followed",
        guarantee="Any repeated cursor within one listing is an error, never a loop",
        file="tap_mixmax/client.py",
        original="        if cursor in self._seen or cursor == self.current_value:",
        replacement="        if cursor == self.current_value:",
        tests=(T_HOSTILE + "test_a_cursor_cycle_is_an_error_not_a_loop",),
    ),
    Mutant(
        name="nan-timestamp-kills-the-sync",
        guarantee="A bad value never kills a sync: NaN and Infinity become null",
        file="tap_mixmax/records.py",
        original="        if kind is float and not math.isfinite(value):",
        replacement="        if False:",
        tests=(
            T_HOSTILE + "test_unreadable_timestamps_become_null_and_keep_their_raw_value_in_extra",
        ),
    ),
    Mutant(
        name="row-without-key-moves-the-bookmark",
        guarantee="A row without its replication key does not move the bookmark",
        file="tap_mixmax/sync_window.py",
        original="        return self.key is not None and record.get(self.key) is not None",
        replacement="        return self.key is not None",
        tests=(
            T_HOSTILE
            + "test_a_row_without_its_replication_key_is_emitted_and_does_not_move_the_bookmark",
        ),
    ),
    Mutant(
        name="no-body-cap",
        guarantee="A body over max_response_megabytes is refused before it fills memory",
        file="tap_mixmax/transport.py",
        original="            if len(body) > self.max_body_bytes:",
        replacement="            if False:",
        tests=(
            T_HOSTILE + "test_a_compression_bomb_is_refused_at_the_cap_and_costs_little_memory",
        ),
    ),
    Mutant(
        name="untrusted-certificate-retried",
        guarantee="A certificate failure is fatal at once and not retried",
        file="tap_mixmax/transport.py",
        original="            if is_untrusted_certificate(exc):",
        replacement="            if False:",
        tests=(T_HOSTILE + "test_an_untrusted_certificate_fails_at_once_without_retries",),
    ),
    Mutant(
        name="ssl-cert-file-ignored",
        guarantee="SSL_CERT_FILE names the CA bundle to trust",
        file="tap_mixmax/transport.py",
        original="            if bundle:",
        replacement="            if False:",
        tests=(T_HOSTILE + "test_a_ca_bundle_from_the_environment_is_trusted",),
    ),
    Mutant(
        name="future-bookmark-kept",
        guarantee="A bookmark in the future warns and syncs from now minus the lookback",
        file="tap_mixmax/sync_window.py",
        original="    if bookmark > now + FUTURE_BOOKMARK_TOLERANCE:",
        replacement="    if False:",
        tests=(
            T_HOSTILE + "test_a_bookmark_in_the_future_warns_and_syncs_from_now_minus_the_lookback",
        ),
    ),
    Mutant(
        name="bad-bookmark-not-checked",
        guarantee="A bookmark that is not a date is one line naming the stream",
        file="tap_mixmax/tap.py",
        original="        check_state(self.state, [s.name for s in self.streams.values() if s.selected])",
        replacement="        pass",
        tests=(T_HOSTILE + "test_a_bookmark_that_is_not_a_date_is_one_line_naming_the_stream",),
    ),
    # -- What the log says ---------------------------------------------------------------
    Mutant(
        name="stream-logger-drops-sdk-adapter",
        guarantee="On singer-sdk 0.55 stream lines keep the SDK's stream_name",
        file="tap_mixmax/logs.py",
        original="    return logging.LoggerAdapter(logger, adapter.extra) if adapter is not None else logger",
        replacement="    return logger",
        tests=("tests/unit/test_logs.py",),
    ),
    Mutant(
        name="no-progress-lines",
        guarantee="A progress line every 30 s: rows, requests, the share of the limit, waits",
        file="tap_mixmax/report.py",
        original='            self.logger.info("%s", self.progress_line(now))',
        replacement="            pass",
        tests=(T_RUNNING + "test_a_long_sync_logs_progress_with_rows_requests_pace_and_waits",),
    ),
    Mutant(
        name="no-summary",
        guarantee="At the end, a summary with one line per stream, then the outcome",
        file="tap_mixmax/report.py",
        original='            self.logger.info("%s", line)  # one record a line: Meltano prefixes each',
        replacement="            pass",
        tests=(T_RUNNING + "test_the_default_log_tells_the_story_and_nothing_else",),
    ),
    # -- Stopping (README "Rate limits, retries and errors") ----------------------------
    Mutant(
        name="pace-wait-not-interruptible",
        guarantee="A stop while waiting for the rate limit is prompt",
        file="tap_mixmax/pacing.py",
        original="        sleep: Callable[[float], None] = stopping.wait,",
        replacement="        sleep: Callable[[float], None] = time.sleep,",
        tests=(
            T_RUNNING + "test_a_stop_while_waiting_for_the_rate_limit_is_prompt_and_honest",
            "tests/tap/test_stops_in_every_wait.py::test_a_stop_during_the_tap_s_own_pace_is_prompt"
            "[one lane]",
        ),
    ),
    Mutant(
        name="stop-heard-in-silence",
        guarantee="The tap says at once that it heard a stop, before the last STATE",
        file="tap_mixmax/cli.py",
        original="    stopping.on_stop(_say_stopping)\n",
        replacement="",
        tests=(
            T_LANES + "test_sigterm_stops_every_lane_at_once_and_the_last_state_covers_its_records",
        ),
    ),
    Mutant(
        name="stop-exits-zero",
        guarantee="An interrupted run exits 128 + the signal's number",
        file="tap_mixmax/cli.py",
        original="        os._exit(128 + signum)  # threads still unwinding must not delay the exit",
        replacement="        os._exit(0)",
        tests=(T_RUNNING + "test_a_stop_while_waiting_for_the_rate_limit_is_prompt_and_honest",),
    ),
    Mutant(
        name="second-ctrl-c-ignored",
        guarantee="A second Ctrl-C exits at once",
        file="tap_mixmax/stopping.py",
        original="        os._exit(128 + signum)  # the second signal: no more waiting",
        replacement="        return",
        tests=(T_RUNNING + "test_a_second_ctrl_c_exits_at_once_even_when_the_first_cannot_finish",),
    ),
    *RELIABILITY_MUTANTS,  # scripts/mutants_reliability.py: first contact, stops, the log
    *DOWNSTREAM_MUTANTS,  # scripts/mutants_downstream.py: loaders, open objects, marts
    # -- The house: no import cycle, settings declared once -------------------------------
    Mutant(
        name="import-cycle-under-type-checking",
        guarantee="tap_mixmax's modules import in no cycle, TYPE_CHECKING imports included",
        file="tap_mixmax/checks.py",
        original="from tap_mixmax.settings import DEFAULT_API_URL, MAX_PAGE_SIZE\n",
        replacement="from tap_mixmax.settings import DEFAULT_API_URL, MAX_PAGE_SIZE\n\n"
        "if t.TYPE_CHECKING:\n    from tap_mixmax.client import MixmaxStream\n",
        tests=("tests/unit/test_import_cycles.py::test_tap_mixmax_has_no_import_cycle",),
    ),
    Mutant(
        name="plugin-settings-drop-defaults",
        guarantee="meltano.yml and the plugin file declare each setting's default from SETTINGS",
        file="scripts/gen_plugin_settings.py",
        original='            setting["value"] = prop["default"]',
        replacement="            pass",
        tests=(
            "tests/docs/test_plugin_settings.py::"
            "test_the_committed_files_are_what_the_generator_writes",
        ),
    ),
    Mutant(
        name="docs-check-ignores-drift",
        guarantee="make docs-check fails when meltano.yml's settings drift from SETTINGS",
        file="scripts/gen_readme.py",
        original="        return 1 if stale else 0",
        replacement="        return 0",
        tests=("tests/docs/test_plugin_settings.py::test_docs_check_fails_when_a_file_drifts",),
    ),
    # -- The house: mypy checks every script and test file --------------------------------
    Mutant(
        name="mypy-skips-a-test-helper",
        guarantee="mypy names every script and test helper (what it only follows, it silences)",
        file="pyproject.toml",
        original='    "target_matrix", "sandbox_http",\n',
        replacement='    "target_matrix",\n',
        tests=(T_TYPES + "test_mypy_names_every_script_and_test_helper",),
    ),
    Mutant(
        name="mypy-drops-the-conftests",
        guarantee="mypy checks each test folder's conftest.py, as the package tests",
        file="pyproject.toml",
        original="(?!test_|conftest\\.py$)",
        replacement="(?!test_)",
        tests=(T_TYPES + "test_helpers_resolve_by_bare_name_and_test_modules_stay_in_the_package",),
    ),
)


if __name__ == "__main__":
    sys.exit(main(MUTANTS, __doc__.split("\n\n")[0]))
