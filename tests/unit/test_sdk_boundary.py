"""The SDK boundary is explicit: private and @final SDK members are overridden in
tap_mixmax/sdk.py alone, and only members the SDK still has, with its signature."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import pytest
from singer_sdk import RESTStream, Tap

from tap_mixmax import sdk

PACKAGE = Path(sdk.__file__).parent
PAIRS = [(sdk.SdkStream, RESTStream, name) for name in sdk.STREAM_MEMBERS] + [
    (sdk.SdkTap, Tap, name) for name in sdk.TAP_MEMBERS
]


@pytest.mark.parametrize(("ours", "base", "name"), PAIRS, ids=[p[2] for p in PAIRS])
def test_each_member_replaced_is_still_the_sdks_with_the_same_parameters(ours, base, name):
    assert name in vars(ours), f"sdk.py lists {name} but does not override it"
    theirs = getattr(base, name, None)
    assert callable(theirs), f"singer-sdk no longer has {base.__name__}.{name}"
    ours_params = list(inspect.signature(vars(ours)[name]).parameters)
    assert ours_params == list(inspect.signature(theirs).parameters), name


def test_sdk_py_overrides_exactly_the_members_it_lists():
    for ours, listed in ((sdk.SdkStream, sdk.STREAM_MEMBERS), (sdk.SdkTap, sdk.TAP_MEMBERS)):
        base = ours.__mro__[1]
        overridden = {
            name
            for name, value in vars(ours).items()
            if callable(value) and hasattr(base, name) and not name.startswith("__")
        }
        assert overridden == set(listed), ours.__name__


def _classes_and_imports(path: Path):
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef):
            for item in node.body:
                if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef):
                    yield "def", f"{node.name}.{item.name}", item.name
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("singer_sdk"):
            for alias in node.names:
                private = alias.name.startswith("_") or any(
                    part.startswith("_") for part in (node.module or "").split(".")
                )
                if private:
                    yield "import", f"{node.module}.{alias.name}", alias.name


def test_no_other_module_overrides_or_imports_a_private_sdk_member():
    sdk_private = {
        name
        for base in (RESTStream, Tap)
        for name in dir(base)
        if name.startswith("_") and not name.startswith("__")
    }
    found = []
    modules = sorted(PACKAGE.glob("*.py"))
    assert len(modules) > 10
    for path in modules:
        if path.name == "sdk.py":
            continue
        for kind, where, name in _classes_and_imports(path):
            if (kind == "def" and name in sdk_private) or kind == "import":
                found.append(f"{path.name}: {kind} {where}")
    assert not found, f"private SDK members outside tap_mixmax/sdk.py: {found}"
