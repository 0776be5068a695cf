"""Benchmarks: requests against the minimum, throughput under the limit, CPU and memory.

Prints figures; asserts nothing. Every comparison has its baseline measured in the same
run. `make bench` runs all of it (a few minutes: the throughput row alone pages for two
minutes under the real limit); `--quick` skips the slow rows.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import requests

from mixmax_sandbox import Sandbox

BIN = Path(sys.executable).parent
PAGE = 300
# Request path -> stream, most specific first.
ROUTES = [
    (re.compile(r"/v1/sequences/[^/]+/recipients$"), "sequence_recipients"),
    (re.compile(r"/v1/teams/[^/]+/members$"), "team_members"),
    (re.compile(r"/v1/rules/[^/]+/actions$"), "rule_actions"),
    (re.compile(r"/v1/livefeed/events$"), "livefeed_events"),
    (re.compile(r"/v1/users/me$"), "users"),
    (re.compile(r"/v1/userpreferences/me$"), "user_preferences"),
    (re.compile(r"/v1/appointmentlinks/me$"), "appointment_links"),
]
LIST_PATHS = {
    "sequences": "/v1/sequences",
    "messages": "/v1/messages",
    "snippets": "/v1/snippets",
    "polls": "/v1/polls",
    "unsubscribes": "/v1/unsubscribes",
    "livefeed": "/v1/livefeed",
    "teams": "/v1/teams",
    "rules": "/v1/rules",
    "snippet_tags": "/v1/snippettags",
    "sequence_folders": "/v1/sequencefolders",
    "code_snippets": "/v1/codesnippets",
    "meeting_types": "/v1/meetingtypes",
    "meeting_invites": "/v1/meetinginvites",
    "insights_reports": "/v1/insightsreports",
    "qa": "/v1/qa",
    "yesno": "/v1/yesno",
    "file_requests": "/v1/filerequests",
}


# Runs the tap's real entry point and records its peak RSS (VmHWM, KiB) at exit.
HWM_SHIM = """
import atexit, sys
path = sys.argv.pop(1)
def record():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            open(path, "w").write(line.split(":")[1].strip())
atexit.register(record)
sys.argv[0] = "tap-mixmax"
from tap_mixmax.tap import main
main()
"""


def stream_of(path: str) -> str:
    for pattern, stream in ROUTES:
        if pattern.search(path):
            return stream
    for stream, list_path in LIST_PATHS.items():
        if path == list_path:
            return stream
    return path


def pages(rows: int) -> int:
    return max(1, math.ceil(rows / PAGE))


def minimum_requests(sb: Sandbox) -> Counter[str]:
    """The fewest requests that can read the sandbox in full, per stream."""
    floor: Counter[str] = Counter()
    for stream in LIST_PATHS:
        floor[stream] = pages(len(sb.ids(stream)))
    for stream in ("users", "user_preferences", "appointment_links"):
        floor[stream] = 1
    by_parent = Counter(r["sequenceId"] for r in sb.records("sequence_recipients"))
    floor["sequence_recipients"] = sum(
        # A full last page needs one more request to prove it was the last.
        pages(by_parent[s]) + (by_parent[s] % PAGE == 0 and by_parent[s] > 0)
        for s in sb.ids("sequences")
    )
    floor["team_members"] = len(sb.ids("teams"))
    floor["rule_actions"] = 0  # embedded in /rules with expand=actions
    active = [r for r in sb.records("livefeed") if r.get("lastEventAt") is not None]
    floor["livefeed_events"] = len(active)
    return floor


def tap_env() -> dict[str, str]:
    return {**os.environ, "TAP_MIXMAX_LOGLEVEL": "WARNING", "LOGLEVEL": "WARNING"}


UNPACED = 1_000_000  # for sandboxes without a limit; the throughput row keeps the real pace


def write_config(directory: Path, sb: Sandbox, **extra: Any) -> Path:
    path = directory / "config.json"
    config = {"api_url": sb.url, "api_token": sb.token, "max_requests_per_minute": UNPACED}
    path.write_text(json.dumps({**config, **extra}))
    return path


def write_catalog(directory: Path, config: Path, streams: set[str] | None) -> Path:
    discovered = subprocess.run(
        [str(BIN / "tap-mixmax"), "--config", str(config), "--discover"],
        capture_output=True,
        text=True,
        check=True,
        env=tap_env(),
    ).stdout
    catalog = json.loads(discovered)
    for entry in catalog["streams"]:
        for metadata in entry["metadata"]:
            if metadata["breadcrumb"] == []:
                metadata["metadata"]["selected"] = (
                    streams is None or entry["tap_stream_id"] in streams
                )
    path = directory / "catalog.json"
    path.write_text(json.dumps(catalog))
    return path


def run_tap(
    directory: Path,
    sb: Sandbox,
    streams: set[str] | None = None,
    state: dict[str, Any] | None = None,
    output: Path | None = None,
    **config: Any,
) -> tuple[dict[str, Any] | None, float, int]:
    """Run a real tap process; return (last state, CPU seconds, peak RSS in KiB)."""
    config_path = write_config(directory, sb, **config)
    # ru_maxrss survives exec, so a child would inherit this process's (the sandbox's)
    # high-water mark; VmHWM belongs to the tap's own address space.
    hwm_file = directory / "vmhwm"
    argv = [sys.executable, "-c", HWM_SHIM, str(hwm_file), "--config", str(config_path)]
    argv += ["--catalog", str(write_catalog(directory, config_path, streams))]
    if state is not None:
        state_path = directory / "state.json"
        state_path.write_text(json.dumps(state))
        argv += ["--state", str(state_path)]
    out_path = output or directory / "out.jsonl"
    with out_path.open("wb") as sink:
        process = subprocess.Popen(argv, stdout=sink, stderr=subprocess.DEVNULL, env=tap_env())
        _, status, usage = os.wait4(process.pid, 0)
    if status != 0:
        raise SystemExit(f"tap failed with status {status}")
    peak_kib = int(hwm_file.read_text().split()[0])
    last_state = None
    with out_path.open() as lines:
        for line in lines:
            if line.startswith('{"type":"STATE"') or '"type": "STATE"' in line[:40]:
                last_state = json.loads(line)["value"]
    return last_state, usage.ru_utime + usage.ru_stime, peak_kib


def table(title: str, header: list[str], rows: Iterable[list[Any]]) -> None:
    rows = [[str(cell) for cell in row] for row in rows]
    widths = [
        max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(header)
    ]
    print(f"\n{title}")
    print("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
    print("  ".join("-" * w for w in widths))
    for row in rows:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)))


def bench_requests(directory: Path) -> None:
    with Sandbox(seed=42, scale="medium", rate_limit=None) as sb:
        floor = minimum_requests(sb)
        sb.clear_requests()
        state, _, _ = run_tap(directory, sb)
        full = Counter(stream_of(r.path) for r in sb.requests)
        # With `users` selected, its /users/me request is also the connection check.
        rows = [
            [s, len(sb.ids(s)), floor[s], full.get(s, 0), full.get(s, 0) - floor[s]]
            for s in sorted(floor)
        ]
        total = sum(full.values())
        rows.append(["TOTAL", "", sum(floor.values()), total, total - sum(floor.values())])
        table(
            "Full sync: requests per stream (scale=medium)",
            ["stream", "rows", "minimum", "tap", "over"],
            rows,
        )

        incremental = {"messages", "polls", "unsubscribes", "livefeed", "livefeed_events"}
        sb.clear_requests()
        run_tap(directory, sb, streams=incremental, state=state)
        idle = Counter(stream_of(r.path) for r in sb.requests)
        summary = sb.advance(days=1)
        sb.clear_requests()
        run_tap(directory, sb, streams=incremental, state=state)
        day = Counter(stream_of(r.path) for r in sb.requests)
        table(
            "Incremental sync: requests (no changes, then one sandbox day of changes)",
            ["stream", "no changes", "one day"],
            [[s, idle.get(s, 0), day.get(s, 0)] for s in sorted(incremental)]
            + [["(connection check)", idle.get("users", 0), day.get("users", 0)]],
        )
        print(f"  one sandbox day: {json.dumps(summary['counts'])}")


ORG_ACCOUNTS = 3
ORG_USERS = 200


def bench_org(directory: Path, users: int) -> None:
    """Hundreds of accounts in one tap process: requests, time, memory, state size."""
    with Sandbox(seed=8, scale="tiny", users=users, rate_limit=None) as sb:
        accounts = [{"name": f"user{i}", "api_token": token} for i, token in enumerate(sb.tokens)]
        output = directory / "org.jsonl"
        started = time.monotonic()
        state, cpu, rss = run_tap(
            directory, sb, None, output=output, api_token="", accounts=accounts,
            max_parallel_accounts=8,
        )  # fmt: skip
        wall = time.monotonic() - started
        made = len(sb.requests)
    with output.open() as lines:
        records = sum(1 for line in lines if '"type":"RECORD"' in line[:20])
    table(
        f"Org-wide sync: {users} accounts, every stream (sandbox scale tiny, no rate limit)",
        ["requests", "records", "wall s", "CPU s", "peak RSS MiB", "final STATE bytes"],
        [[made, records, f"{wall:.1f}", f"{cpu:.1f}", f"{rss / 1024:.1f}", len(json.dumps(state))]],
    )


def start_tap(directory: Path, config: dict[str, Any], streams: set[str]) -> subprocess.Popen:
    directory.mkdir(exist_ok=True)
    config_path = directory / "config.json"
    config_path.write_text(json.dumps(config))
    argv = [str(BIN / "tap-mixmax"), "--config", str(config_path)]
    argv += ["--catalog", str(write_catalog(directory, config_path, streams))]
    return subprocess.Popen(
        argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=tap_env()
    )


def bench_throughput(directory: Path, minutes: float) -> None:
    """The real limit, per user: one single-token tap and one `accounts` tap, same sandbox."""
    rows_needed = int(minutes * 120 * PAGE * 1.2)
    with Sandbox(
        seed=3,
        scale="medium",
        users=1 + ORG_ACCOUNTS,
        messages=rows_needed,
        rate_limit=120,
        rate_window=60.0,
    ) as sb:
        base = {"api_url": sb.url, "max_requests_per_minute": 120}
        accounts = [
            {"name": f"user{i}", "api_token": sb.tokens[i]} for i in range(1, len(sb.tokens))
        ]
        start = time.monotonic()
        processes = [
            start_tap(directory / "single", {**base, "api_token": sb.tokens[0]}, {"messages"}),
            start_tap(
                directory / "org",
                {**base, "accounts": accounts, "max_parallel_accounts": ORG_ACCOUNTS},
                {"messages"},
            ),
        ]
        # The pacer spends a full window at once, then one window every 60 s: measure the
        # steady pace over whole minutes after the first one.
        time.sleep(55)
        first_minute = len(sb.requests)
        time.sleep(120)
        steady = list(sb.requests)[first_minute:]
        for process in processes:
            process.kill()
            process.wait()
        elapsed = time.monotonic() - start
        made = list(sb.requests)

    def row(label: str, users: set[int]) -> list[Any]:
        ok = sum(1 for r in steady if r.status == 200 and r.user in users)
        limited = sum(1 for r in made if r.status == 429 and r.user in users)
        late = sum(1 for r in steady if r.status == 429 and r.user in users)
        rpm = ok / 2
        limit = 120 * len(users)
        return [label, f"{rpm:.1f}", f"{rpm / limit * 100:.1f}% of {limit}", limited, late]

    header = ["tap", "steady per minute", "of the limit", "429s", "429s after 1st minute"]
    table(
        f"Throughput under the real limit (120 requests / 60 s per user), {elapsed:.0f} s",
        header,
        [
            row("api_token (user0)", {0}),
            *(row(f"accounts: {a['name']}", {i + 1}) for i, a in enumerate(accounts)),
            row(f"accounts: all {ORG_ACCOUNTS}", set(range(1, 1 + ORG_ACCOUNTS))),
        ],
    )


SLOW_STREAMS = {
    "messages",
    "polls",
    "unsubscribes",
    "sequences",
    "sequence_recipients",
    "livefeed",
    "livefeed_events",
}


WARM_UP_SECONDS = 15
SLOW_MINUTES = 2


def bench_slow_api(directory: Path, latency: float) -> None:
    """Mixmax answering in `latency` s: one stream at a time vs lanes, same limit, same run."""
    runs = []
    for lanes in (1, 2, 4):
        sb = Sandbox(seed=5, scale="large", rate_limit=120, rate_window=60.0).start()
        sb.add_fault("slow", probability=1.0, seed=1, times=0, delay=latency)
        config = {"api_url": sb.url, "api_token": sb.token, "max_requests_per_minute": 120}
        config["max_parallel_streams"] = lanes
        process = start_tap(directory / f"lanes-{lanes}", config, SLOW_STREAMS)
        runs.append((lanes, sb, process))
    # Skip the start (discovery, first pages), then count whole minutes.
    time.sleep(WARM_UP_SECONDS)
    before = [len(sb.requests) for _, sb, _ in runs]
    time.sleep(60 * SLOW_MINUTES)
    rows = []
    for (lanes, sb, process), skip in zip(runs, before, strict=True):
        minute = list(sb.requests)[skip:]
        process.kill()
        process.wait()
        answered = sum(1 for r in minute if r.status == 200)
        limited = sum(1 for r in sb.requests if r.status == 429)
        rpm = answered / SLOW_MINUTES
        rows.append([lanes, f"{rpm:.1f}", f"{rpm / 120 * 100:.0f}%", limited])
        sb.stop()
    table(
        f"Slow API ({latency:.1f} s per request) under 120 requests / 60 s, "
        f"{len(SLOW_STREAMS)} streams, over {SLOW_MINUTES} minutes after the first "
        f"{WARM_UP_SECONDS} s",
        ["max_parallel_streams", "requests per minute", "% of 120", "429s (whole run)"],
        rows,
    )


def baseline_loop(url: str, token: str, out: Path) -> None:
    """The raw floor: plain requests + json.loads, one Singer-shaped line per record."""
    session = requests.Session()
    session.headers["X-API-Token"] = token
    cursor = None
    with out.open("w") as sink:
        while True:
            params = {"limit": PAGE, **({"next": cursor} if cursor else {})}
            body = json.loads(session.get(f"{url}/messages", params=params, timeout=60).content)
            for row in body["results"]:
                sink.write(
                    json.dumps({"type": "RECORD", "stream": "messages", "record": row}) + "\n"
                )
            if not body.get("hasNext"):
                return
            cursor = body["next"]


def timed_baseline(directory: Path, sb: Sandbox) -> tuple[float, int]:
    code = (
        "import sys, pathlib; sys.path.insert(0, sys.argv[4]); from bench import baseline_loop; "
        "baseline_loop(sys.argv[1], sys.argv[2], pathlib.Path(sys.argv[3]))"
    )
    out = directory / "baseline.jsonl"
    process = subprocess.Popen(
        [sys.executable, "-c", code, sb.url, sb.token, str(out), str(Path(__file__).parent)]
    )
    _, status, usage = os.wait4(process.pid, 0)
    if status != 0:
        raise SystemExit("baseline failed")
    lines = sum(1 for _ in out.open())
    return usage.ru_utime + usage.ru_stime, lines


def bench_cpu(directory: Path, rows: int, repeats: int) -> None:
    with Sandbox(seed=9, scale="large", messages=rows, rate_limit=None) as sb:
        tap_cpu, base_cpu = [], []
        for _ in range(repeats):
            _, cpu, _ = run_tap(directory, sb, streams={"messages"})
            tap_cpu.append(cpu)
            cpu, _ = timed_baseline(directory, sb)
            base_cpu.append(cpu)
        count = len(sb.ids("messages"))
        tap_median, base_median = statistics.median(tap_cpu), statistics.median(base_cpu)
        table(
            f"CPU per record: messages sync of {count:,} rows, no rate limit, median of {repeats}",
            ["run", "CPU s", "records/s", "us/record"],
            [
                [
                    "tap-mixmax",
                    f"{tap_median:.2f}",
                    f"{count / tap_median:,.0f}",
                    f"{tap_median / count * 1e6:.1f}",
                ],
                [
                    "raw baseline",
                    f"{base_median:.2f}",
                    f"{count / base_median:,.0f}",
                    f"{base_median / count * 1e6:.1f}",
                ],
            ],
        )
        print(f"  ratio tap / baseline: {tap_median / base_median:.2f}x")


def bench_memory(directory: Path, sizes: list[int]) -> None:
    rows = []
    for size in sizes:
        with Sandbox(seed=9, scale="large", messages=size, rate_limit=None) as sb:
            _, cpu, rss = run_tap(directory, sb, streams={"messages"})
            rows.append([f"{size:,}", f"{rss / 1024:.1f}", f"{cpu:.1f}"])
    table("Peak RSS of the tap process, messages sync", ["rows", "peak RSS MiB", "CPU s"], rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="skip throughput and the 1M-row RSS")
    parser.add_argument("--cpu-rows", type=int, default=100_000)
    parser.add_argument("--throughput-minutes", type=float, default=3.0)
    args = parser.parse_args()
    print(f"tap-mixmax benchmarks, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, {platform.platform()}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        bench_requests(directory)
        bench_cpu(directory, args.cpu_rows, repeats=1 if args.quick else 3)
        bench_memory(directory, [10_000, 100_000] if args.quick else [10_000, 1_000_000])
        bench_org(directory, ORG_USERS)
        if not args.quick:
            bench_slow_api(directory, latency=1.0)
            bench_throughput(directory, args.throughput_minutes)


if __name__ == "__main__":
    main()
