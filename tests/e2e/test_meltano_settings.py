"""What `meltano config list tap-mixmax` (the pinned Meltano) says about the tap's settings."""

from __future__ import annotations

import re

import pytest
from e2e_helpers import meltano, meltano_env

pytestmark = pytest.mark.e2e


def test_config_list_offers_accounts_instead_of_api_token(tmp_path):
    env = meltano_env(None, None, tmp_path)
    env.pop("MELTANO_ENVIRONMENT")  # the default environment, as a user would run it
    output, _ = meltano(["config", "list", "tap-mixmax"], env)
    assert "Setting groups (one of the following combinations is required)" in output, output
    groups = dict(re.findall(r"^\s*Group (\d+): (.+)$", output, re.M))
    assert sorted(groups.values()) == ["accounts", "api_token"], output
    assert "Required settings: api_token" not in output
