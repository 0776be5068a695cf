"""docs/mixmax-api.md section 7 names the source of every field each stream declares.

A field added to a schema without saying where it comes from (live rows, the docs, or an
inference) fails here, and so does a tag no source key explains.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tap_mixmax.client import load_schema
from tap_mixmax.records import EXTRA_FIELD
from tap_mixmax.streams import STREAM_TYPES

API_NOTES = Path(__file__).resolve().parents[2] / "docs" / "mixmax-api.md"
SECTION = API_NOTES.read_text().partition("\n## 7. Field sources")[2]
TAGS = {"R1", "R6", "R8a", "R8b", "R9", "docs", "I"}


def subsections() -> dict[str, str]:
    """Stream name -> the text of the subsection whose heading names it."""
    found: dict[str, str] = {}
    for heading, body in re.findall(
        r"^### 7\.\d+ ([^\n]+)\n(.*?)(?=^### |\Z)", SECTION, re.M | re.S
    ):
        for name in re.sub(r"\(.*?\)", "", heading).split(","):
            found[name.strip()] = body
    return found


def test_every_stream_has_a_subsection():
    assert SECTION, "docs/mixmax-api.md has no section 7"
    assert sorted(subsections()) == sorted(stream.name for stream in STREAM_TYPES)


@pytest.mark.parametrize("stream", sorted(stream.name for stream in STREAM_TYPES))
def test_every_declared_field_has_its_source(stream):
    text = subsections()[stream]
    fields = set(load_schema(stream)["properties"]) - {EXTRA_FIELD}
    missing = sorted(f for f in fields if not re.search(rf"`{re.escape(f)}[`{{\[.]", text))
    assert not missing, f"{stream}: no source given for {missing}"
    # Every bullet says where its fields come from, with a known tag.
    for bullet in re.findall(r"^- (.*)", text, re.M):
        tags = re.findall(r"\[([^\]`]+)\]", bullet.split(" ", 1)[0] + bullet)
        assert tags, f"{stream}: a bullet without its source: {bullet}"
        named = {t.strip() for tag in tags for t in tag.split(",")}
        assert named & TAGS, f"{stream}: unknown source tags {named}: {bullet}"
