"""Fixtures of the end-to-end suite. They and the helpers live in e2e_helpers.py and
saved_runs.py: a module named `conftest` is ambiguous to `import` when several test
folders have one."""

from e2e_helpers import e2e_sandbox, postgres
from saved_runs import saved, saved_accounts

__all__ = ["e2e_sandbox", "postgres", "saved", "saved_accounts"]
