"""Benchmarks: requests against the minimum, throughput under the limit, CPU and memory.

Prints figures; asserts nothing. Every comparison has its baseline measured in the same
run. `make bench` runs all of it (about 15 minutes: the throughput row alone pages for
three minutes under the real limit); `--quick` skips the slow rows, `--only` picks some.

CPU is the tap process's own (user + system, from wait4), against the raw loop of
scripts/bench_raw.py over the same pages of scripts/bench_data.py: messages with every
documented field filled, sequence recipients, live-feed events. Each ratio is given with
process start-up (a whole 30,000-row sync) and without it (the same sync less the same
command on empty data).
"""

from __future__ import annotations

import argparse
import json
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

from bench_data import DATASETS, SELECTED, Pages, PageServer

from mixmax_sandbox import Sandbox

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from request_counts import full_sync_minimum, requests_by_stream

BIN = Path(sys.executable).parent
SCRIPTS = Path(__file__).resolve().parent
PAGE = 300
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
from tap_mixmax.cli import main
main()
"""


def stream_paths() -> dict[str, str]:
    from tap_mixmax.streams import STREAM_TYPES  # noqa: PLC0415

    return {stream.name: stream.path for stream in STREAM_TYPES}


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
        floor = full_sync_minimum(sb)
        paths = stream_paths()
        sb.clear_requests()
        state, _, _ = run_tap(directory, sb)
        full = requests_by_stream(sb.requests, paths)
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
        idle = requests_by_stream(sb.requests, paths)
        summary = sb.advance(days=1)
        sb.clear_requests()
        run_tap(directory, sb, streams=incremental, state=state)
        day = requests_by_stream(sb.requests, paths)
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


def start_tap(
    directory: Path, config: dict[str, Any], streams: set[str]
) -> subprocess.Popen[bytes]:
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


CPU_ROWS = 30_000


def cpu_seconds(argv: list[str], out: Path, env: dict[str, str] | None = None) -> float:
    """User + system CPU of one process (not its children), its stdout into `out`."""
    with out.open("wb") as sink:
        process = subprocess.Popen(
            argv, stdout=sink, stderr=subprocess.DEVNULL, env=env or tap_env()
        )
        _, status, usage = os.wait4(process.pid, 0)
    if status != 0:
        raise SystemExit(f"failed with status {status}: {' '.join(argv)}")
    return usage.ru_utime + usage.ru_stime


def tap_argv(
    directory: Path, url: str, token: str, streams: set[str] | None, *, accounts: bool = False
) -> list[str]:
    directory.mkdir(parents=True, exist_ok=True)
    config: dict[str, Any] = {"api_url": url, "max_requests_per_minute": UNPACED}
    if accounts:
        config["accounts"] = [{"name": "one", "api_token": token}]
    else:
        config["api_token"] = token
    config_path = directory / "config.json"
    config_path.write_text(json.dumps(config))
    catalog = write_catalog(directory, config_path, streams)
    return [str(BIN / "tap-mixmax"), "--config", str(config_path), "--catalog", str(catalog)]


def raw_argv(dataset: str, url: str, token: str, out: Path) -> list[str]:
    return [sys.executable, str(SCRIPTS / "bench_raw.py"), dataset, url, token, str(out)]


def records_in(path: Path, stream: str) -> int:
    marker = f'"stream":"{stream}"'
    with path.open() as lines:
        return sum(1 for line in lines if line.startswith('{"type":"RECORD"') and marker in line)


def raw_records_in(path: Path, stream: str) -> int:
    marker = f'"stream": "{stream}"'
    with path.open() as lines:
        return sum(1 for line in lines if marker in line)


def bench_cpu(directory: Path, rows: int, repeats: int) -> None:
    """Tap against the raw loop, same pages, per data set; medians of `repeats` runs."""
    table_rows = []
    for dataset in DATASETS:
        work = directory / f"cpu-{dataset}"
        work.mkdir(exist_ok=True)
        with PageServer(Pages(dataset, rows)) as full, PageServer(Pages("empty", 0)) as empty:
            tap_full = tap_argv(work / "full", full.url, full.token, SELECTED[dataset])
            tap_empty = tap_argv(work / "empty", empty.url, empty.token, SELECTED[dataset])
            runs: dict[str, list[float]] = {"tap": [], "tap0": [], "raw": [], "raw0": []}
            for _ in range(repeats):  # interleaved, so both see the same machine
                runs["tap"].append(cpu_seconds(tap_full, work / "tap.jsonl"))
                raw_out = work / "raw.jsonl"
                runs["raw"].append(
                    cpu_seconds(raw_argv(dataset, full.url, full.token, raw_out), work / "raw.log")
                )
                runs["tap0"].append(cpu_seconds(tap_empty, work / "tap0.jsonl"))
                runs["raw0"].append(
                    cpu_seconds(
                        raw_argv(dataset, empty.url, empty.token, work / "raw0.jsonl"),
                        work / "raw0.log",
                    )
                )
        emitted = records_in(work / "tap.jsonl", dataset)
        read_raw = raw_records_in(work / "raw.jsonl", dataset)
        if emitted != rows or read_raw != rows:
            raise SystemExit(f"{dataset}: the tap emitted {emitted}, the raw loop {read_raw}")
        tap, tap0, raw, raw0 = (statistics.median(runs[k]) for k in ("tap", "tap0", "raw", "raw0"))
        table_rows.append([
            dataset, f"{rows:,}", f"{tap:.2f}", f"{raw:.2f}", f"{tap / raw:.2f}x",
            f"{tap0:.2f}", f"{raw0:.2f}", f"{(tap - tap0) / rows * 1e6:.1f}",
            f"{(raw - raw0) / rows * 1e6:.1f}", f"{(tap - tap0) / (raw - raw0):.2f}x",
        ])  # fmt: skip
    table(
        f"CPU against the raw loop (requests + json.loads, same pages), median of {repeats}; "
        "every documented field filled",
        ["data set", "rows", "tap s", "raw s", "ratio", "tap start s", "raw start s",
         "tap us/row", "raw us/row", "ratio w/o start"],
        table_rows,
    )  # fmt: skip


IMPORT = "import requests"


def bench_startup(directory: Path, repeats: int) -> None:
    """The fixed cost: what a process pays before its first record."""
    with PageServer(Pages("empty", 0)) as empty:
        token = empty.token
        tap = str(BIN / "tap-mixmax")
        discover = tap_argv(directory / "disc", empty.url, token, None)[:3]
        every = tap_argv(directory / "one-token", empty.url, token, None)
        account = tap_argv(directory / "one-account", empty.url, token, None, accounts=True)
        cases = [
            ("python -c pass (the interpreter)", [sys.executable, "-c", "pass"]),
            ("python -c 'import requests' (the raw floor)", [sys.executable, "-c", IMPORT]),
            ("tap-mixmax --about", [tap, "--about"]),
            ("tap-mixmax --discover", [*discover, "--discover"]),
            ("sync of nothing, api_token, every stream", every),
            ("sync of nothing, one account, every stream", account),
        ]
        rows = []
        for label, argv in cases:
            runs = [cpu_seconds(argv, directory / "startup.out") for _ in range(repeats)]
            rows.append([label, f"{statistics.median(runs) * 1000:.0f}"])
    table(f"Start-up CPU, median of {repeats}", ["process", "CPU ms"], rows)
    bench_imports(top=15)


def bench_imports(top: int) -> None:
    """Where `tap-mixmax --about` spends its import time (python -X importtime), summed by
    top-level package: each module's own time, so nothing is counted twice."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", str(BIN / "tap-mixmax"), "--about"],
        capture_output=True,
        text=True,
        check=True,
        env=tap_env(),
    )
    by_package: Counter[str] = Counter()
    modules: Counter[str] = Counter()
    for line in done.stderr.splitlines():
        match = re.match(r"import time:\s+(\d+) \|\s+\d+ \|\s*(\S+)", line)
        if match:
            by_package[match[2].split(".")[0]] += int(match[1])
            modules[match[2].split(".")[0]] += 1
    total = sum(by_package.values())
    table(
        f"Imports of tap-mixmax --about: {total / 1000:.0f} ms (wall, one run), by package",
        ["package", "modules", "ms", "share"],
        [
            [name, modules[name], f"{spent / 1000:.1f}", f"{spent / total:.0%}"]
            for name, spent in by_package.most_common(top)
        ],
    )


