"""`--doctor`'s checks of what the tap reads: value types, and the recipients' page size.

- **Value types.** Every value seen, at any depth, is compared with the type its schema
  declares, and shaped by the tap's own RecordShaper (a copy of the row) to see what the
  tap does with it. A value the tap loses (kept in `_extra` and emitted null) or passes
  through as it came (which breaks the record's schema) is a DIFFERENT finding naming the
  field, the type seen and what the tap does. A value it converts without loss, or turns
  into the declared type as the schema's `x-coerce` says, is what the tap is built for
  (live rows send the live feed's flags as 0/1: docs/mixmax-api.md section 7): the OK
  finding lists each such field, so a run on a real account still shows them.
  Timestamps are the timestamp check's, fields the schemas lack the unknown-fields check's.
- **Recipients page size.** Nobody has shown that /sequences/:id/recipients honours
  limit=MAX_PAGE_SIZE. A page of a sequence's recipients shorter than asked is followed
  once: more rows there mean a silent clamp.
"""

from __future__ import annotations

import copy
import dataclasses
import re
import typing as t
from collections.abc import Callable, Iterator, Mapping

from tap_mixmax import streams
from tap_mixmax.client import load_schema
from tap_mixmax.doctor.visit import (
    BY_NAME,
    ENDPOINT_LIST,
    Finding,
    Row,
    Visit,
    different,
    ok,
    plural,
    unavailable,
)
from tap_mixmax.records import (
    COERCE_KEYWORD,
    EXTRA_FIELD,
    RecordShaper,
    declared_type,
    location,
)
from tap_mixmax.settings import MAX_PAGE_SIZE

SEQUENCES = BY_NAME[streams.SequencesStream.name]
RECIPIENTS = BY_NAME[streams.SequenceRecipientsStream.name]
# Sequences whose recipients the page-size check reads (two requests each at most), and
# how many sequences it asks for when earlier checks saw fewer.
RECIPIENT_SEQUENCES_TRIED = 3
SEQUENCES_SAMPLE = 20

CONVERTED = "converted losslessly to {declared}"
KEPT_IN_EXTRA = "kept in _extra and emitted null"
LOST = "emitted null, and not kept in _extra"
PASSED_THROUGH = "passed through as it came, so the record breaks its SCHEMA"
NOT_EMITTED = "the row is not emitted ({error})"
COERCED = "turned into {declared} as its x-coerce says"

Trail = tuple[str | int, ...]
# Shapes one raw row as the tap would (a copy: the samples stay as Mixmax sent them).
Shape = Callable[[Row], Row]


