"""The Singer SDK's standard tap tests, run against a live sandbox.

The SDK builds its test classes at import, from a config; the sandboxes start only when a
test of this module runs (collecting it starts no server). The SDK's runner keeps the very
config dict given here, so the fixture fills in the real URL and tokens before any sync.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from singer_sdk.testing import get_tap_test_class

from tap_mixmax.tap import TapMixmax

# Enough to build the tap's streams at import; never contacted.
PLACEHOLDER_URL = "http://127.0.0.1:9/v1"
ORG_USERS = 3

SINGLE_CONFIG: dict = {"api_url": PLACEHOLDER_URL, "api_token": "placeholder"}
# The same tests with `accounts`: three users of an organisation with shared data.
ACCOUNTS_CONFIG: dict = {
    "api_url": PLACEHOLDER_URL,
    "accounts": [{"name": f"user{i}", "api_token": "placeholder"} for i in range(ORG_USERS)],
}


@pytest.fixture(scope="module", autouse=True)
def live_sandboxes() -> Iterator[None]:
    from mixmax_sandbox import Sandbox

    with (
        Sandbox(seed=21, scale="small", rate_limit=None) as single,
        Sandbox(seed=22, scale="tiny", users=ORG_USERS, rate_limit=None) as org,
    ):
        SINGLE_CONFIG.update(api_url=single.url, api_token=single.token)
        ACCOUNTS_CONFIG["api_url"] = org.url
        for account, token in zip(ACCOUNTS_CONFIG["accounts"], org.tokens, strict=True):
            account["api_token"] = token
        yield


TestTapMixmax = get_tap_test_class(tap_class=TapMixmax, config=SINGLE_CONFIG)
TestTapMixmaxAccounts = get_tap_test_class(tap_class=TapMixmax, config=ACCOUNTS_CONFIG)
