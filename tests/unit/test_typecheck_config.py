"""mypy's configuration covers every script and test file (pyproject.toml's [tool.mypy]).

mypy checks the package `tests` (test modules and conftests) and, by name, the bare-name
modules that scripts and tests import: a file left off that list would go unchecked.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # mypy needs tomli on Python 3.10, so the dev venv has it
    import tomli as tomllib

REPO = Path(__file__).resolve().parents[2]
MYPY = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["mypy"]


def files_in_tests() -> list[str]:
    return sorted(str(p.relative_to(REPO)) for p in (REPO / "tests").rglob("*.py"))


def is_helper(path: str) -> bool:
    name = Path(path).name
    return not (name.startswith("test_") or name == "conftest.py")


def test_mypy_names_every_script_and_test_helper():
    scripts = {p.stem for p in (REPO / "scripts").glob("*.py")}
    helpers = {Path(path).stem for path in files_in_tests() if is_helper(path)}
    assert scripts and helpers, "no scripts or helpers found: the check would prove nothing"
    assert sorted(MYPY["modules"]) == sorted(scripts | helpers)


def test_helpers_resolve_by_bare_name_and_test_modules_stay_in_the_package():
    files = files_in_tests()
    assert any(is_helper(f) for f in files) and not all(is_helper(f) for f in files)
    (exclude,) = MYPY["exclude"]
    for path in files:
        # A helper checked also as tests.<folder>.<name> would be one file under two names.
        assert bool(re.search(exclude, path)) == is_helper(path), path
    roots = set(MYPY["mypy_path"])
    for path in filter(is_helper, files):
        assert str(Path(path).parent) in roots, f"{path}: its folder is not in mypy_path"
    assert "tests" in MYPY["packages"]