def value_type(value: t.Any) -> str:
    """A JSON value's type, as JSON Schema names it (a whole number is an integer)."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def fits(value: t.Any, declared: str) -> bool:
    """Whether a value has the declared type as it came (3.0 is not an integer yet)."""
    if declared == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    if declared == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    return value_type(value) == declared


@dataclasses.dataclass(frozen=True)
class Mismatch:
    """A value of another type than its schema declares, where it sits in its row."""

    trail: Trail
    declared: str
    seen: str
    coerced: bool  # the node has an x-coerce

    @property
    def field(self) -> str:
        """`stages[].scheduleBetween.start`: the field, whatever the index."""
        text = ""
        for step in self.trail:
            text += "[]" if isinstance(step, int) else f".{step}" if text else step
        return text


def mismatches(node: Mapping[str, t.Any], value: t.Any, trail: Trail = ()) -> Iterator[Mismatch]:
    """Every value below `value` whose type is not the one `node` declares."""
    if value is None:
        return
    declared = declared_type(node)
    if declared is None or node.get("format") == "date-time":
        return  # untyped, or a timestamp (the timestamp check reads those)
    if not fits(value, declared):
        yield Mismatch(trail, declared, value_type(value), COERCE_KEYWORD in node)
        return
    if isinstance(value, dict):
        for name, sub in (node.get("properties") or {}).items():
            if name in value:
                yield from mismatches(sub, value[name], (*trail, name))
    elif isinstance(value, list) and isinstance(node.get("items"), Mapping):
        for index, item in enumerate(value):
            yield from mismatches(node["items"], item, (*trail, index))


def value_at(row: t.Any, trail: Trail) -> tuple[bool, t.Any]:
    """(found, value) at `trail` in a shaped row."""
    for step in trail:
        in_list = isinstance(step, int) and isinstance(row, list) and step < len(row)
        in_object = isinstance(step, str) and isinstance(row, dict) and step in row
        if not (in_list or in_object):
            return False, None
        row = row[step]
    return True, row


def outcome(mismatch: Mismatch, shaped: Row) -> str:
    """What the tap emitted for the value, from the row it shaped."""
    found, value = value_at(shaped, mismatch.trail)
    extra = shaped.get(EXTRA_FIELD) or {}
    if found and value is not None and fits(value, mismatch.declared):
        template = COERCED if mismatch.coerced else CONVERTED
        return template.format(declared=mismatch.declared)
    if (not found or value is None) and location(list(mismatch.trail)) in extra:
        return KEPT_IN_EXTRA
    return LOST if found and value is None else PASSED_THROUGH


def tap_shaper(stream: str) -> Shape:
    shaper = RecordShaper(load_schema(stream))
    return lambda row: shaper.shape(copy.deepcopy(row))


def type_findings(
    samples: Mapping[str, list[Row]], shaper_for: Callable[[str], Shape]
) -> list[Finding]:
    """The value-type findings over `samples` (stream -> rows as Mixmax sent them)."""
    check = "value types"
    # (stream, field, seen, declared) -> outcome -> values
    seen: dict[tuple[str, str, str, str], dict[str, int]] = {}
    rows_seen = streams_seen = 0
    for endpoint in ENDPOINT_LIST:
        rows = samples.get(endpoint.name) or []
        if not rows:
            continue
        streams_seen += 1
        rows_seen += len(rows)
        schema = endpoint.schema()
        shape = shaper_for(endpoint.name)
        for row in rows:
            found = list(mismatches(schema, row))
            if not found:
                continue
            shaped: Row | None = None
            refused = ""
            try:
                shaped = shape(row)
            except Exception as exc:  # whatever the shaper refuses, the report says so
                refused = NOT_EMITTED.format(error=type(exc).__name__)
            for mismatch in found:
                key = (endpoint.name, mismatch.field, mismatch.seen, mismatch.declared)
                what = refused or outcome(mismatch, t.cast(Row, shaped))
                counts = seen.setdefault(key, {})
                counts[what] = counts.get(what, 0) + 1
    if not rows_seen:
        return [unavailable(check, "no rows came back")]
    findings, expected = [], []
    for (stream, field, kind, declared), outcomes in sorted(seen.items()):
        said = "; ".join(f"{what} ({plural(n, 'value')})" for what, n in sorted(outcomes.items()))
        line = f"{stream}.{field}: {kind} seen, schema {declared}; {said}"
        lossless = {COERCED.format(declared=declared), CONVERTED.format(declared=declared)}
        if set(outcomes) <= lossless:
            expected.append(line)  # no value lost: what the tap is built for
            continue
        findings.append(
            different(
                check,
                line,
                f"{stream}.{field} is {declared} (tap_mixmax/schemas/{stream}.json)",
                change_for(stream, field, kind, outcomes),
            )
        )
    if not findings:
        scope = f"{plural(rows_seen, 'row')} of {plural(streams_seen, 'stream')}"
        said = f"every value of the {scope} seen has its schema's type, or takes it without loss"
        findings.append(ok(check, said, expected))
    return findings


def change_for(stream: str, field: str, kind: str, outcomes: Mapping[str, int]) -> str:
    where = f"tap_mixmax/schemas/{stream}.json"
    if PASSED_THROUGH in outcomes or any(o.startswith("the row is not") for o in outcomes):
        return (
            f"declare {kind} for {field} in {where}, or an x-coerce; until then a validating "
            "target rejects these records"
        )
    # Kept in _extra or lost: the lossless outcomes never reach here (they are OK lines).
    return (
        f"declare {kind} for {field} in {where}; until then its column is null and the "
        "value sits in _extra"
    )


def check_value_types(visit: Visit) -> Iterator[Finding]:
    """Every value seen has the type its schema declares, at any depth."""
    yield from type_findings(visit.samples, tap_shaper)


# -- recipients' page size ---------------------------------------------------------------


def recipients_of(visit: Visit, sequence_id: str, offset: int) -> list[Row] | None:
    path = re.sub(r"\{\w+\}", sequence_id, RECIPIENTS.path)
    params = {**RECIPIENTS.fixed_params({}), "offset": offset, "limit": MAX_PAGE_SIZE}
    return visit.read(RECIPIENTS, params, path).rows


def sequences_to_try(visit: Visit) -> list[str]:
    rows = visit.samples.get(SEQUENCES.name) or []
    if len({row.get("_id") for row in rows}) < RECIPIENT_SEQUENCES_TRIED and rows:
        rows = rows + (visit.read(SEQUENCES, {"limit": SEQUENCES_SAMPLE}).rows or [])
    ids = [str(row["_id"]) for row in rows if isinstance(row.get("_id"), str)]
    return list(dict.fromkeys(ids))[:RECIPIENT_SEQUENCES_TRIED]


def check_recipients_page_size(visit: Visit) -> Iterator[Finding]:
    """The largest page /sequences/:id/recipients serves (docs/mixmax-api.md 2.2)."""
    check = "recipients page size"
    assumed = (
        f"recipients come {MAX_PAGE_SIZE} a page when limit={MAX_PAGE_SIZE} "
        "(MAX_PAGE_SIZE in tap_mixmax/settings.py)"
    )
    largest = 0
    for sequence_id in sequences_to_try(visit):
        first = recipients_of(visit, sequence_id, 0)
        if not first:
            continue
        count = len(first)
        largest = max(largest, count)
        if count >= MAX_PAGE_SIZE:
            yield ok(check, f"limit={MAX_PAGE_SIZE} on a sequence's recipients returned {count}")
            return
        after = recipients_of(visit, sequence_id, count)
        if after:
            yield different(
                check,
                f"Mixmax served {count} recipients for limit={MAX_PAGE_SIZE}, and more "
                f"followed at offset {count}: it clamps recipient pages at {count}",
                assumed,
                f"none needed: the tap proves the end of each list, learns the clamp in "
                f"the first sequence longer than {count} (one warning) and asks for {count} "
                f"from then on",
            )
            return
    if largest:
        seen = (
            f"no sequence tried held more than {plural(largest, 'recipient')}: cannot tell "
            "(the tap proves the end of each list anyway)"
        )
    else:
        seen = "no sequence with recipients to read"
    yield unavailable(check, seen)
