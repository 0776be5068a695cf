"""Open objects: properties typed `object` that declare no properties of their own.

`_extra`, a sequence recipient's `variables`, a rule's `filterObject` and a meeting
invite's `integrations` hold whatever Mixmax sends, so no schema can list their keys; a
meeting type's `anyRoomInBuilding` and its like are arrays whose items nobody has seen.
Most warehouses keep such an object whole (`jsonb`, `JSON`, `VARIANT`). Some cannot:
adswerve target-bigquery builds a `RECORD` from declared properties only, z3z1ma
target-bigquery with `denormalized: true` writes them to a `JSON` column that takes text
only, and datamill target-redshift splits objects into one column per declared property
(none here, so the data is dropped). For those, `open_objects_as: json_text` declares each
open object, at any depth, as a string and emits its compact JSON text instead.

The record shaper works on the object form either way (the text is made after it), and
the default, `object`, changes nothing: schemas and records are as they always were.
"""

from __future__ import annotations

import json
import typing as t
from collections.abc import Callable, Mapping

OPEN_OBJECTS_SETTING = "open_objects_as"
AS_OBJECT = "object"
AS_JSON_TEXT = "json_text"
CHOICES = (AS_OBJECT, AS_JSON_TEXT)
JSON_MEDIA_TYPE = "application/json"

Schema = dict[str, t.Any]
Convert = Callable[[t.Any], t.Any]


def _types(node: Mapping[str, t.Any]) -> list[str]:
    declared = node.get("type")
    return [declared] if isinstance(declared, str) else list(declared or [])


def is_open_object(node: Mapping[str, t.Any]) -> bool:
    """An object schema that declares no property (its keys are whatever arrives), or an
    array that declares no items (meeting types' lists live rows only showed empty)."""
    types = _types(node)
    if "array" in types:
        return not node.get("items")
    return "object" in types and not node.get("properties")


def json_text(value: t.Any) -> t.Any:
    """Compact JSON text of an open object's value; null stays null."""
    if value is None:
        return None
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _as_text(node: Schema) -> Schema:
    text: Schema = {k: v for k, v in node.items() if k not in ("type", "additionalProperties")}
    text["type"] = ["string", "null"] if "null" in _types(node) else "string"
    text["contentMediaType"] = JSON_MEDIA_TYPE
    text["description"] = (node.get("description", "") + " As JSON text.").strip()
    return text


def _object_converter(converters: dict[str, Convert]) -> Convert:
    def convert(value: t.Any) -> t.Any:
        if isinstance(value, dict):
            for name, inner in converters.items():
                if name in value:
                    value[name] = inner(value[name])
        return value

    return convert


def _array_converter(inner: Convert) -> Convert:
    def convert(value: t.Any) -> t.Any:
        if isinstance(value, list):
            value[:] = [inner(item) for item in value]
        return value

    return convert


def _text_node(node: Schema) -> tuple[Schema, Convert | None]:
    """(the node with its open objects as text, how to convert a value of it) at any depth."""
    if is_open_object(node):
        return _as_text(node), json_text
    if node.get("properties"):
        properties, converters = {}, {}
        for name, prop in node["properties"].items():
            properties[name], convert = _text_node(prop)
            if convert is not None:
                converters[name] = convert
        if converters:
            return {**node, "properties": properties}, _object_converter(converters)
    items = node.get("items")
    if "array" in _types(node) and isinstance(items, dict):
        text_items, convert = _text_node(items)
        if convert is not None:
            return {**node, "items": text_items}, _array_converter(convert)
    return node, None


def declare(schema: Schema, how: str) -> tuple[Schema, Convert | None]:
    """The stream schema to declare, and what finishes each shaped record (None: nothing).

    `how` is the `open_objects_as` setting. A record is converted in place.
    """
    if how != AS_JSON_TEXT:
        return schema, None
    return _text_node(schema)


def open_object_paths(schema: Mapping[str, t.Any], prefix: str = "") -> list[str]:
    """Where a schema has open objects (`variables`, `stages[].data`), for docs and tests."""
    paths = []
    for name, prop in (schema.get("properties") or {}).items():
        path = f"{prefix}{name}"
        if is_open_object(prop):
            paths.append(path)
        paths += open_object_paths(prop, f"{path}.")
        items = prop.get("items")
        if isinstance(items, dict):
            if is_open_object(items):
                paths.append(f"{path}[]")
            paths += open_object_paths(items, f"{path}[].")
    return paths
