"""Field selection, stream maps and flattening shape what goes out, despite the fast path.

Records usually leave exactly as the shaper made them (client.py skips the SDK's map and
selection walk then); these check the cases where they must not.
"""

from __future__ import annotations

from tap_harness import catalog_for, run_tap, sandbox_config


def _without_subject(config: dict) -> dict:
    catalog = catalog_for({"messages"}, config)
    entry = next(e for e in catalog["streams"] if e["tap_stream_id"] == "messages")
    for metadata in entry["metadata"]:
        if metadata["breadcrumb"] == ["properties", "subject"]:
            metadata["metadata"]["selected"] = False
    return catalog


def test_a_deselected_field_is_left_out_of_every_record(shared_sandbox):
    config = sandbox_config(shared_sandbox)
    records = run_tap(config, catalog=_without_subject(config)).records["messages"]
    assert len(records) == len(shared_sandbox.records("messages"))
    assert all("subject" not in r and "_id" in r and "created" in r for r in records)


def test_a_stream_map_renames_the_stream_and_drops_a_field(shared_sandbox):
    maps = {"messages": {"__alias__": "emails", "subject": None}}
    output = run_tap(sandbox_config(shared_sandbox, stream_maps=maps), streams={"messages"})
    assert "messages" not in output.records
    emails = output.records["emails"]
    assert len(emails) == len(shared_sandbox.records("messages"))
    assert all("subject" not in r and "_id" in r for r in emails)


def test_flattening_turns_nested_objects_into_columns(shared_sandbox):
    config = sandbox_config(shared_sandbox, flattening_enabled=True, flattening_max_depth=1)
    output = run_tap(config, streams={"messages"})
    records = output.records["messages"]
    assert records
    with_sender = [r for r in records if r.get("from__email")]
    assert with_sender, "no flattened from__email column"
    assert all("from" not in r for r in records)
