"""MeltanoLabs target-postgres with `format: date-time` as `timestamp with time zone`."""

from __future__ import annotations

import typing as t
from functools import cached_property

from sqlalchemy.dialects.postgresql import TIMESTAMP
from target_postgres.connector import PostgresConnector
from target_postgres.target import TargetPostgres

if t.TYPE_CHECKING:
    from singer_sdk.sql.connector import JSONSchemaToSQL

_base_jsonschema_to_sql = PostgresConnector.jsonschema_to_sql


def _timestamptz(_schema: dict[str, t.Any]) -> TIMESTAMP:
    return TIMESTAMP(timezone=True)


class PostgresTzConnector(PostgresConnector):
    """The target's connector; only the SQL type of date-time properties differs."""

    @cached_property
    def jsonschema_to_sql(self) -> JSONSchemaToSQL:
        to_sql = _base_jsonschema_to_sql.func(self)  # type: ignore[attr-defined]
        to_sql.register_format_handler("date-time", _timestamptz)
        return to_sql


def _patch() -> None:
    # Sinks build their connector from the target's `default_sink_class.connector_class`.
    sink_class = TargetPostgres.default_sink_class
    sink_class.connector_class = PostgresTzConnector  # type: ignore[assignment]


def main() -> None:
    """Run target-postgres with the patched connector."""
    _patch()
    TargetPostgres.cli()
