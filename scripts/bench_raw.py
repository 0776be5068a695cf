"""The raw floor of `make bench`: plain `requests` + `json.loads` over the same pages the
tap reads, one Singer-shaped line per record. Imports nothing else, so its start-up is a
bare Python's plus requests'.

    python scripts/bench_raw.py DATASET API_URL TOKEN OUT
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import requests

PAGE = 300


def raw_loop(dataset: str, url: str, token: str, out: Path) -> None:  # noqa: C901 (the baseline: one plain loop, on purpose)
    session = requests.Session()
    session.headers["X-API-Token"] = token

    def get(path: str, **params: Any) -> Any:
        return json.loads(session.get(f"{url}{path}", params=params, timeout=60).content)

    def walk(path: str, **params: Any) -> Iterator[dict[str, Any]]:
        cursor = None
        while True:
            body = get(path, limit=PAGE, **params, **({"next": cursor} if cursor else {}))
            yield from body["results"]
            if not body.get("hasNext"):
                return
            cursor = body["next"]

    with out.open("w") as sink:

        def emit(stream: str, row: dict[str, Any]) -> None:
            sink.write(json.dumps({"type": "RECORD", "stream": stream, "record": row}) + "\n")

        if dataset == "messages":
            for row in walk("/messages"):
                emit("messages", row)
        elif dataset == "sequence_recipients":
            largest = 0  # the tap's rule: a short page ends a list once a longer one came
            for seq in walk("/sequences"):
                emit("sequences", seq)
                offset = 0
                while True:
                    page = get(f"/sequences/{seq['_id']}/recipients", offset=offset, limit=PAGE)
                    for row in page:
                        emit("sequence_recipients", row)
                    proven = len(page) < largest
                    largest = max(largest, len(page))
                    if not page or proven:
                        break
                    offset += len(page)
        elif dataset == "livefeed_events":
            for row in walk("/livefeed"):
                emit("livefeed", row)
                for event in walk("/livefeed/events", messageId=row["messageId"]):
                    emit("livefeed_events", event)
        else:
            raise SystemExit(f"unknown data set {dataset!r}")


if __name__ == "__main__":
    raw_loop(sys.argv[1], sys.argv[2], sys.argv[3], Path(sys.argv[4]))
