"""Mistakes in config, state and catalog: one line each, naming the setting, file or stream.

Nothing here echoes a token: every secret setting is registered for masking before the
config is validated (tap_mixmax/redact.py), and the checks of secret values say what is
wrong with them, never what they are.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import ipaddress
import json
import logging
import re
import typing as t
from collections.abc import Iterable, Mapping
from pathlib import Path
from urllib.parse import urlsplit

import click
from typing_extensions import override

from tap_mixmax import errors, redact
from tap_mixmax.records import TimestampError, to_datetime
from tap_mixmax.settings import DEFAULT_API_URL, MAX_PAGE_SIZE

SECRET_SETTINGS = ("api_token", "accounts")
QUERY_PARAM_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,39}")
LOOPBACK_NAMES = frozenset({"localhost"})
# Settings that must be at least 1 / at least 0 (their defaults live with the settings).
POSITIVE_SETTINGS = (
    "request_timeout",
    "retry_budget_seconds",
    "max_response_megabytes",
    "max_parallel_streams",
    "max_parallel_accounts",
    "max_requests_per_minute",
)
NON_NEGATIVE_SETTINGS = ("lookback_days", "livefeed_activity_days", "recipients_full_pass_days")


def _strings(value: t.Any) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)
    elif value is not None:
        yield str(value)


def _type_name(value: t.Any) -> str:
    return {str: "a string", list: "a list", dict: "an object", bool: "true/false"}.get(
        type(value), type(value).__name__
    )


def normalize_config(config: Mapping[str, t.Any]) -> dict[str, t.Any]:
    """The config as the tap uses it: secrets registered, tokens stripped, `accounts` parsed.

    Secrets files often end in a newline, and environment variables can carry an array
    only as JSON text, so both are accepted as users write them.
    """
    config = dict(config)
    for key in SECRET_SETTINGS:
        redact.register(_strings(config.get(key)))
    if isinstance(config.get("api_token"), str):
        config["api_token"] = config["api_token"].strip()
    accounts = config.get("accounts")
    if isinstance(accounts, str):
        try:
            accounts = json.loads(accounts) if accounts.strip() else None
        except ValueError:
            raise errors.ConfigError(
                "invalid config: accounts is text that is not JSON; give a JSON array of "
                '{"name": ..., "api_token": ...} objects'
            ) from None
    if accounts is not None:
        if not isinstance(accounts, list):
            raise errors.ConfigError(
                "invalid config: accounts must be an array of {name, api_token} objects, "
                f"not {_type_name(accounts)}"
            )
        entries = []
        for index, entry in enumerate(accounts):
            if not isinstance(entry, dict):
                raise errors.ConfigError(
                    f"invalid config: accounts[{index}] must be an object "
                    f"{{name, api_token}}, not {_type_name(entry)}"
                )
            token = entry.get("api_token")
            entries.append(
                {**entry, "api_token": token.strip()} if isinstance(token, str) else entry
            )
        accounts = entries
    if "accounts" in config:
        config["accounts"] = accounts
    return config


def check_token(token: str, setting: str) -> None:
    """A token an HTTP header can carry, or one line saying what is wrong (not what it is)."""
    if any(ord(char) < 32 or ord(char) == 127 for char in token):
        raise errors.ConfigError(
            f"invalid config: {setting} contains a control character (a line break or tab "
            "inside it?); copy the token again"
        )
    try:
        token.encode("latin-1")
    except UnicodeEncodeError:
        raise errors.ConfigError(
            f"invalid config: {setting} contains characters a token cannot have (a "
            "typographic quote or dash from a copy?); copy the token again"
        ) from None


def is_loopback(host: str) -> bool:
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@dataclasses.dataclass(frozen=True)
class Account:
    name: str
    api_token: str = dataclasses.field(repr=False)


def parse_accounts(config: Mapping[str, t.Any]) -> list[Account]:
    """The `accounts` setting, checked: names unique and non-empty, tokens non-empty."""
    accounts: list[Account] = []
    for index, entry in enumerate(config.get("accounts") or []):
        name = str(entry.get("name") or "").strip()
        token = str(entry.get("api_token") or "").strip()
        if not name:
            raise errors.ConfigError(f"invalid config: accounts[{index}] has no name")
        if not token:
            raise errors.ConfigError(f"invalid config: account {name!r} has an empty api_token")
        if any(account.name == name for account in accounts):
            raise errors.ConfigError(f"invalid config: account name {name!r} is used twice")
        accounts.append(Account(name, token))
    return accounts


def check_config(config: Mapping[str, t.Any]) -> None:
    """Checks JSON Schema cannot express; raises ConfigError with one clear sentence."""
    accounts = [(account.name, account.api_token) for account in parse_accounts(config)]
    _check_credentials(config, accounts)
    _check_numbers(config, MAX_PAGE_SIZE)
    _check_user_agent(config.get("user_agent"))
    _check_api_url(str(config.get("api_url", DEFAULT_API_URL)))
    if config.get("start_date"):
        try:
            to_datetime(config["start_date"])
        except TimestampError:
            raise errors.ConfigError(
                f"invalid config: start_date {config['start_date']!r} is not an ISO-8601 date"
            ) from None
    param = config.get("livefeed_query_param")
    if param is not None and not QUERY_PARAM_NAME.fullmatch(str(param)):
        raise errors.ConfigError(
            "invalid config: livefeed_query_param must be a parameter name such as 'query'"
        )


def _check_credentials(config: Mapping[str, t.Any], accounts: list[tuple[str, str]]) -> None:
    """`accounts`: (name, token) of each."""
    token = str(config.get("api_token") or "")
    if accounts and token:
        raise errors.ConfigError("invalid config: set api_token or accounts, not both")
    if not accounts and not token:
        raise errors.ConfigError("invalid config: api_token is empty (set api_token or accounts)")
    if token:
        check_token(token, "api_token")
    for name, account_token in accounts:
        check_token(account_token, f"the api_token of account {name!r}")
    if accounts and config.get("emit_activate_version_messages"):
        raise errors.ConfigError(
            "invalid config: emit_activate_version_messages cannot be used with accounts "
            "(one account's table version would delete the other accounts' rows)"
        )


def _check_numbers(config: Mapping[str, t.Any], max_page_size: int) -> None:
    for setting in POSITIVE_SETTINGS:
        if setting in config and float(config[setting]) < 1:
            raise errors.ConfigError(f"invalid config: {setting} must be at least 1")
    for setting in NON_NEGATIVE_SETTINGS:
        if setting in config and float(config[setting]) < 0:
            raise errors.ConfigError(f"invalid config: {setting} must be 0 or more")
    if not 1 <= int(config.get("page_size", max_page_size)) <= max_page_size:
        raise errors.ConfigError(f"invalid config: page_size must be 1 to {max_page_size}")


def _check_user_agent(user_agent: t.Any) -> None:
    if not user_agent:
        return
    try:
        printable = str(user_agent).encode("latin-1").decode("latin-1").isprintable()
    except UnicodeEncodeError:
        printable = False
    if not printable:
        raise errors.ConfigError(
            "invalid config: user_agent must be one line of plain printable text"
        )


def _check_api_url(api_url: str) -> None:
    url = urlsplit(api_url)
    try:
        host = url.hostname
    except ValueError:
        host = None
    if url.scheme not in {"http", "https"} or not host:
        raise errors.ConfigError(
            f"invalid config: api_url must be an http(s) URL, not {url.geturl()!r}"
        )
    if url.scheme == "http" and not is_loopback(host):
        raise errors.ConfigError(
            "invalid config: api_url must use https (plain http is only allowed for a "
            "loopback host such as the bundled sandbox)"
        )


# -- state -------------------------------------------------------------------------------


def bookmark_datetime(stream: str, value: t.Any) -> dt.datetime:
    """A state bookmark as a datetime, or one line naming the stream."""
    try:
        return to_datetime(value)
    except TimestampError:
        shown = repr(value) if len(repr(value)) <= 40 else repr(value)[:39] + "…"
        raise errors.StateError(
            f"invalid state: the bookmark of stream {stream} is {shown}, not a date; "
            "fix it, or remove the stream from the state to sync it from start_date"
        ) from None


def check_state(state: t.Any, streams: Iterable[str]) -> None:
    """Every bookmark of these streams must be a date (per account, too)."""
    if not isinstance(state, Mapping):
        raise errors.StateError(f"invalid state: it must be a JSON object, not {_type_name(state)}")
    bookmarks = state.get("bookmarks") or {}
    if not isinstance(bookmarks, Mapping):
        raise errors.StateError("invalid state: 'bookmarks' must be an object, one entry a stream")
    for stream in streams:
        entry = bookmarks.get(stream)
        if entry is None:
            continue
        if not isinstance(entry, Mapping):
            raise errors.StateError(
                f"invalid state: the bookmark of stream {stream} must be an object, "
                f"not {_type_name(entry)}"
            )
        partitions = entry.get("partitions") or []
        if not isinstance(partitions, list) or not all(
            isinstance(part, Mapping) for part in partitions
        ):
            raise errors.StateError(
                f"invalid state: the partitions of stream {stream} must be a list of objects"
            )
        for part in [entry, *partitions]:
            if part.get("replication_key_value") is not None:
                bookmark_datetime(stream, part["replication_key_value"])


# -- catalog -----------------------------------------------------------------------------


def check_selection(
    catalog: Mapping[str, t.Any], known: Iterable[str], logger: logging.Logger
) -> None:
    """Warn about selected streams this tap does not have; fail if none it has is selected."""
    known = set(known)
    selected: list[str] = []
    for entry in catalog.get("streams") or []:
        name = entry.get("tap_stream_id") or entry.get("stream")
        top = [m for m in entry.get("metadata") or [] if m.get("breadcrumb") == []]
        meta = top[0].get("metadata", {}) if top else {}
        if meta.get("selected") or (meta.get("selected") is None and entry.get("selected")):
            selected.append(str(name))
    unknown = [name for name in selected if name not in known]
    for name in unknown:
        logger.warning(
            "The catalog selects stream %r, which this tap does not have (a typo?); ignored",
            name,
        )
    if not any(name in known for name in selected):
        hint = f" (unknown: {', '.join(unknown)})" if unknown else ""
        raise errors.ConfigError(
            f"the catalog selects no stream this tap has{hint}; the streams are: "
            f"{', '.join(sorted(known))}"
        )


# -- files -------------------------------------------------------------------------------


def read_json_object(path: str, what: str) -> dict[str, t.Any]:
    """A config, state or catalog file's JSON object, or one line naming the file."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise errors.ConfigError(f"the {what} file {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise errors.ConfigError(f"the {what} file {path} cannot be read: {reason}") from None
    try:
        value = json.loads(text)
    except RecursionError:
        raise errors.ConfigError(f"the {what} file {path} is nested too deeply") from None
    except json.JSONDecodeError as exc:
        raise errors.ConfigError(
            f"the {what} file {path} is not valid JSON (line {exc.lineno}, column "
            f"{exc.colno}: {exc.msg})"
        ) from None
    if not isinstance(value, dict):
        raise errors.ConfigError(
            f"the {what} file {path} must hold a JSON object, not {_type_name(value)}"
        )
    return value


class JsonFile(click.ParamType):  # type: ignore[type-arg]  # generic only in click >= 8.2
    """A `--state` or `--catalog` file: read and checked here, handed on as text."""

    name = "file"

    def __init__(self, what: str) -> None:
        self.what = what

    @override
    def convert(
        self, value: t.Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> t.Any:
        if not isinstance(value, str):
            return value
        return io.StringIO(json.dumps(read_json_object(value, self.what)))
