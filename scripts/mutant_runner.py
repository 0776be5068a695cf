"""The machinery of `make mutants` (the breaks themselves are in scripts/mutants.py).

The repository (the files `git ls-files` lists, committed or new, as they are in the work
tree) is copied to a temporary directory. The guarding tests of every break first run there
unbroken: they must pass, or no result would mean anything. Then each break is applied
alone, in the copy, and only its guarding tests run. A break they all pass "survives", and
the run fails, naming it. The project's .venv runs the copy (PYTHONPATH puts the copy
first, for the tests and for the `tap-mixmax` processes they start), so nothing is
reinstalled.

Hangs: every test runs under pytest-timeout (MUTANT_TEST_TIMEOUT seconds unless it carries
its own `timeout` mark). A break that makes a test hang fails that test, so it is killed.
The whole pytest run of a break also has an outer limit (RUN_TIMEOUT); reaching it means a
test escaped pytest-timeout, and the break is reported as "hung": that fails the run too,
because a hang is not a test result.

A break whose original text is not found exactly once is "stale" and fails the run before
anything runs: a change to the code must not quietly disable a break.

`--changed BASE` runs only the breaks that work since BASE can affect: those whose file or
guarding test files differ between the merge base of BASE and HEAD and the work tree
(committed, staged, unstaged or new), and those added or changed in scripts/mutants.py.
A change to a shared helper (tests/tap_harness.py, conftest.py) selects nothing by itself:
run them all then.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import types
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PYTHON = REPO / ".venv" / "bin" / "python"
BREAKS_FILE = "scripts/mutants.py"
# Modules of breaks that BREAKS_FILE imports (`from mutants_records import ...`).
BREAKS_MODULES = ("scripts/mutants_records.py",)
# Per test, unless the test sets its own (the default-pace test runs a minute).
MUTANT_TEST_TIMEOUT = 45
RUN_TIMEOUT = 900


@dataclasses.dataclass(frozen=True)
class Mutant:
    name: str
    guarantee: str
    file: str
    original: str
    replacement: str
    tests: tuple[str, ...]


def tracked_files() -> list[str]:
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=REPO,
        check=True,
        capture_output=True,
    ).stdout.decode()
    return [name for name in listed.split("\0") if name and (REPO / name).is_file()]


def copy_repository(target: Path) -> None:
    for name in tracked_files():
        destination = target / name
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / name, destination)


def stale(mutants: tuple[Mutant, ...], root: Path) -> list[str]:
    problems = []
    for mutant in mutants:
        path = root / mutant.file
        found = path.read_text().count(mutant.original) if path.is_file() else 0
        if found != 1:
            problems.append(f"{mutant.name}: its original text is in {mutant.file} {found} times")
    return problems


def environment(root: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("PYTEST")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(root), env.get("PYTHONPATH")]))
    env["PYTHONDONTWRITEBYTECODE"] = "1"  # a mutant of the same size and second is no stale .pyc
    return env


def check_the_copy_is_what_runs(root: Path) -> None:
    code = "import tap_mixmax, mixmax_sandbox; print(tap_mixmax.__file__, mixmax_sandbox.__file__)"
    printed = subprocess.run(
        [str(PYTHON), "-c", code],
        cwd=root,
        env=environment(root),
        capture_output=True,
        text=True,
        check=False,
    ).stdout.split()
    if len(printed) != 2 or not all(Path(path).is_relative_to(root) for path in printed):
        raise SystemExit(f"mutants: the copy is not what runs (imports {printed})")


@dataclasses.dataclass
class Outcome:
    verdict: str  # "killed", "SURVIVED", "HUNG", "ERROR"
    seconds: float
    detail: str


def run_tests(root: Path, tests: tuple[str, ...]) -> Outcome:
    argv = [str(PYTHON), "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider"]
    argv += [f"--timeout={MUTANT_TEST_TIMEOUT}", *tests]
    started = time.monotonic()
    # Its own process group, so a hung run's tap processes and servers go with it.
    process = subprocess.Popen(
        argv,
        cwd=root,
        env=environment(root),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        stdout, stderr = process.communicate(timeout=RUN_TIMEOUT)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        return Outcome("HUNG", time.monotonic() - started, f"no result in {RUN_TIMEOUT} s")
    done = subprocess.CompletedProcess(argv, process.returncode, stdout, stderr)
    seconds = time.monotonic() - started
    failed = re.findall(r"^(?:FAILED|ERROR) (\S+)", done.stdout, re.M)
    if done.returncode == 0:
        return Outcome("SURVIVED", seconds, f"{len(tests)} test(s) passed")
    if done.returncode == 1 and failed:
        timed_out = "from pytest-timeout" in done.stdout
        return Outcome("killed", seconds, failed[0] + (" (pytest-timeout)" if timed_out else ""))
    tail = "\n".join(done.stdout.splitlines()[-15:] + done.stderr.splitlines()[-5:])
    return Outcome("ERROR", seconds, f"pytest exited {done.returncode}:\n{tail}")


def _git(*args: str) -> str:
    done = subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"mutants: git {' '.join(args)}: {done.stderr.strip()}")
    return done.stdout


def changed_files(base: str) -> set[str]:
    """Files that differ from the merge base of `base` and HEAD, as the work tree has them."""
    since = _git("merge-base", base, "HEAD").strip()
    changed = _git("diff", "--name-only", "-z", since).split("\0")
    changed += _git("ls-files", "--others", "--exclude-standard", "-z").split("\0")
    return {name for name in changed if name}


def _breaks_at(base: str) -> dict[str, dict[str, object]]:
    """The breaks scripts/mutants.py defined at the merge base, by name, as plain fields."""
    since = _git("merge-base", base, "HEAD").strip()
    shown = subprocess.run(
        ["git", "show", f"{since}:{BREAKS_FILE}"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    if shown.returncode != 0:
        return {}  # no such file then: every break is new
    # The modules it imports, as they were then too, not as the work tree has them.
    present = set(_git("ls-tree", "-r", "--name-only", since).splitlines())
    imported = {
        Path(path).stem: (path, _git("show", f"{since}:{path}"))
        for path in BREAKS_MODULES
        if path in present
    }
    module = types.ModuleType("mutants_at_base")
    module.__file__ = str(REPO / BREAKS_FILE)
    saved = {name: sys.modules.get(name) for name in (module.__name__, *imported)}
    sys.modules[module.__name__] = module  # for its dataclass, if it defines one
    try:
        for name, (path, text) in imported.items():
            sys.modules[name] = types.ModuleType(name)
            exec(compile(text, f"{since[:12]}:{path}", "exec"), sys.modules[name].__dict__)
        exec(compile(shown.stdout, f"{since[:12]}:{BREAKS_FILE}", "exec"), module.__dict__)
    finally:
        for name, before in saved.items():
            if before is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = before
    return {m.name: dataclasses.asdict(m) for m in module.__dict__.get("MUTANTS", ())}


def changed_mutants(mutants: tuple[Mutant, ...], base: str) -> tuple[Mutant, ...]:
    changed = changed_files(base)
    defined_in = {BREAKS_FILE, *BREAKS_MODULES}
    before = _breaks_at(base) if defined_in & changed else None
    return tuple(
        m
        for m in mutants
        if m.file in changed
        or any(test.split("::")[0] in changed for test in m.tests)
        or (before is not None and before.get(m.name) != dataclasses.asdict(m))
    )


def run(mutants: tuple[Mutant, ...]) -> int:
    """Apply each break alone in a copy of the repository; 0 if every one was killed."""
    with tempfile.TemporaryDirectory(prefix="tap-mixmax-mutants-") as tmp:
        root = Path(tmp)
        copy_repository(root)
        problems = stale(mutants, root)
        if problems:
            print("mutants: stale breaks (update them to the code as it is now):")
            print("\n".join(f"  {problem}" for problem in problems))
            return 1
        check_the_copy_is_what_runs(root)

        guards = tuple(dict.fromkeys(test for m in mutants for test in m.tests))
        print(f"Unbroken: {len(guards)} guarding tests must pass first...", flush=True)
        baseline = run_tests(root, guards)
        if baseline.verdict != "SURVIVED":  # i.e. every guarding test passed
            print(f"mutants: the guarding tests fail without any break: {baseline.detail}")
            return 1
        print(f"  passed in {baseline.seconds:.0f} s\n", flush=True)

        outcomes: dict[str, Outcome] = {}
        for mutant in mutants:
            path = root / mutant.file
            original = path.read_text()
            path.write_text(original.replace(mutant.original, mutant.replacement, 1))
            try:
                outcome = run_tests(root, mutant.tests)
            finally:
                path.write_text(original)
            outcomes[mutant.name] = outcome
            print(f"{outcome.verdict:8} {outcome.seconds:5.1f}s  {mutant.name:38} {outcome.detail}")
            print(f"{'':16}breaks: {mutant.guarantee}", flush=True)

    bad = {name: o for name, o in outcomes.items() if o.verdict != "killed"}
    total = sum(o.seconds for o in outcomes.values()) + baseline.seconds
    print(f"\n{len(outcomes) - len(bad)} of {len(outcomes)} breaks killed in {total:.0f} s")
    for name, outcome in bad.items():
        print(f"  {outcome.verdict}: {name}")
    return 1 if bad else 0


def main(all_mutants: tuple[Mutant, ...], description: str) -> int:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--list", action="store_true", help="list the breaks and exit")
    parser.add_argument(
        "--changed",
        metavar="BASE",
        help="only the breaks whose file, tests or definition changed since BASE (e.g. main)",
    )
    parser.add_argument("names", nargs="*", help="run only these breaks")
    args = parser.parse_args()
    names = [m.name for m in all_mutants]
    if len(set(names)) != len(names):
        raise SystemExit("mutants: two breaks have the same name")
    mutants = tuple(m for m in all_mutants if not args.names or m.name in args.names)
    if args.changed:
        mutants = changed_mutants(mutants, args.changed)
        print(f"Breaks touched since {args.changed}: {len(mutants)} of {len(all_mutants)}")
        if not mutants:
            return 0
    if args.list or not mutants:
        for mutant in mutants if args.list else all_mutants:
            print(f"{mutant.name:40} {mutant.file:26} {mutant.guarantee}")
        return 0 if args.list else 2
    return run(mutants)
