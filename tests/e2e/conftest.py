"""Fixtures of the end-to-end suite. They and the helpers live in e2e_helpers.py: a module
named `conftest` is ambiguous to `import` when several test folders have one."""

from e2e_helpers import e2e_sandbox, postgres

__all__ = ["e2e_sandbox", "postgres"]
