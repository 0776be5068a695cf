"""Citations of the API notes: every one points at docs/mixmax-api.md, at a section it has.

The code cites the notes as `docs/mixmax-api.md 1.4` or `docs/mixmax-api.md section 6`;
a bare `mixmax-api.md` or `reference 1.4` names a file a reader of the repository cannot
find.
"""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
API_NOTES = REPO / "docs" / "mixmax-api.md"
CITING_FOLDERS = ("tap_mixmax", "mixmax_sandbox", "tests", "scripts", "orchestrate", "docs")
CITING_SUFFIXES = {".py", ".md", ".sh", ".yml"}
SECTION = r"\d+(?:\.\d+)?"
CITATION = re.compile(rf"docs/mixmax-api\.md(?: section)? ({SECTION}(?:, {SECTION})*)")
OLD_STYLE = re.compile(r"\b(?:reference|Reference) (?:section )?\d")
# `mixmax-api.md` in backticks, or followed by a section, without the docs/ before it
# (a file name in code, such as "mixmax-api.md" in quotes, is not a citation).
BARE_CITATION = re.compile(r"(?<!docs/)(?:`mixmax-api\.md|mixmax-api\.md`?\)? (?:section )?\d)")


def citing_files() -> list[Path]:
    files = [REPO / "README.md", REPO / "meltano.yml"]
    for folder in CITING_FOLDERS:
        files += [
            path
            for path in (REPO / folder).rglob("*")
            if path.suffix in CITING_SUFFIXES
            and path not in (API_NOTES, Path(__file__))
            and path.is_file()
        ]
    return files


def note_sections() -> set[str]:
    """Section numbers of the notes' headings: `## 6. Conventions` -> 6, `### 1.4 Pag` -> 1.4."""
    return set(re.findall(rf"^#+ ({SECTION})\.? ", API_NOTES.read_text(), re.M))


def test_the_api_notes_are_in_the_repository_with_their_source_keys():
    text = API_NOTES.read_text()
    assert "Source keys" in text
    assert {"1.4", "1.5", "2.2", "6"} <= note_sections()


def test_every_citation_names_docs_mixmax_api_md():
    wrong = []
    for path in citing_files():
        for number, line in enumerate(path.read_text().splitlines(), 1):
            where = f"{path.relative_to(REPO)}:{number}: {line.strip()}"
            if BARE_CITATION.search(line) or OLD_STYLE.search(line):
                wrong.append(where)
    assert not wrong, "cite the API notes as docs/mixmax-api.md <section>:\n" + "\n".join(wrong)


def test_every_cited_section_exists():
    sections = note_sections()
    cited = 0
    missing = []
    for path in citing_files():
        for match in CITATION.finditer(path.read_text()):
            for section in match[1].split(", "):
                cited += 1
                if section not in sections:
                    missing.append(f"{path.relative_to(REPO)}: {match[0]}")
    assert cited >= 10, f"only {cited} citations found: is the pattern still right?"
    assert not missing, f"sections not in docs/mixmax-api.md: {missing}"
