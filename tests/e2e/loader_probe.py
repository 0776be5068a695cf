"""Run inside a warehouse loader's own venv: its schema mapping and record preparation,
offline, on a file of Singer messages. No warehouse is contacted.

    python loader_probe.py LOADER MESSAGES.jsonl...   # prints a JSON list, one per file

For each stream: `columns` (property -> the column type the loader would create),
`rejected` (records its preparation refuses) with the first error, and `dropped`
(properties holding a value that the prepared row does not carry). LOADER is one of
bigquery-fixed, bigquery-denormalized (z3z1ma target-bigquery, storage write API),
snowflake (MeltanoLabs), redshift-pipelinewise, redshift-datamill.

This file imports only the loader's packages: it is not part of the test venv.
"""

from __future__ import annotations

import json
import sys
import typing as t

Record = dict[str, t.Any]


def bigquery(schema: Record, fixed: bool) -> tuple[dict[str, str], t.Callable[[Record], Record]]:
    from google.protobuf import json_format
    from target_bigquery import storage_write
    from target_bigquery.core import BigQueryTable, IngestionStrategy

    strategy = IngestionStrategy.FIXED if fixed else IngestionStrategy.DENORMALIZED
    sink_class = (
        storage_write.BigQueryStorageWriteSink
        if fixed
        else storage_write.BigQueryStorageWriteDenormalizedSink
    )
    sink = object.__new__(sink_class)  # the sink's own methods, without a client
    sink.table = BigQueryTable(
        name="t", dataset="d", project="p", jsonschema=schema, ingestion_strategy=strategy
    )
    fields = sink.table.get_resolved_schema(sink.apply_transforms)
    if fixed:
        columns = {name: "JSON (the row's data)" for name in schema["properties"]}
    else:
        columns = {
            f.name: f.field_type + (" REPEATED" if f.mode == "REPEATED" else "") for f in fields
        }
    proto = sink.proto_schema

    def prepare(record: Record) -> Record:
        row = sink.preprocess_record(json.loads(json.dumps(record)), {})
        json_format.ParseDict(row, proto())  # what process_record serializes; raises if refused
        prepared: Record = json.loads(row["data"]) if fixed else row
        return prepared

    return columns, prepare


def snowflake(schema: Record) -> tuple[dict[str, str], t.Callable[[Record], Record]]:
    from singer_sdk.helpers._util import dump_json
    from snowflake.sqlalchemy.snowdialect import SnowflakeDialect
    from target_snowflake.connector import SnowflakeConnector

    connector = SnowflakeConnector(
        config={"account": "a", "user": "u", "password": "p", "database": "d"}
    )
    dialect = SnowflakeDialect()  # the connector's own would connect first
    columns = {}
    for name, prop in schema["properties"].items():
        sql_type = connector.to_sql_type(prop)
        # NUMBER compiles to its synonym DECIMAL; the connector asks for NUMBER.
        columns[name] = (
            type(sql_type).__name__
            if type(sql_type).__name__ == "NUMBER"
            else str(sql_type.compile(dialect=dialect))
        )

    def prepare(record: Record) -> Record:
        # The batch files staged for `$1:<column>::<type>` are JSON lines of the record.
        prepared: Record = json.loads(dump_json(record))
        return prepared

    return columns, prepare


def redshift_pipelinewise(schema: Record) -> tuple[dict[str, str], t.Callable[[Record], Record]]:
    import collections
    import collections.abc

    from target_redshift import db_sync

    # 1.6.0 uses collections.MutableMapping, gone since Python 3.10: it cannot load a row
    # on any Python this project supports. Restored here to see what it would make.
    collections.MutableMapping = collections.abc.MutableMapping  # type: ignore[attr-defined]
    flat = db_sync.flatten_schema(schema, max_level=0)
    sync = object.__new__(db_sync.DbSync)
    sync.flatten_schema, sync.data_flattening_max_level = flat, 0
    columns = {name: db_sync.column_type(prop) for name, prop in flat.items()}

    def prepare(record: Record) -> Record:
        sync.record_to_csv_line(record)  # the line the target COPYs from S3
        row = db_sync.flatten_record(record, flat, max_level=0)
        return {name: value for name, value in row.items() if name in flat}

    return columns, prepare


