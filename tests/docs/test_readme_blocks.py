"""Which README blocks scripts/run_readme.py runs: those after a `<!-- readme-test -->` line."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("run_readme", REPO / "scripts" / "run_readme.py")
assert _spec and _spec.loader
run_readme = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(run_readme)


def test_only_marked_bash_blocks_run():
    markdown = "\n".join(
        [
            "```bash",
            "echo prose",
            "```",
            "<!-- readme-test -->",
            "",
            "```bash",
            "echo one",
            "echo two",
            "```",
            "<!-- readme-test -->",
            "```sh",
            "echo three",
            "```",
        ]
    )
    assert run_readme.runnable_blocks(markdown) == ["echo one\necho two", "echo three"]


@pytest.mark.parametrize(
    "markdown",
    [
        "<!-- readme-test -->\n```json\n{}\n```\n",
        "<!-- readme-test -->\nsome prose\n```bash\necho\n```\n",
        "<!-- readme-test -->\n```bash\necho never closed\n",
        "<!-- readme-test -->\n",
    ],
)
def test_a_marker_without_its_bash_block_is_an_error(markdown):
    with pytest.raises(run_readme.ReadmeError):
        run_readme.runnable_blocks(markdown)


def test_the_readme_quick_start_is_marked_runnable():
    blocks = run_readme.runnable_blocks((REPO / "README.md").read_text())
    script = "\n".join(blocks)
    assert "tap-mixmax-sandbox" in script
    assert "--discover" in script
    assert f"--state {run_readme.STATE}" in script
    for name in (run_readme.CATALOG, run_readme.FIRST_SYNC, run_readme.SECOND_SYNC):
        assert f"> {name}" in script, name
