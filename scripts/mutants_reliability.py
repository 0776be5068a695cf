"""Breaks of the reliability guarantees (README "Rate limits, retries and errors", "What
the log says", "Security"). Each is guarded by a test through the `tap-mixmax` command,
with the whole catalog or in `accounts` mode; where a fast in-process test (a constant
patched down) also catches it, that one runs first. scripts/mutants.py runs them with
the others.
"""

from __future__ import annotations

from mutant_runner import Mutant

T_HOSTILE = "tests/tap/test_hostile_servers.py::"
T_FIRST = "tests/tap/test_first_contact.py::"
T_STOPS = "tests/tap/test_stops_in_every_wait.py::"
T_WHERE = "tests/tap/test_guarantees_where_users_run_it.py::"
T_RUNNING = "tests/tap/test_running.py::"
T_PACER = "tests/unit/test_pacing.py::"
T_ACCOUNTS = "tests/unit/test_accounts.py::"
T_DOCTOR = "tests/tap/test_doctor.py::"
T_LOGS = "tests/unit/test_library_logs.py::"
T_PARTS = "tests/unit/test_parts.py::"
T_LANES = "tests/tap/test_lanes.py::"
DEAD_API_URL = (
    T_FIRST + "test_a_dead_api_url_ends_the_run_within_60_s_in_one_line_whole_catalog_and_accounts"
)
TRICKLE = T_WHERE + "test_a_trickling_or_silent_server_ends_in_one_honest_line_within_the_deadlines"

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
            DEAD_API_URL,
        ),
    ),
    Mutant(
        name="blips-held-to-first-contact",
        guarantee="A blip in the middle of a sync keeps retrying within the budget",
        file="tap_mixmax/api.py",
        original="        self.first_contact.answer_received()",
        replacement="        pass",
        tests=(T_HOSTILE + "test_a_blip_in_the_middle_of_a_sync_keeps_retrying_within_the_budget",),
    ),
    Mutant(
        name="lanes-start-as-if-the-api-had-answered",
        guarantee="First contact holds for the whole catalog, whatever the number of lanes",
        file="tap_mixmax/tap.py",
        original="        self.first_contact = self.part.first_contact or FirstContact()",
        replacement="        self.first_contact = self.part.first_contact or FirstContact()\n"
        "        if self.part.streams is not None:\n"
        "            self.first_contact.answer_received()",
        tests=(
            T_FIRST + "test_first_contact_holds_for_every_lane_of_the_whole_catalog",
            DEAD_API_URL,
        ),
    ),
    Mutant(
        name="first-contact-per-tap",
        guarantee="First contact is one rule per run, whatever the number of accounts",
        file="tap_mixmax/tap.py",
        original="        self.first_contact = self.part.first_contact or FirstContact()",
        replacement="        self.first_contact = FirstContact()",
        tests=(
            T_FIRST + "test_accounts_after_first_contact_failed_fail_at_once_in_its_words",
            DEAD_API_URL,
        ),
    ),
    Mutant(
        name="first-contact-failure-not-shared",
        guarantee="Once first contact failed, every other part fails at once in the same words",
        file="tap_mixmax/first_contact.py",
        original="            failure = None if self._answered else self._failure",
        replacement="            failure = None",
        tests=(T_FIRST + "test_accounts_after_first_contact_failed_fail_at_once_in_its_words",),
    ),
    Mutant(
        name="accounts-repeat-the-same-cause",
        guarantee="A dead api_url ends the run with one line naming host:port once",
        file="tap_mixmax/accounts.py",
        original="            names_by_reason.setdefault(failure.reason, []).append(failure.account)",
        replacement="            names_by_reason.setdefault(failure.account + failure.reason, []).append(failure.account)",
        tests=(T_ACCOUNTS + "test_accounts_that_fail_alike_share_one_mention_of_the_cause",),
    ),
    Mutant(
        name="tls-handshake-not-a-connect-failure",
        guarantee="A TLS handshake that fails is a connect failure, held to first contact",
        file="tap_mixmax/transport.py",
        original="            if not watch.connected:",
        replacement="            if False:",
        tests=(
            T_FIRST + "test_a_tls_handshake_that_fails_is_a_connect_failure",
            T_FIRST + "test_a_connect_that_hangs_fails_as_a_connect_naming_request_timeout",
        ),
    ),
    Mutant(
        name="dns-lookup-unbounded",
        guarantee="request_timeout bounds a request whole, its DNS lookup included",
        file="tap_mixmax/transport.py",
        original="    stopping.wait(seconds, until=lambda: bool(found))",
        replacement="    stopping.wait(None, until=lambda: bool(found))",
        tests=(T_FIRST + "test_a_dns_lookup_that_hangs_is_cut_at_request_timeout",),
    ),
    # -- Every wait can be interrupted -------------------------------------------------------
    Mutant(
        name="backoff-sleeps-uninterruptibly",
        guarantee="A stop during a retry backoff ends the run within 2 s",
        file="tap_mixmax/retrying.py",
        original="        stopping.wait(wait)",
        replacement="        time.sleep(wait)",
        tests=(
            T_STOPS + "test_a_stop_during_a_connect_retry_is_prompt",
            T_STOPS + "test_a_stop_during_a_retry_backoff_is_prompt_and_resumes_without_loss",
        ),
    ),
    Mutant(
        name="a-stop-wakes-no-waiter",
        guarantee="A stop ends every wait at once (the pace, a Retry-After, a backoff)",
        file="tap_mixmax/stopping.py",
        original="on_stop(wake)\n",
        replacement="",
        tests=(T_STOPS + "test_a_stop_during_a_retry_after_is_prompt",),
    ),
    Mutant(
        name="parts-wait-for-every-part",
        guarantee="A stop does not wait for the accounts or lanes still waiting their turn",
        file="tap_mixmax/parallel.py",
        original="        wait(until=lambda: all(future.done() for future in futures))",
        replacement="        concurrent.futures.wait(futures)",
        tests=(T_STOPS + "test_accounts_waiting_their_turn_stop_with_the_one_in_a_retry_after",),
    ),
    Mutant(
        name="no-state-after-a-stop-in-the-first-lane",
        guarantee="After a stop the last line is a STATE, also during the token check",
        file="tap_mixmax/lanes.py",
        original="            self.output.stop()  # stopped in the first lane: run_parts did not see it",
        replacement="            pass",
        tests=(T_FIRST + "test_a_connect_that_hangs_is_cut_by_a_stop_at_once[catalog]",),
    ),
    Mutant(
        name="connect-not-watched",
        guarantee="A stop (or the deadline) cuts a connect that hangs",
        file="tap_mixmax/transport.py",
        original="            _attach(sock)\n            sock.connect(where)",
        replacement="            sock.connect(where)",
        tests=(T_FIRST + "test_a_connect_that_hangs_is_cut_by_a_stop_at_once[catalog]",),
    ),
    # -- The log is the tap's own --------------------------------------------------------------
    Mutant(
        name="trickled-answer-read-as-a-page",
        guarantee="An answer cut at request_timeout is named too slow, not 'not valid JSON'",
        file="tap_mixmax/transport.py",
        original="            if watch.expired:  # the cut socket read as a (short) end of headers or body",
        replacement="            if False:",
        tests=(TRICKLE,),
    ),
    Mutant(
        name="library-tracebacks-shown",
        guarantee="No library logger prints a traceback at the default level",
        file="tap_mixmax/tap.py",
        original="        tame_library_logs()",
        replacement="        pass",
        tests=(TRICKLE,),
    ),
    Mutant(
        name="library-symptoms-shown",
        guarantee="A library's line that only describes a symptom stays at DEBUG",
        file="tap_mixmax/logs.py",
        original='        if getattr(record, "template", record.msg) in LIBRARY_SYMPTOMS:',
        replacement="        if False:",
        tests=(TRICKLE,),
    ),
    Mutant(
        name="library-lines-keep-their-tracebacks",
        guarantee="A library's warning is one line of the tap's own, without its traceback",
        file="tap_mixmax/logs.py",
        original="        record.exc_info = record.exc_text = record.stack_info = None",
        replacement="        pass",
        tests=(T_LOGS + "test_a_library_warning_is_one_tap_line_without_its_traceback",),
    ),
    Mutant(
        name="counts-always-plural",
        guarantee="A count agrees with its noun ('Syncing 1 stream')",
        file="tap_mixmax/report.py",
        original="    return f\"{count:,} {noun}{'' if count == 1 else 's'}\"",
        replacement='    return f"{count:,} {noun}s"',
        tests=(T_RUNNING + "test_metric_lines_come_back_with_log_metrics",),
    ),
    # -- The six promises no test held (issue 23) ----------------------------------------------
    Mutant(
        name="https-down-to-http-on-the-same-port",
        guarantee="A redirect from https to http is refused, even to the same host and port",
        file="tap_mixmax/transport.py",
        original="        if origin != self.origin:",
        replacement="        if (origin.host, origin.port) != (self.origin.host, self.origin.port):",
        tests=(
            T_WHERE + "test_https_never_goes_down_to_http_even_on_the_same_host_and_port[catalog]",
        ),
    ),
    Mutant(
        name="plain-http-for-private-hosts",
        guarantee="api_url must be https, except on a loopback host",
        file="tap_mixmax/checks.py",
        original='        return ipaddress.ip_address(host.strip("[]")).is_loopback',
        replacement='        return ipaddress.ip_address(host.strip("[]")).is_private',
        tests=(
            T_WHERE
            + "test_plain_http_to_a_private_address_is_refused_in_one_line[catalog-http://192.168.0.10/v1]",
        ),
    ),
    Mutant(
        name="reset-obeyed-past-the-window",
        guarantee="X-RateLimit-Reset is never obeyed for more than the limit's 60 s window",
        file="tap_mixmax/pacing.py",
        original="    return min(RATE_LIMIT_WINDOW_SECONDS, max(0.0, seconds))",
        replacement="    return max(0.0, seconds)",
        tests=(
            T_PACER + "test_a_reset_far_away_is_never_obeyed_past_the_window",
            T_STOPS + "test_a_reset_a_day_away_is_waited_60_s_at_most_and_a_stop_ends_that_wait",
        ),
    ),
    Mutant(
        name="retry-after-past-the-budget-waited",
        guarantee="A Retry-After longer than the budget has left fails at once, in one line",
        file="tap_mixmax/retrying.py",
        original="            if failure.retry_after > left - MIN_TRY_SECONDS:",
        replacement="            if False:",
        tests=(
            T_WHERE
            + "test_a_retry_after_longer_than_the_budget_fails_at_once_in_one_line[catalog]",
        ),
    ),
    Mutant(
        name="events-only-strictly-after-the-bookmark",
        guarantee="Live-feed events are read for rows active at or after the bookmark",
        file="tap_mixmax/streams.py",
        original="last_event >= self._last_sync_bookmark",
        replacement="last_event > self._last_sync_bookmark",
        tests=(
            T_WHERE + "test_livefeed_events_are_read_for_rows_active_at_or_after_the_bookmark"
            "[catalog-2026-01-10T12:00:00.000Z]",
        ),
    ),
    Mutant(
        name="bookmark-compared-in-its-written-form",
        guarantee="One instant is one bookmark, whatever form the state writes it in",
        file="tap_mixmax/streams.py",
        original="        self._last_sync_bookmark = None if start is None else format_utc(to_datetime(start))",
        replacement="        self._last_sync_bookmark = start",
        tests=(
            T_WHERE + "test_livefeed_events_are_read_for_rows_active_at_or_after_the_bookmark"
            "[catalog-2026-01-10T12:00:00Z]",
        ),
    ),
    Mutant(
        name="doctor-ok-for-an-unreadable-timestamp-off-the-key",
        guarantee="--doctor flags every date-time field the tap cannot read",
        file="tap_mixmax/doctor/checks.py",
        original='                    unreadable.add(f"{endpoint.name}.{field}{key}")',
        replacement="                    if key:\n"
        '                        unreadable.add(f"{endpoint.name}.{field}{key}")',
        tests=(
            T_DOCTOR + "test_each_broken_guess_is_reported_and_only_that"
            "[unreadable timestamp, not the replication key]",
        ),
    ),
    Mutant(
        name="lanes-skip-the-token-check",
        guarantee="A bad token costs one request and one clear line, with lanes too",
        file="tap_mixmax/parts.py",
        original="            tap.check_connection()  # one /users/me before the lanes fan out",
        replacement="            pass",
        tests=(
            T_PARTS + "test_each_family_gets_a_lane_that_shares_the_accounts_api_object",
            T_LANES + "test_a_bad_token_costs_one_request_with_lanes[users-me-first]",
        ),
    ),
    Mutant(
        name="stop-loses-the-last-state",
        guarantee="on SIGTERM the last message is the newest STATE, also without lanes",
        file="tap_mixmax/parts.py",
        original="                    tap.message_writer.write_message(StateMessage(value=tap.state))",
        replacement="                    pass",
        tests=(
            T_PARTS + "test_a_stop_in_a_tap_of_its_own_writes_its_newest_state_last",
            T_RUNNING + "test_a_stop_while_waiting_out_a_retry_after_is_prompt",
        ),
    ),
)