def redshift_datamill(
    schema: Record, keys: list[str]
) -> tuple[dict[str, str], t.Callable[[Record], Record]]:
    from target_postgres import denest, json_schema
    from target_redshift.redshift import RedshiftTarget

    target = object.__new__(RedshiftTarget)
    target.default_column_length = RedshiftTarget.DEFAULT_COLUMN_LENGTH
    tables = denest.to_table_batches(schema, keys, [])
    root = next(
        table["streamed_schema"] for table in tables if table["streamed_schema"]["path"] == ()
    )
    columns = {}
    for path, prop in root["schema"]["properties"].items():
        # One column per JSON type (denest wraps each in anyOf), each made nullable first.
        columns["__".join(path)] = " | ".join(
            target.json_schema_to_sql_type(json_schema.make_nullable(sub))
            for sub in prop.get("anyOf", [prop])
        )
    for table in tables:  # arrays become tables of their own
        path = table["streamed_schema"]["path"]
        if path:
            columns["__".join(path)] = "a child table"
    for name in schema["properties"]:  # objects become a column per property
        if name not in columns and any(column.startswith(f"{name}__") for column in columns):
            columns[name] = "a column per property"

    def prepare(record: Record) -> Record:
        batches = denest.to_table_batches(schema, keys, [json.loads(json.dumps(record))])
        kept: Record = {}
        for batch in batches:
            table = batch["streamed_schema"]
            for row in batch["records"]:
                for column, (_, value) in row.items():
                    # A value reaches the warehouse only in a column of its table.
                    if value is not None and column in table["schema"]["properties"]:
                        kept[(table["path"] + column)[0]] = value
        return kept

    return columns, prepare


def has_data(value: t.Any) -> bool:
    """A value with something in it: a scalar at any depth."""
    if isinstance(value, dict):
        return any(has_data(v) for v in value.values())
    if isinstance(value, list):
        return any(has_data(v) for v in value)
    return value is not None


def probe(loader: str, lines: list[Record]) -> dict[str, t.Any]:
    out: dict[str, t.Any] = {}
    prepares = {}
    for message in lines:
        stream: str = message.get("stream", "")  # SCHEMA and RECORD messages have one
        if message["type"] == "SCHEMA":
            schema, keys = message["schema"], message["key_properties"]
            if loader.startswith("bigquery"):
                columns, prepare = bigquery(schema, loader == "bigquery-fixed")
            elif loader == "snowflake":
                columns, prepare = snowflake(schema)
            elif loader == "redshift-pipelinewise":
                columns, prepare = redshift_pipelinewise(schema)
            else:
                columns, prepare = redshift_datamill(schema, keys)
            prepares[stream] = prepare
            out[stream] = {"columns": columns, "rejected": 0, "error": None, "dropped": []}
        elif message["type"] == "RECORD":
            entry, record = out[stream], message["record"]
            try:
                row = prepares[stream](record)
            except Exception as exc:  # the loader's refusal, whatever its kind
                entry["rejected"] += 1
                entry["error"] = entry["error"] or f"{type(exc).__name__}: {exc}"[:300]
                continue
            for name, value in record.items():
                if has_data(value) and name not in row and name not in entry["dropped"]:
                    entry["dropped"].append(name)
    return out


if __name__ == "__main__":
    results = []
    for path in sys.argv[2:]:  # one process for several files: the imports are slow
        with open(path, encoding="utf-8") as handle:
            messages = [json.loads(line) for line in handle if line.strip()]
        results.append(probe(sys.argv[1], messages))
    print(json.dumps(results))
