"""`--doctor` compares every value's type with its schema, and measures the recipients' page.

Each value-type case drifts the sandbox so one field arrives in another type, then syncs
the same sandbox with the tap: what the doctor says the tap does with the value must be
what the tap's records show.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from tap_harness import run_tap, write_json

from mixmax_sandbox import Sandbox
from tap_mixmax import doctor
from tap_mixmax.client import load_schema
from tap_mixmax.doctor import reads as doctor_reads
from tap_mixmax.records import EXTRA_FIELD, declared_type

BIG_LIST: dict[str, Any] = {"messages": 400}  # the page-size check of envelopes concludes too
# The flags live rows send as 0/1 (../shared/real-api-evidence.md, issue 21).
LIVE_FEED_FLAGS = (
    "wasReplied", "wasBounced", "wasAccepted", "wasDeclined", "wasTentative", "trackingMuted",
    "showContentTeamFeed",
)  # fmt: skip


def run_doctor(capsys, tmp_path, sb, **config):
    path = write_json(
        tmp_path / "config.json", {"api_url": sb.url, "api_token": sb.token, **config}
    )
    code = doctor.main(["--doctor", "--config", str(path), "--format", "json"])
    report = json.loads(capsys.readouterr().out)
    return code, report["accounts"][0]["findings"]


def of(findings, check):
    return [f for f in findings if f["check"] == check]


def not_ok(findings):
    return {(f["check"], f["seen"]) for f in findings if f["status"] != "OK"}


def test_the_evidenced_sandbox_has_no_type_to_report_and_serves_full_recipient_pages(
    capsys, tmp_path
):
    with Sandbox(seed=42, scale="small", **BIG_LIST) as sb:
        code, findings = run_doctor(capsys, tmp_path, sb)
        sent = len(sb.requests)
    assert code == 0 and not_ok(findings) == set()
    [types] = of(findings, "value types")
    assert "has its schema's type, or takes it without loss" in types["seen"]
    # Live rows send the feed's flags as 0/1 (issue 21): converted without loss, so OK, and
    # each is listed, so a run on a real account shows them.
    for flag in LIVE_FEED_FLAGS:
        line = f"livefeed.{flag}: integer seen, schema boolean; converted losslessly to boolean"
        assert any(d.startswith(line) for d in types["details"]), (flag, types["details"])
    [page] = of(findings, "recipients page size")
    assert page["seen"] == "limit=300 on a sequence's recipients returned 300"
    assert sent <= doctor.MAX_REQUESTS_PER_ACCOUNT


def test_a_silent_recipients_clamp_is_measured_and_nothing_else_changes(capsys, tmp_path):
    with Sandbox(seed=42, scale="small", **BIG_LIST, drift={"recipients_max_limit": 50}) as sb:
        code, findings = run_doctor(capsys, tmp_path, sb)
        assert len(sb.requests) <= doctor.MAX_REQUESTS_PER_ACCOUNT
    [page] = of(findings, "recipients page size")
    assert page["status"] == "DIFFERENT"
    assert "Mixmax served 50 recipients for limit=300, and more followed" in page["seen"]
    assert "clamps recipient pages at 50" in page["seen"]
    assert "learns the clamp" in page["change"]
    assert not_ok(findings) == {("recipients page size", page["seen"])}
    assert code == 1


def test_sequences_too_small_to_tell_are_unavailable(capsys, tmp_path):
    with Sandbox(seed=42, scale="tiny") as sb:
        largest = max(len(s.recipients) for s in sb.world.sequences.values())
        _, findings = run_doctor(capsys, tmp_path, sb)
    [page] = of(findings, "recipients page size")
    assert page["status"] == "UNAVAILABLE"
    assert 0 < largest < 300
    assert "no sequence tried held more than" in page["seen"]


def emitted_outcome(records, stream, path, declared_check):
    """What the tap's own records show for the drifted field: one of doctor_reads' texts."""
    outcomes = set()
    for record in records[stream]:
        for where, value in values(record, path):
            extra = record.get(EXTRA_FIELD) or {}
            if value is None and where in extra:
                outcomes.add(doctor_reads.KEPT_IN_EXTRA)
            elif value is not None and declared_check(value):
                outcomes.add("converted")
            elif value is not None:
                outcomes.add(doctor_reads.PASSED_THROUGH)
    return outcomes


def values(node, path, where=""):
    head, _, rest = path.partition(".")
    name, brackets = head.removesuffix("[]"), head.endswith("[]")
    if not isinstance(node, dict) or name not in node:
        return
    value = node[name]
    where = f"{where}.{name}" if where else name
    if brackets:
        for index, item in enumerate(value or []):
            if rest:
                yield from values(item, rest, f"{where}[{index}]")
            else:
                yield f"{where}[{index}]", item
    elif rest:
        yield from values(value, rest, where)
    else:
        yield where, value


# (the drifted field, its style, the stream the tap syncs, the schema type it declares,
#  the line the doctor must start with)
TYPE_CASES = {
    "live-feed flag as text": (  # live rows send 0/1; here "1"/"0"
        "livefeed.wasReplied", "text", {"livefeed"},
        lambda v: isinstance(v, bool),
        "livefeed.wasReplied: string seen, schema boolean; ",
    ),
    "recipient stage flag as an object": (
        "sequence_recipients.stages[].hasOpens", "object", {"sequences", "sequence_recipients"},
        lambda v: isinstance(v, int) and not isinstance(v, bool),
        "sequence_recipients.stages[].hasOpens: object seen, schema integer; ",
    ),
    "nested counter as text": (
        "sequence_recipients.stages[].opens", "text", {"sequences", "sequence_recipients"},
        lambda v: isinstance(v, int) and not isinstance(v, bool),
        "sequence_recipients.stages[].opens: string seen, schema integer; ",
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", TYPE_CASES)
def test_a_value_of_another_type_names_the_field_and_what_the_tap_does(case, capsys, tmp_path):
    spec, style, streams, is_declared, line = TYPE_CASES[case]
    stream, _, path = spec.partition(".")
    drift = {"value_styles": {spec: style}}
    with Sandbox(seed=42, scale="small", **BIG_LIST, drift=drift) as sb:
        code, findings = run_doctor(capsys, tmp_path, sb)
    # The same seed and drift, without a rate limit: the tap's sync is quick.
    with Sandbox(seed=42, scale="small", rate_limit=None, **BIG_LIST, drift=drift) as sb:
        records = run_tap({"api_url": sb.url, "api_token": sb.token}, streams=streams).records
    shown = emitted_outcome(records, stream, path, is_declared)
    assert len(shown) == 1, shown
    expected = shown.pop()
    [types] = [f for f in of(findings, "value types") if f["status"] == status_of(expected)]
    lines = [types["seen"]] if expected != "converted" else types["details"]
    said = [text.removeprefix(line) for text in lines if text.startswith(line)]
    assert len(said) == 1, of(findings, "value types")
    # The tap does what the doctor says it does.
    if expected == "converted":  # no value lost: listed in the OK finding
        assert said[0].startswith(doctor_reads.CONVERTED.split(" {")[0]), said
        assert code == 0 and not_ok(findings) == set()
    else:
        assert said[0].startswith(expected), said
        assert f"tap_mixmax/schemas/{stream}.json" in types["assumed"] + types["change"]
        # Nothing else is reported: the drift broke one field only.
        assert {check for check, _ in not_ok(findings)} == {"value types"} and code == 1


def status_of(outcome):
    return "OK" if outcome == "converted" else "DIFFERENT"


def test_what_the_report_says_for_each_thing_the_tap_can_do():
    """The three outcomes and their advice, from a stand-in for the tap's shaper."""
    row = {"_id": "m1", "sent": 1, "wasReplied": 1, "numOpens": "x", "subject": 5}
    schema = load_schema("livefeed")
    assert {"wasReplied", "subject"} <= set(schema["properties"])

    def shaper_for(stream):
        def shape(raw):
            out = dict(raw, wasReplied=True, numOpens=None)
            out[EXTRA_FIELD] = {"numOpens": "x"}
            return out

        return shape

    declared = {
        name: declared_type(schema["properties"][name]) for name in ("wasReplied", "subject")
    }
    findings = doctor_reads.type_findings({"livefeed": [row]}, shaper_for)
    by_field = {f.seen.split(":")[0]: f for f in findings}
    # A value converted without loss is no finding of its own (see the OK's details in
    # the test of the evidenced sandbox); here the losses make the check DIFFERENT.
    assert "livefeed.wasReplied" not in by_field
    assert declared["wasReplied"] == "boolean"
    subject = by_field["livefeed.subject"]
    assert subject.seen.endswith(
        "passed through as it came, so the record breaks its SCHEMA (1 value)"
    )
    assert "a validating target rejects these records" in subject.change
    if "numOpens" in schema["properties"]:  # the live name (issue 21)
        opens = by_field["livefeed.numOpens"]
        assert opens.seen.endswith("kept in _extra and emitted null (1 value)")
        assert "its column is null and the value sits in _extra" in opens.change
    assert all(f.status is doctor.Status.DIFFERENT for f in findings)


def test_the_doctor_checks_the_search_parameter_the_config_names(capsys, tmp_path):
    with Sandbox(seed=42, scale="small", **BIG_LIST, drift={"livefeed_query_param": "q"}) as sb:
        _, findings = run_doctor(capsys, tmp_path, sb, livefeed_query_param="q")
    [search] = of(findings, "live feed search parameter")
    assert search["status"] == "OK" and search["seen"].startswith("'q' is read")
    assert not_ok(findings) == set()
