"""Every command the docs show exists: options of tap-mixmax and its sandbox, make targets,
and Meltano commands as the pinned Meltano parses them.

Commands are read from the fenced shell blocks and the inline code spans of README.md,
docs/*.md and the other READMEs. A Meltano command is checked by running it with `--help`
appended: Meltano 4.4 resolves every subcommand and option before printing help, so
`meltano config tap-mixmax list --help` fails (no such command) where
`meltano config list tap-mixmax --help` succeeds, without touching any project state.
"""

from __future__ import annotations

import functools
import json
import os
import re
import shlex
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from e2e_helpers import MELTANO, REPO

pytestmark = pytest.mark.e2e

DOCS = [
    REPO / "README.md",
    *sorted(p for p in (REPO / "docs").glob("*.md") if p.name != "mixmax-api.md"),
    REPO / "mixmax_sandbox" / "README.md",
    REPO / "orchestrate" / "target-postgres-tz" / "README.md",
]
SHELL_FENCES = {"bash", "sh", "shell", "console"}
CHECKED_TOOLS = {"tap-mixmax", "tap-mixmax-sandbox", "meltano", "make"}
SEPARATORS = {"&&", "||", "|", ";", "&", "(", ")"}
REDIRECTS = {">", ">>", "<", ">&", "<&", "&>"}
PLACEHOLDERS = {"...", "…"}
VENV_BIN = Path(sys.executable).parent


def fenced_blocks(text: str) -> Iterator[tuple[str, str]]:
    """(language, body) of every fenced block."""
    for match in re.finditer(r"^[ \t]*```(\w*)\n(.*?)^[ \t]*```", text, re.M | re.S):
        yield match[1], match[2]


def inline_spans(text: str) -> list[str]:
    """Inline code spans outside fenced blocks."""
    prose = re.sub(r"^[ \t]*```.*?^[ \t]*```", "", text, flags=re.M | re.S)
    spans = re.findall(r"`([^`]+)`", prose)
    return [" ".join(span.split()) for span in spans if "\n\n" not in span]


def split_commands(line: str) -> Iterator[list[str]]:
    """Simple commands of a shell line: words up to a separator, minus redirections and
    leading VAR=value assignments."""
    line = re.sub(r"(?<![\w-])\d(?=[<>])", " ", line)  # the fd of 2>&1, 2>/dev/null
    line = re.sub(r"<[\w-]+>", "PLACEHOLDER", line)  # <group>, not a redirection
    lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    lexer.commenters = "#"
    try:
        tokens = list(lexer)
    except ValueError:
        return  # an unbalanced quote: prose, not a command
    command: list[str] = []
    skip_next = False
    for token in [*tokens, ";"]:
        if skip_next:
            skip_next = False
        elif token in SEPARATORS:
            while command and re.match(r"^[A-Z_][A-Z0-9_]*=", command[0]):
                command.pop(0)
            if command:
                yield command
            command = []
        elif token in REDIRECTS or token.rstrip("&") in REDIRECTS:
            skip_next = True  # the file name
        else:
            command.append(token)


def documented_commands() -> list[tuple[str, str, list[str]]]:
    """(file, tool, argv) for every tap-mixmax, sandbox, meltano and make command."""
    found = []
    for path in DOCS:
        text = path.read_text()
        lines = []
        for language, body in fenced_blocks(text):
            if language in SHELL_FENCES:
                body = re.sub(r"\\\n\s*", " ", body)  # continuation lines
                lines += [re.sub(r"^\$ ", "", line) for line in body.splitlines()]
        lines += inline_spans(text)
        for line in lines:
            for argv in split_commands(line):
                tool = Path(argv[0]).name
                if tool in CHECKED_TOOLS and (argv[0] == tool or "/bin/" in argv[0]):
                    found.append((str(path.relative_to(REPO)), tool, argv))
    return found


