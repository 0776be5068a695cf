"""Regenerate the README's settings, streams and coercions tables from the code.

`python scripts/gen_readme.py` rewrites README.md in place, and the `settings:` lists of
meltano.yml and plugin/extractors/tap-mixmax.yml (scripts/gen_plugin_settings.py);
`--check` fails if any of them is stale.
"""

from __future__ import annotations

import argparse
import inspect
import os
import sys
from pathlib import Path

from gen_plugin_settings import stale_files

from tap_mixmax.client import ChildStream, MixmaxStream, load_schema
from tap_mixmax.records import ARRAY_ITEMS, COERCE_KEYWORD, declared_type, schema_nodes
from tap_mixmax.settings import SETTINGS
from tap_mixmax.streams import STREAM_TYPES

README = Path(__file__).resolve().parent.parent / "README.md"
MARKERS = {
    "settings": ("<!-- settings:start -->", "<!-- settings:end -->"),
    "streams": ("<!-- streams:start -->", "<!-- streams:end -->"),
    "coercions": ("<!-- coercions:start -->", "<!-- coercions:end -->"),
}


def settings_table() -> str:
    schema = SETTINGS.to_dict()
    required = set(schema.get("required", []))
    rows = ["| Setting | Type | Default | Description |", "|---|---|---|---|"]
    for name, prop in schema["properties"].items():
        kinds = prop.get("type", [])
        kind = next((k for k in (kinds if isinstance(kinds, list) else [kinds]) if k != "null"), "")
        if prop.get("format") == "date-time":
            kind = "date-time"
        if prop.get("secret"):
            kind += ", secret"
        default = (
            "required" if name in required else f"`{prop['default']}`" if "default" in prop else ""
        )
        rows.append(f"| `{name}` | {kind} | {default} | {prop.get('description', '')} |")
    return "\n".join(rows)


def replication(stream: type[MixmaxStream]) -> str:
    # Unset class attributes are the SDK's properties; only a string is a declared key.
    if isinstance(stream.replication_key, str):
        lookback = f" (re-reads `{stream.lookback_setting}`)" if stream.lookback_setting else ""
        return f"incremental on `{stream.replication_key}`{lookback}"
    parent = stream.parent_stream_type if issubclass(stream, ChildStream) else None
    if parent and issubclass(parent, MixmaxStream):
        return f"full table, per `{parent.name}` row"
    return "full table"


def streams_table() -> str:
    rows = [
        "| Stream | Endpoint | Primary key | Replication | Why this method, and what it misses |",
        "|---|---|---|---|---|",
    ]
    for stream in STREAM_TYPES:
        doc = " ".join(inspect.cleandoc(stream.__doc__ or "").split())
        keys = ", ".join(f"`{k}`" for k in stream.primary_keys or ())
        rows.append(
            f"| `{stream.name}` | `{stream.path}` | {keys} | {replication(stream)} | {doc} |"
        )
    return "\n".join(rows)


def coercions_table() -> str:
    """Every field with an `x-coerce`, from the schemas: what arrives and what is emitted."""
    rows = ["| Field | Type | What Mixmax sends, and what the tap emits |", "|---|---|---|"]
    for stream in STREAM_TYPES:
        for path, node in schema_nodes(load_schema(stream.name)):
            if COERCE_KEYWORD in node:
                where = ".".join(path).replace(f".{ARRAY_ITEMS}", ARRAY_ITEMS)
                rows.append(
                    f"| `{stream.name}.{where}` | {declared_type(node)} "
                    f"| {node.get('description') or ''} |"
                )
    return "\n".join(rows)


def render(text: str) -> str:
    tables = (
        ("settings", settings_table()),
        ("streams", streams_table()),
        ("coercions", coercions_table()),
    )
    for name, table in tables:
        start, end = MARKERS[name]
        head, _, rest = text.partition(start)
        _, _, tail = rest.partition(end)
        text = f"{head}{start}\n{table}\n{end}{tail}"
    return text


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="fail if README.md is stale")
    args = parser.parse_args()
    current = README.read_text()
    rendered = render(current)
    if args.check:
        stale = [README.name] if rendered != current else []
        stale += [os.path.relpath(path, README.parent) for path in stale_files(write=False)]
        for name in stale:
            print(f"{name} is stale: run `make docs`", file=sys.stderr)
        return 1 if stale else 0
    README.write_text(rendered)
    stale_files(write=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
