"""The Singer SDK's standard tap tests, run against a live sandbox."""

from __future__ import annotations

import atexit

from singer_sdk.testing import get_tap_test_class

from mixmax_sandbox import Sandbox
from tap_mixmax.tap import TapMixmax

_SANDBOX = Sandbox(seed=21, scale="small", rate_limit=None)
_SANDBOX.start()
atexit.register(_SANDBOX.stop)

TestTapMixmax = get_tap_test_class(
    tap_class=TapMixmax,
    config={"api_url": _SANDBOX.url, "api_token": _SANDBOX.token},
)

# The same tests with `accounts`: three users of an organisation with shared data.
_ORG = Sandbox(seed=22, scale="tiny", users=3, rate_limit=None)
_ORG.start()
atexit.register(_ORG.stop)

TestTapMixmaxAccounts = get_tap_test_class(
    tap_class=TapMixmax,
    config={
        "api_url": _ORG.url,
        "accounts": [
            {"name": f"user{i}", "api_token": token} for i, token in enumerate(_ORG.tokens)
        ],
    },
)
