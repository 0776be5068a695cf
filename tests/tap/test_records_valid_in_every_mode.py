"""Every RECORD of every sandbox mode validates against its stream's SCHEMA (issue 21).

Where users run it: the `tap-mixmax` command as a real process, with the whole catalog
selected, against the sandbox on loopback, in `api_token` mode and again in `accounts`
mode, for the sandbox's default data (the shapes live rows show) and for each of its
drift modes (mixmax_sandbox/drift.py), one at a time. Each SCHEMA message is checked as
Draft 7 with formats (date-time really checked), and each RECORD against the last SCHEMA
of its stream.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import jsonschema
import pytest
from tap_harness import TapOutput, run_tap_process, sandbox_config, tap_process

from mixmax_sandbox import Sandbox
from mixmax_sandbox.drift import Drift
from tap_mixmax.streams import STREAM_TYPES

# One drift per field of Drift, each breaking one guess; the values are the doctor's.
DRIFTS: dict[str, dict[str, Any]] = {
    "default": {},
    "livefeed_query_param": {"livefeed_query_param": "search"},
    "events_message_param": {"events_message_param": "message"},
    "max_limit": {"max_limit": 100},
    "rules_expand": {"rules_expand": False},
    "paging_flags": {"paging_flags": False},
    "timestamp_styles": {
        "timestamp_styles": {
            "messages.created": "rfc2822",  # unreadable: null, kept in _extra
            "polls.created": "seconds",
            "unsubscribes.createdAt": "ms",
            "livefeed.sent": "rfc2822",
            "sequences.createdAt": "rfc2822",
            "meeting_types.updatedAt": "seconds",
        }
    },
    # Names the tap owns among them: Mixmax's own `_extra` and `account` must not break it.
    "extra_fields": {"extra_fields": ("polls.mood", "livefeed._extra", "messages.account")},
    "shapes": {"shapes": "documented"},
    "recipients_max_limit": {"recipients_max_limit": 50},  # a silent clamp
    "optional_fields": {"optional_fields": ("unsubscribes.userId", "sequences.name")},
    # Values in other types, at the top and nested: each converts, or goes to _extra.
    "value_styles": {
        "value_styles": {
            "livefeed.wasReplied": "text",
            "livefeed.numOpens": "object",
            "sequence_recipients.stages[].hasOpens": "object",
            "sequence_recipients.stages[].opens": "text",
            "messages.subject": "number",
        }
    },
}
# A drift that makes a request the tap builds fail (a 400) ends the run with one line.
FAILS_WITH = {"events_message_param": "The message parameter is required"}
ALL_STREAMS = {stream.name for stream in STREAM_TYPES}


def test_every_drift_field_is_exercised():
    fields = {field.name for field in dataclasses.fields(Drift)}
    assert {name for name in DRIFTS if name != "default"} == fields


def sandbox_for(mode: str, drift: dict[str, Any]) -> Sandbox:
    if mode == "accounts":
        return Sandbox(seed=21, scale="tiny", users=3, rate_limit=None, drift=drift)
    return Sandbox(seed=42, scale="small", rate_limit=None, drift=drift)


def config_for(mode: str, sb: Sandbox) -> dict[str, Any]:
    config = sandbox_config(sb)
    if mode == "accounts":
        config.pop("api_token")
        config["accounts"] = [{"name": f"u{i}", "api_token": t} for i, t in enumerate(sb.tokens)]
    return config


def invalid_records(output: TapOutput) -> tuple[list[str], dict[str, int]]:
    """Every validation error, and the number of records validated per stream."""
    checker = jsonschema.FormatChecker()
    assert "date-time" in checker.checkers, "rfc3339-validator is missing: date-times unchecked"
    validators: dict[str, jsonschema.Draft7Validator] = {}
    errors: list[str] = []
    counts: dict[str, int] = {}
    for message in output.messages:
        stream: str = message.get("stream", "")  # SCHEMA and RECORD messages have one
        if message["type"] == "SCHEMA":
            jsonschema.Draft7Validator.check_schema(message["schema"])
            validators[stream] = jsonschema.Draft7Validator(
                message["schema"], format_checker=checker
            )
        elif message["type"] == "RECORD":
            assert stream in validators, f"{stream}: a RECORD before its SCHEMA"
            counts[stream] = counts.get(stream, 0) + 1
            for error in validators[stream].iter_errors(message["record"]):
                path = "".join(f"[{step!r}]" for step in error.absolute_path)
                errors.append(f"{stream}{path}: {error.message}")
    return errors, counts


@pytest.mark.slow
@pytest.mark.timeout(300)
@pytest.mark.parametrize("drift", DRIFTS)
@pytest.mark.parametrize("mode", ["api_token", "accounts"])
def test_every_record_of_every_mode_validates_against_its_schema(tmp_path, mode, drift):
    with sandbox_for(mode, DRIFTS[drift]) as sb:
        result = run_tap_process(tap_process(tmp_path, config_for(mode, sb)))
    output = TapOutput.parse(result.stdout)
    errors, counts = invalid_records(output)
    assert not errors, "\n".join(errors[:20])
    if drift in FAILS_WITH:
        assert result.returncode == 1 and FAILS_WITH[drift] in result.stderr
        assert sum(counts.values()) > 100, counts  # what came before the failure was checked
        return
    assert result.returncode == 0, result.stderr[-2000:]
    # Every stream of the whole catalog emitted rows that were checked.
    assert set(counts) == ALL_STREAMS, sorted(ALL_STREAMS - set(counts))
    if drift == "shapes":  # the documented shapes reached the tap, and were kept
        extra = [json.dumps(r.get("_extra")) for r in output.records["sequence_recipients"]]
        assert any('"09:00"' in text for text in extra), "no documented stage window seen"