def bench_memory(directory: Path, sizes: list[int]) -> None:
    rows = []
    for size in sizes:
        with Sandbox(seed=9, scale="large", messages=size, rate_limit=None) as sb:
            _, cpu, rss = run_tap(directory, sb, streams={"messages"})
            rows.append([f"{size:,}", f"{rss / 1024:.1f}", f"{cpu:.1f}"])
    table("Peak RSS of the tap process, messages sync", ["rows", "peak RSS MiB", "CPU s"], rows)


SECTIONS = ("requests", "cpu", "startup", "memory", "org", "slow", "throughput")
SLOW_SECTIONS = {"slow", "throughput"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="one run each; no slow rows")
    parser.add_argument("--only", nargs="+", choices=SECTIONS, help="these sections only")
    parser.add_argument("--cpu-rows", type=int, default=CPU_ROWS)
    parser.add_argument("--throughput-minutes", type=float, default=3.0)
    args = parser.parse_args()
    sections = set(args.only or SECTIONS) - (SLOW_SECTIONS if args.quick else set())
    print(f"tap-mixmax benchmarks, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, {platform.platform()}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        if "requests" in sections:
            bench_requests(directory)
        if "cpu" in sections:
            bench_cpu(directory, args.cpu_rows, repeats=1 if args.quick else 3)
        if "startup" in sections:
            bench_startup(directory, repeats=1 if args.quick else 5)
        if "memory" in sections:
            bench_memory(directory, [10_000, 100_000] if args.quick else [10_000, 1_000_000])
        if "org" in sections:
            bench_org(directory, ORG_USERS)
        if "slow" in sections:
            bench_slow_api(directory, latency=1.0)
        if "throughput" in sections:
            bench_throughput(directory, args.throughput_minutes)


if __name__ == "__main__":
    main()
