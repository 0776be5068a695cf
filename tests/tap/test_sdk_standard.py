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
