"""`tap-mixmax --doctor`: a first-contact check of a real Mixmax account.

In about 40 requests per account (never more than MAX_REQUESTS_PER_ACCOUNT), it checks
the token, which endpoints the account's plan serves, and each guess the tap makes where
the API notes (docs/mixmax-api.md section 5, 6) have no confirmed answer. Each check is a
small function listed in CHECKS and returns findings: OK (as the tap assumes), DIFFERENT
(what was seen, what the tap assumes, what to change), UNAVAILABLE (this account cannot
tell) or FAILED (the check could not run). The report names fields and counts rows but
never shows a field's value, and `redact` removes tokens, email addresses and the user's
names from it, so it can be pasted into a bug report.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import sys
import typing as t
from collections.abc import Mapping
from urllib.parse import urlsplit

from tap_mixmax import __version__, errors
from tap_mixmax.checks import check_config, normalize_config, parse_accounts, read_json_object
from tap_mixmax.doctor.checks import (
    check_endpoints,
    check_events_message_param,
    check_live_feed_search,
    check_page_size_and_last_page,
    check_paging_flags,
    check_rate_limit_headers,
    check_rules_expand,
    check_timestamp_formats,
    check_token,
    check_unknown_fields,
)
from tap_mixmax.doctor.client import (
    MAX_REQUESTS_PER_ACCOUNT,
    REQUEST_TIMEOUT_SECONDS,
    BudgetSpentError,
    DoctorClient,
    say,
)
from tap_mixmax.doctor.reads import check_recipients_page_size, check_value_types
from tap_mixmax.doctor.visit import (
    SECTIONS,
    Check,
    Finding,
    Status,
    Visit,
    failed,
    plural,
    redact,
    unavailable,
)
from tap_mixmax.settings import DEFAULT_API_URL, LIVEFEED_QUERY_PARAM

__all__ = [
    "CHECKS",
    "MAX_REQUESTS_PER_ACCOUNT",
    "DoctorClient",
    "Status",
    "check_account",
    "main",
    "redact",
]

CHECKS: tuple[Check, ...] = (
    check_token,  # stops the account's checks when the token fails
    check_endpoints,
    check_live_feed_search,
    check_events_message_param,
    check_rules_expand,
    check_paging_flags,
    check_page_size_and_last_page,
    check_recipients_page_size,
    check_timestamp_formats,
    check_unknown_fields,
    check_value_types,  # after every check that reads rows
    check_rate_limit_headers,  # last: it reads every answer the others got
)


# -- running and reporting ----------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Target:
    label: str
    token: str = dataclasses.field(repr=False)


@dataclasses.dataclass(frozen=True)
class AccountReport:
    label: str
    requests: int
    findings: tuple[Finding, ...]
    personal: frozenset[str]

    def counts(self) -> dict[str, int]:
        return {s.value: sum(f.status is s for f in self.findings) for s in Status}


def check_account(
    client: DoctorClient, label: str, livefeed_query_param: str = LIVEFEED_QUERY_PARAM
) -> AccountReport:
    visit = Visit(client, livefeed_query_param=livefeed_query_param)
    findings: list[Finding] = []
    for check in CHECKS:
        try:
            findings.extend(check(visit))
        except BudgetSpentError as exc:
            findings.append(unavailable(check.__name__, str(exc)))
            break
        except Exception as exc:  # a bug or an answer no check foresaw: report it, go on
            findings.append(failed(check.__name__, f"the check broke: {type(exc).__name__}"))
        if visit.stopped:
            break
    return AccountReport(label, client.sent, tuple(findings), frozenset(visit.personal))


def safe_url(url: str) -> str:
    """The API URL without credentials or a query string."""
    parts = urlsplit(url)
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{parts.hostname}{port}{parts.path}"


def now_utc() -> str:
    return f"{dt.datetime.now(dt.timezone.utc):%Y-%m-%dT%H:%M:%SZ}"


def render_text(api_url: str, reports: list[AccountReport]) -> str:
    lines = [
        f"tap-mixmax {__version__} --doctor: first contact with the Mixmax API",
        f"API URL: {safe_url(api_url)}   checked {now_utc()}",
        "OK: as the tap assumes. DIFFERENT: not as the tap assumes. UNAVAILABLE: this "
        "account cannot tell. FAILED: the check could not run.",
    ]
    indent = " " * 46
    for report in reports:
        lines += ["", f"{report.label}: {plural(report.requests, 'request')}"]
        for section in SECTIONS:
            findings = [f for f in report.findings if f.section == section]
            lines += [f"  {section}"] if findings else []
            for finding in findings:
                lines.append(f"    {finding.status.value:<12} {finding.check:<28} {finding.seen}")
                if finding.status is Status.DIFFERENT:
                    lines.append(f"{indent}tap assumes: {finding.assumed}")
                    lines.append(f"{indent}change: {finding.change}")
                lines += [f"{indent}{detail}" for detail in finding.details]
        counts = ", ".join(f"{n} {status}" for status, n in report.counts().items() if n)
        lines.append(f"  Result: {counts}")
    lines += ["", "Tokens, email addresses and names are redacted; no field values are shown."]
    return "\n".join(lines)


def render_json(api_url: str, reports: list[AccountReport]) -> str:
    accounts = [
        {
            "account": report.label,
            "requests": report.requests,
            "counts": report.counts(),
            "findings": [
                {**dataclasses.asdict(f), "status": f.status.value, "details": list(f.details)}
                for f in report.findings
            ],
        }
        for report in reports
    ]
    document = {
        "tool": "tap-mixmax --doctor",
        "version": __version__,
        "api_url": safe_url(api_url),
        "checked_at": now_utc(),
        "accounts": accounts,
    }
    return json.dumps(document, indent=2, ensure_ascii=False)


def load_config(paths: list[str]) -> dict[str, t.Any]:
    """The config files merged in order, as the tap's CLI does; ConfigError in one line."""
    config: dict[str, t.Any] = {}
    for name in paths:
        config.update(read_json_object(name, "config"))
    return normalize_config(config)  # tokens registered for masking, stripped, parsed


