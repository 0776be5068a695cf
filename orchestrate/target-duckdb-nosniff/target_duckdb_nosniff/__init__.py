"""jwills target-duckdb 0.8.0, with each batch's CSV read in the dialect it was written in.

The target writes a batch of rows to a headerless CSV file and loads it with a bare
`COPY ... FROM`, which lets DuckDB's sniffer guess the header and the dialect. When the
first row looks like a header (a first column of JSON that every row shares, say), the
sniffer takes it for one and the row is silently lost. Here the COPY states everything:
no header, no detection, the delimiter and quote the file was written with.
"""

from __future__ import annotations

import csv
import os
import typing as t

import target_duckdb
from target_duckdb.db_sync import DbSync


def sql_text(value: str) -> str:
    """A SQL string literal."""
    return "'" + value.replace("'", "''") + "'"


def copy_statement(table: str, path: str, delimiter: str, quotechar: str) -> str:
    """COPY of a headerless CSV that csv.writer wrote (QUOTE_MINIMAL, quotes doubled)."""
    options = ", ".join(
        (
            "FORMAT csv",
            "HEADER false",
            "AUTO_DETECT false",
            f"DELIMITER {sql_text(delimiter)}",
            f"QUOTE {sql_text(quotechar)}",
            f"ESCAPE {sql_text(quotechar)}",
            "NEW_LINE '\\r\\n'",
        )
    )
    return f"COPY {table} FROM {sql_text(path)} ({options})"


def load_rows(
    self: DbSync, records: t.Iterable[dict[str, t.Any]], count: int, temp_dir: str
) -> None:
    """DbSync.load_rows of 0.8.0, step for step, with the COPY above."""
    stream = self.stream_schema_message["stream"]
    self.logger.info("Loading %d rows into '%s'", count, self.table_name(stream, False))
    temp_table = self.table_name(stream, is_temporary=True)
    temp_file = os.path.join(temp_dir, f"{temp_table}.csv")
    self.conn.execute(self.create_table_query(table_name=temp_table, is_temporary=True))
    with open(temp_file, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(
            handle, delimiter=self.delimiter, quotechar=self.quotechar, quoting=csv.QUOTE_MINIMAL
        )
        for record in records:
            writer.writerow(self.record_to_flattened(record))
    self.conn.execute(copy_statement(temp_table, temp_file, self.delimiter, self.quotechar))
    if self.stream_schema_message["key_properties"]:
        update = self.update_from_temp_table(temp_table)
        if update:  # None when every column is part of the key
            self.conn.execute(update)
    self.conn.execute(self.insert_from_temp_table(temp_table))
    self.conn.execute(f"DROP TABLE {temp_table}")
    os.unlink(temp_file)


def main() -> None:
    """Run target-duckdb with the exact COPY."""
    DbSync.load_rows = load_rows  # type: ignore[method-assign]
    target_duckdb.main()
