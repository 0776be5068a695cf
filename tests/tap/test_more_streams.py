"""The rest of the read API that live connectors read: the integrations and tag snippets."""

from __future__ import annotations

import collections
import json

import pytest
from tap_harness import run_tap, sandbox_config

INTEGRATIONS = (
    "integration_commands",
    "integration_enhancements",
    "integration_link_resolvers",
    "integration_sidebars",
)


@pytest.fixture(scope="module")
def synced(shared_sandbox):
    shared_sandbox.clear_requests()
    streams = {"snippet_tags", "snippet_tag_snippets", *INTEGRATIONS}
    output = run_tap(sandbox_config(shared_sandbox), streams=streams)
    return output, list(shared_sandbox.requests)


def test_a_snippet_under_two_tags_is_two_rows_keyed_by_its_tag(shared_sandbox, synced):
    output, made = synced
    schema = output.schemas()["snippet_tag_snippets"]
    assert schema["key_properties"] == ["snippetTagId", "_id"]
    rows = output.records["snippet_tag_snippets"]
    keys = [(row["snippetTagId"], row["_id"]) for row in rows]
    assert len(keys) == len(set(keys))
    served = {(row["snippetTagId"], row["_id"]) for row in shared_sandbox.records(
        "snippet_tag_snippets")}  # fmt: skip
    assert set(keys) == served
    under = collections.Counter(snippet for _, snippet in keys)
    assert max(under.values()) >= 2, "no snippet sits under two tags: the key proves nothing"
    # One request per tag (each fits a page), and each row names the tag it was read under.
    tags = shared_sandbox.ids("snippet_tags")
    asked = [r.path for r in made if r.path.endswith("/snippets") and "snippettags" in r.path]
    assert sorted(asked) == sorted(f"/v1/snippettags/{tag}/snippets" for tag in tags)
    assert {tag for tag, _ in keys} <= set(tags)


@pytest.mark.parametrize("stream", INTEGRATIONS)
def test_integrations_are_read_whole_and_keyed_by_id(shared_sandbox, synced, stream):
    output, _ = synced
    assert output.schemas()[stream]["key_properties"] == ["_id"]
    assert sorted(output.ids(stream)) == sorted(shared_sandbox.ids(stream))
    assert stream not in (output.last_state or {}).get("bookmarks", {}) or not (
        output.last_state["bookmarks"][stream].get("replication_key")
    )


def test_an_enhancement_category_list_is_kept_whole_as_json_text(shared_sandbox, synced):
    output, _ = synced
    raw = {
        row["_id"]: row["category"] for row in shared_sandbox.records("integration_enhancements")
    }
    assert {type(value) for value in raw.values()} == {str, list}, "one shape only: proves little"
    for row in output.records["integration_enhancements"]:
        category = raw[row["_id"]]
        if isinstance(category, list):
            assert json.loads(row["category"]) == category
        else:
            assert row["category"] == category