@functools.cache
def run_help(command: tuple[str, ...]) -> subprocess.CompletedProcess[str]:
    """`<command> --help`, in the repository's Meltano project; each command runs once."""
    return subprocess.run(
        [*command, "--help"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        env=meltano_env(),
    )


def help_options(*command: str) -> set[str]:
    done = run_help(command)
    assert done.returncode == 0, done.stderr
    return set(re.findall(r"(?<![\w-])(--[a-z][a-z0-9-]*)", done.stdout))


def documented_meltano_commands() -> dict[tuple[str, ...], str]:
    """Distinct argument lists of the documented meltano commands -> a file showing it."""
    return {tuple(argv[1:]): where for where, tool, argv in COMMANDS if tool == "meltano"}


def meltano_env() -> dict[str, str]:
    env = {
        **os.environ,
        "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false",
        "MELTANO_CLI_DISABLE_VERSION_CHECK": "true",
    }
    env.pop("VIRTUAL_ENV", None)
    return env


def options_of(argv: list[str]) -> set[str]:
    return {arg.split("=", 1)[0] for arg in argv[1:] if arg.startswith("--")}


def makefile_targets() -> set[str]:
    text = (REPO / "Makefile").read_text()
    return set(re.findall(r"^([a-z][\w-]*)\s*:(?!=)", text, re.M))


COMMANDS = documented_commands()


def test_the_docs_show_commands_of_every_kind():
    tools = {tool for _, tool, _ in COMMANDS}
    assert tools == CHECKED_TOOLS, f"the parser found only {tools}"


def test_tap_mixmax_options_exist():
    tap = str(VENV_BIN / "tap-mixmax")
    known = help_options(tap)
    doctor = help_options(tap, "--doctor")  # a command of its own, with its own options
    wrong = [
        f"{where}: {' '.join(argv)}"
        for where, tool, argv in COMMANDS
        if tool == "tap-mixmax" and options_of(argv) - (doctor if "--doctor" in argv else known)
    ]
    assert not wrong, f"options tap-mixmax does not have ({sorted(known)}):\n" + "\n".join(wrong)


def test_sandbox_options_exist():
    known = help_options(str(VENV_BIN / "tap-mixmax-sandbox"))
    wrong = [
        f"{where}: {' '.join(argv)}"
        for where, tool, argv in COMMANDS
        if tool == "tap-mixmax-sandbox" and options_of(argv) - known
    ]
    assert not wrong, "options tap-mixmax-sandbox does not have:\n" + "\n".join(wrong)


def test_make_targets_exist():
    targets = makefile_targets()
    wrong = [
        f"{where}: {' '.join(argv)}"
        for where, tool, argv in COMMANDS
        if tool == "make"
        and {
            a for a in argv[1:] if a not in PLACEHOLDERS and not a.startswith("-") and "=" not in a
        }
        - targets
    ]
    assert not wrong, f"no such make target ({sorted(targets)}):\n" + "\n".join(wrong)


def test_meltano_commands_parse_with_the_pinned_meltano():
    assert MELTANO.exists(), f"{MELTANO} missing: run `make meltano`"
    commands = documented_meltano_commands()
    assert len(commands) >= 8, commands
    wrong = []
    for args, where in sorted(commands.items()):
        done = run_help((str(MELTANO), *args))
        if done.returncode != 0:
            error = [line for line in done.stderr.splitlines() if "Error" in line]
            wrong.append(f"{where}: meltano {' '.join(args)}: {error}")
    assert not wrong, "Meltano 4.4 rejects:\n" + "\n".join(wrong)


def test_bare_options_in_prose_exist():
    """An inline `--option` is an option of the tap, the sandbox, Meltano, or a documented
    Meltano command (`--all` of `meltano config list`)."""
    known = help_options(str(VENV_BIN / "tap-mixmax")) | help_options(
        str(VENV_BIN / "tap-mixmax-sandbox")
    )
    for args in [(), *documented_meltano_commands()]:
        done = run_help((str(MELTANO), *args))
        if done.returncode == 0:  # a rejected command fails the test above
            known |= set(re.findall(r"(?<![\w-])(--[a-z][a-z0-9-]*)", done.stdout))
    wrong = []
    for path in DOCS:
        for span in inline_spans(path.read_text()):
            if span.startswith("--"):
                option = re.split(r"[= ]", span, maxsplit=1)[0]
                if option not in known:
                    wrong.append(f"{path.relative_to(REPO)}: `{span}`")
    assert not wrong, "no such option:\n" + "\n".join(wrong)


def test_json_and_yaml_blocks_parse():
    for path in DOCS:
        for language, body in fenced_blocks(path.read_text()):
            if language == "json":
                json.loads(body)
            elif language in ("yaml", "yml"):
                yaml.safe_load(body)
