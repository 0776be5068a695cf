"""/sequences/:id/recipients: bare array, offset paging, the 10,000 cap, drafts, variables."""

from __future__ import annotations

import pytest
from sandbox_http import get

from mixmax_sandbox import Sandbox


def _walk(http, sb, seq_id, limit=300, **params):
    rows, offset = [], 0
    while True:
        page = get(
            http, sb, f"/sequences/{seq_id}/recipients", offset=offset, limit=limit, **params
        )
        assert page.status_code == 200, page.text
        body = page.json()
        assert isinstance(body, list)
        rows.extend(body)
        if len(body) < limit:
            return rows
        offset += limit


def test_offset_paging_returns_every_non_draft_recipient_once_newest_first(sb, http):
    expected: dict[str, list[str]] = {}
    for row in sb.records("sequence_recipients"):
        expected.setdefault(row["sequenceId"], []).append(row["_id"])
    spans = 0
    for seq in sb.records("sequences"):
        rows = _walk(http, sb, seq["_id"], includeVariables="true")
        assert [r["_id"] for r in rows] == expected.get(seq["_id"], [])
        keys = [(r["createdAt"], r["_id"]) for r in rows]
        assert keys == sorted(keys, reverse=True)
        assert all(r["state"] in ("active", "failed", "completed") for r in rows)
        spans += len(rows) > 300
    assert spans >= 1, "no sequence spans more than one page of 300"


def test_drafts_are_never_returned(sb, http):
    drafts = {d.id for seq in sb.world.sequences.values() for d in seq.drafts}
    assert drafts
    served = set(sb.ids("sequence_recipients"))
    assert not drafts & served


def test_variables_only_with_include_variables(sb, http):
    seq = max(sb.world.sequences.values(), key=lambda s: len(s.recipients)).row
    plain = get(http, sb, f"/sequences/{seq['_id']}/recipients", limit=5).json()
    assert plain and all("variables" not in r for r in plain)
    rich = get(http, sb, f"/sequences/{seq['_id']}/recipients", limit=5, includeVariables="true")
    rows = rich.json()
    assert all(set(r["variables"]) == set(seq["variables"]) for r in rows)
    assert rows[0]["to"] == {"email": rows[0]["email"]}
    assert rows[0]["sequence"] == {"_id": seq["_id"]}


def test_default_limit_50_and_unknown_sequence_404(sb, http):
    seq = max(sb.world.sequences.values(), key=lambda s: len(s.recipients)).row
    assert len(get(http, sb, f"/sequences/{seq['_id']}/recipients").json()) == 50
    assert get(http, sb, f"/sequences/{seq['_id']}/recipients/").status_code == 200
    missing = get(http, sb, "/sequences/000000000000000000000000/recipients")
    assert missing.status_code == 404 and "message" in missing.json()


@pytest.fixture(scope="module")
def big(request):
    with Sandbox(seed=3, scale="small", rate_limit=None, big_sequence_recipients=10_050) as sandbox:
        yield sandbox


def test_the_cap_at_10000(big, http):
    seq_id = next(s for s, seq in big.world.sequences.items() if len(seq.recipients) > 10_000)
    path = f"/sequences/{seq_id}/recipients"
    assert len(get(http, big, path, offset=9_700, limit=300).json()) == 300
    assert len(get(http, big, path, offset=9_999, limit=1).json()) == 1
    for offset, limit in ((9_999, 2), (9_800, 300), (10_000, 1)):
        response = get(http, big, path, offset=offset, limit=limit)
        assert response.status_code == 400, (offset, limit)
        assert "message" in response.json()
    assert get(http, big, path, offset="x").status_code == 400
