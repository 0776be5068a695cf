#!/usr/bin/env python3
"""Run the README's runnable examples as a reader would, then check what they produced.

A fenced block right after a `<!-- readme-test -->` line is runnable; other blocks are
prose. The runnable blocks run in order as one bash script (`set -euo pipefail`) in a
fresh temporary directory, with --bin (default: the project venv's bin) first on PATH,
in a process group of their own that is killed afterwards, so a sandbox left running
cannot outlive the check. Then the files the quick start writes are checked: records
were written, the state has bookmarks, and the incremental sync read less than the
first.

    scripts/run_readme.py                      # README.md with .venv/bin
    scripts/run_readme.py --bin /tmp/wheel/bin # the same from an installed wheel

Exit 0 with a one-line summary, or 1 with the reason (and the script's output).
Standard library only, so any Python 3.10+ runs it.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
MARKER = "<!-- readme-test -->"
FENCE = re.compile(r"^```(\w*)\s*$")
RUN_TIMEOUT_SECONDS = 300
# What the README's quick start writes, in its working directory.
CATALOG = "catalog.json"
FIRST_SYNC = "sync-1.jsonl"
STATE = "state.json"
SECOND_SYNC = "sync-2.jsonl"


class ReadmeError(Exception):
    """The README's examples failed, or did not produce what they say."""


def runnable_blocks(markdown: str) -> list[str]:
    """The bodies of the fenced blocks that follow a MARKER line."""
    lines = markdown.splitlines()
    blocks = []
    for index, line in enumerate(lines):
        if line.strip() != MARKER:
            continue
        start = index + 1
        while start < len(lines) and not lines[start].strip():
            start += 1
        opening = FENCE.match(lines[start]) if start < len(lines) else None
        if not opening or opening[1] not in ("bash", "sh", "shell"):
            raise ReadmeError(f"line {index + 1}: {MARKER} must precede a ```bash block")
        end = start + 1
        while end < len(lines) and lines[end].strip() != "```":
            end += 1
        if end == len(lines):
            raise ReadmeError(f"line {start + 1}: the block never closes")
        blocks.append("\n".join(lines[start + 1 : end]))
    return blocks


def run_blocks(blocks: list[str], workdir: Path, bin_dir: Path) -> None:
    script = workdir / "readme.sh"
    script.write_text("set -euo pipefail\n" + "\n\n".join(blocks) + "\n")
    log = workdir / "readme.log"
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}
    for name in ("VIRTUAL_ENV", "PYTHONPATH"):  # the reader's shell, not this one's
        env.pop(name, None)
    with log.open("wb") as output:  # a file, not a pipe a background process could hold
        proc = subprocess.Popen(
            ["bash", str(script)],
            cwd=workdir,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            failed = proc.wait(timeout=RUN_TIMEOUT_SECONDS) != 0 and f"exited {proc.returncode}"
        except subprocess.TimeoutExpired:
            failed = f"were still running after {RUN_TIMEOUT_SECONDS} s"
        left_running = kill_group(proc.pid)
        proc.wait()
    tail = "\n".join(log.read_text(errors="replace").splitlines()[-40:])
    if failed:
        raise ReadmeError(f"the README's blocks {failed}:\n{tail}")
    if left_running:
        raise ReadmeError(f"the README's blocks left processes running (killed):\n{tail}")


def live_members(pgid: int) -> list[int]:
    """Live (not zombie) processes of the group, from /proc/*/stat: pid (comm) state ppid pgrp."""
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # gone meanwhile
        if int(fields[2]) == pgid and fields[0] != "Z":
            members.append(int(stat.parent.name))
    return members


def kill_group(pgid: int) -> bool:
    """SIGKILL what is left of the script's process group; True if anything was."""
    deadline = time.monotonic() + 2  # time for a process stopping on its own (`kill %1`)
    while live_members(pgid):
        if time.monotonic() > deadline:
            for pid in live_members(pgid):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            return True
        time.sleep(0.1)
    return False


def read_messages(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        raise ReadmeError(f"the README's blocks wrote no {path.name}")
    try:
        return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    except ValueError as error:
        raise ReadmeError(f"{path.name} is not JSON lines: {error}") from error


def records_per_stream(messages: list[dict[str, Any]]) -> Counter[str]:
    return Counter(m["stream"] for m in messages if m.get("type") == "RECORD")


def check_outcomes(workdir: Path) -> str:
    """Check the files of the quick start; return a one-line summary."""
    try:
        catalog = json.loads((workdir / CATALOG).read_text())
    except (OSError, ValueError) as error:
        raise ReadmeError(f"{CATALOG}: {error}") from error
    if not catalog.get("streams"):
        raise ReadmeError(f"{CATALOG} lists no stream")

    first = read_messages(workdir / FIRST_SYNC)
    first_records = records_per_stream(first)
    if not first_records:
        raise ReadmeError(f"{FIRST_SYNC} has no RECORD message")
    if not any(m.get("type") == "STATE" for m in first):
        raise ReadmeError(f"{FIRST_SYNC} has no STATE message")

    try:
        state = json.loads((workdir / STATE).read_text())
    except (OSError, ValueError) as error:
        raise ReadmeError(f"{STATE}: {error}") from error
    bookmarks = state.get("bookmarks", {}) if isinstance(state, dict) else {}
    incremental = sorted(
        name for name, value in bookmarks.items() if value.get("replication_key_value")
    )
    if not incremental:
        raise ReadmeError(f"{STATE} holds no bookmark: {json.dumps(state)[:300]}")

    second_records = records_per_stream(read_messages(workdir / SECOND_SYNC))
    grew = [s for s in incremental if second_records[s] > first_records[s]]
    if grew:
        raise ReadmeError(f"the incremental sync read more than the first of {grew}")
    fewer = [s for s in incremental if second_records[s] < first_records[s]]
    if not fewer or sum(second_records.values()) >= sum(first_records.values()):
        raise ReadmeError(
            f"the sync with {STATE} read no less than the first: "
            f"{dict(first_records)} then {dict(second_records)}"
        )
    changes = ", ".join(f"{s} {first_records[s]} -> {second_records[s]}" for s in fewer)
    return (
        f"sync 1: {sum(first_records.values())} records in {len(first_records)} streams; "
        f"sync 2 from {STATE}: {sum(second_records.values())} ({changes})"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--readme", type=Path, default=REPO / "README.md")
    parser.add_argument(
        "--bin",
        type=Path,
        default=REPO / ".venv" / "bin",
        help="the directory holding tap-mixmax and tap-mixmax-sandbox (default: .venv/bin)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the working directory")
    args = parser.parse_args(argv)
    started = time.monotonic()
    workdir = Path(tempfile.mkdtemp(prefix="tapmixmax-readme."))
    try:
        blocks = runnable_blocks(args.readme.read_text())
        if not blocks:
            raise ReadmeError(f"{args.readme} has no {MARKER} block")
        run_blocks(blocks, workdir, args.bin.resolve())
        summary = check_outcomes(workdir)
    except ReadmeError as error:
        print(f"run_readme: {args.readme.name}: {error}", file=sys.stderr)
        return 1
    finally:
        if args.keep:
            print(f"run_readme: kept {workdir}", file=sys.stderr)
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    elapsed = time.monotonic() - started
    print(f"run_readme: {len(blocks)} blocks ran in {elapsed:.1f} s with {args.bin}; {summary}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
