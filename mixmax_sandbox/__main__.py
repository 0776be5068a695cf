"""`tap-mixmax-sandbox`: serve the sandbox until SIGINT/SIGTERM."""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
from pathlib import Path
from types import FrameType

from .drift import TIMESTAMP_STYLES, VALUE_STYLES, Drift
from .faults import parse_fault_spec
from .paging import MAX_LIMIT
from .ratelimit import DEFAULT_RATE_LIMIT, DEFAULT_RATE_WINDOW, DEFAULT_RESET_STYLE, RESET_STYLES
from .sandbox import DEFAULT_HOST, Sandbox
from .shapes import SHAPES
from .world import SCALES


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tap-mixmax-sandbox", description="Serve a seeded Mixmax v1 API on loopback."
    )
    parser.add_argument("--host", default=DEFAULT_HOST)
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--scale", choices=sorted(SCALES), default="small")
    parser.add_argument("--token", default=None, help="default: derived from the seed")
    parser.add_argument(
        "--users",
        type=positive_int,
        default=1,
        help="users (tokens) served, sharing data within teams; default 1",
    )
    parser.add_argument("--rate-limit", type=int, default=DEFAULT_RATE_LIMIT, help="0 disables")
    parser.add_argument("--rate-window", type=float, default=DEFAULT_RATE_WINDOW)
    parser.add_argument("--reset-style", choices=RESET_STYLES, default=DEFAULT_RESET_STYLE)
    parser.add_argument(
        "--fault",
        action="extend",
        nargs="+",
        default=[],
        metavar="SPEC",
        help="KIND[:key=value,...], e.g. 500:nth=3 or drop:path=/messages,times=2",
    )
    parser.add_argument("--ready-file", type=Path, default=None)
    drift = parser.add_argument_group(
        "drift", "answer as if a guess of the reference were wrong (see README, Drift)"
    )
    defaults = Drift()
    drift.add_argument(
        "--livefeed-query-param",
        default=defaults.livefeed_query_param,
        metavar="NAME",
        help="the parameter /livefeed reads its search string from",
    )
    drift.add_argument(
        "--events-message-param",
        default=defaults.events_message_param,
        metavar="NAME",
        help="the parameter /livefeed/events reads the message id from",
    )
    drift.add_argument(
        "--max-limit",
        type=positive_int,
        default=MAX_LIMIT,
        metavar="N",
        help=f"largest limit honoured (1 to {MAX_LIMIT}), lists and recipients alike",
    )
    drift.add_argument(
        "--recipients-max-limit",
        type=positive_int,
        default=defaults.recipients_max_limit,
        metavar="N",
        help="recipients serve at most N per page whatever limit asks, and say nothing",
    )
    drift.add_argument(
        "--no-rules-expand",
        dest="rules_expand",
        action="store_false",
        help="/rules ignores expand=actions",
    )
    drift.add_argument(
        "--no-paging-flags",
        dest="paging_flags",
        action="store_false",
        help="envelopes carry no hasNext/hasPrevious",
    )
    drift.add_argument(
        "--timestamp-style",
        action="append",
        default=[],
        metavar="RESOURCE.FIELD=STYLE",
        help=f"write that field as one of {', '.join(TIMESTAMP_STYLES)}",
    )
    drift.add_argument(
        "--value-style",
        action="append",
        default=[],
        metavar="RESOURCE.PATH=STYLE",
        help=f"write the values at that path ([] for list items) as one of "
        f"{', '.join(VALUE_STYLES)}",
    )
    drift.add_argument(
        "--extra-field",
        action="append",
        default=[],
        metavar="RESOURCE.FIELD",
        help="add a field the reference does not know to every row",
    )
    drift.add_argument(
        "--optional-field",
        action="append",
        default=[],
        metavar="RESOURCE.FIELD",
        help="leave that field out of about half the rows, as Mixmax may",
    )
    drift.add_argument(
        "--shapes",
        choices=SHAPES,
        default=defaults.shapes,
        help="documented: rows in the shapes the docs guessed, not those live rows show",
    )
    return parser


def drift_of(args: argparse.Namespace) -> Drift:
    styles = {}
    for spec in args.timestamp_style:
        field, sep, style = spec.partition("=")
        if not sep:
            raise ValueError(f"expected RESOURCE.FIELD=STYLE, got {spec!r}")
        styles[field] = style
    values = {}
    for spec in args.value_style:
        path, sep, style = spec.partition("=")
        if not sep:
            raise ValueError(f"expected RESOURCE.PATH=STYLE, got {spec!r}")
        values[path] = style
    return Drift(
        livefeed_query_param=args.livefeed_query_param,
        events_message_param=args.events_message_param,
        max_limit=args.max_limit,
        recipients_max_limit=args.recipients_max_limit,
        rules_expand=args.rules_expand,
        paging_flags=args.paging_flags,
        timestamp_styles=styles,
        extra_fields=tuple(args.extra_field),
        optional_fields=tuple(args.optional_field),
        value_styles=values,
        shapes=args.shapes,
    )


def write_ready_file(path: Path, sandbox: Sandbox) -> None:
    info: dict[str, object] = {
        "url": sandbox.url,
        "control_url": sandbox.control_url,
        "token": sandbox.token,
        "pid": os.getpid(),
    }
    if len(sandbox.tokens) > 1:
        info["tokens"] = sandbox.tokens
    temp = path.with_name(path.name + ".tmp")
    temp.write_text(json.dumps(info))
    temp.replace(path)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        faults = [parse_fault_spec(spec) for spec in args.fault]
        drift = drift_of(args)
    except ValueError as error:
        print(f"tap-mixmax-sandbox: {error}", file=sys.stderr)
        return 2
    sandbox = Sandbox(
        seed=args.seed,
        scale=args.scale,
        token=args.token,
        rate_limit=args.rate_limit or None,
        rate_window=args.rate_window,
        reset_style=args.reset_style,
        host=args.host,
        port=args.port,
        faults=faults,
        users=args.users,
        drift=drift,
    )
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    sandbox.start()
    print(f"Mixmax sandbox serving {sandbox.url}", flush=True)
    print(f"API token: {sandbox.token}", flush=True)
    if args.users > 1:
        print(
            f"Users: {args.users} (the token above is user 0's; every token: "
            f"GET {sandbox.control_url}/users)",
            flush=True,
        )
    if args.ready_file is not None:
        write_ready_file(args.ready_file, sandbox)
    while not stop.wait(0.5):
        pass
    sandbox.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