def targets_of(config: Mapping[str, t.Any], account: str | None) -> list[Target]:
    """The tokens to check; with `accounts`, labelled by position, never by name."""
    accounts = parse_accounts(config)
    if not accounts:
        if account is not None:
            raise errors.ConfigError("--account needs `accounts` in the config")
        return [Target("api_token", str(config["api_token"]).strip())]
    total = len(accounts)
    targets = [
        Target(f"account {i} of {total} in accounts", entry.api_token)
        for i, entry in enumerate(accounts, 1)
        if account is None or entry.name == account
    ]
    if not targets:
        raise errors.ConfigError(f"no account named {account!r} in accounts ({total} set)")
    return targets


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tap-mixmax",
        description="Check a Mixmax account against what the tap assumes, in about 40 "
        "requests per account, and print a report safe to paste into a bug report.",
    )
    parser.add_argument("--doctor", action="store_true", required=True, help="run the check")
    parser.add_argument(
        "--config", action="append", required=True, metavar="FILE", help="tap config (repeatable)"
    )
    parser.add_argument("--account", metavar="NAME", help="with accounts: check only this one")
    parser.add_argument("--format", choices=("text", "json"), default="text")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Exit 0: nothing DIFFERENT or FAILED; 1: something is; 2: bad arguments or config."""
    args = build_parser().parse_args(argv)
    try:
        config = load_config(args.config)
        check_config(config)
        targets = targets_of(config, args.account)
    except errors.MixmaxError as exc:
        say(f"error: {exc}")
        return 2
    api_url = str(config.get("api_url") or DEFAULT_API_URL)
    timeout = float(config.get("request_timeout") or REQUEST_TIMEOUT_SECONDS)
    secrets = {a.api_token for a in parse_accounts(config)} | {t.token for t in targets}
    reports: list[AccountReport] = []
    try:
        for target in targets:
            client = DoctorClient(api_url, target.token, timeout=timeout)
            try:
                param = str(config.get("livefeed_query_param") or LIVEFEED_QUERY_PARAM)
                reports.append(check_account(client, target.label, param))
            finally:
                client.close()
    except KeyboardInterrupt:
        say("interrupted")
        return 130
    secrets = secrets.union(*(report.personal for report in reports))
    render = render_json if args.format == "json" else render_text
    sys.stdout.write(redact(render(api_url, reports), secrets) + "\n")
    problems = (Status.DIFFERENT, Status.FAILED)
    return 1 if any(f.status in problems for r in reports for f in r.findings) else 0
