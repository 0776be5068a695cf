"""What differs between the singer-sdk minors the tap runs on (0.54 and 0.55)."""

from __future__ import annotations

import inspect
import typing as t

from singer_sdk import RESTStream

if t.TYPE_CHECKING:
    from singer_sdk.helpers.types import Context


def _requires(function: t.Callable[..., t.Any], parameter: str) -> bool:
    found = inspect.signature(function).parameters.get(parameter)
    return found is not None and found.default is inspect.Parameter.empty


# RESTStream._write_request_duration_log: 0.54 requires `context` and `extra_tags`; 0.55
# ignores both and marks them for removal.
_DURATION_LOG_REQUIRES_CONTEXT = _requires(RESTStream._write_request_duration_log, "context")


def request_duration_log_args(context: Context | None) -> dict[str, t.Any]:
    """The arguments of the SDK's request duration metric that this SDK still requires."""
    if _DURATION_LOG_REQUIRES_CONTEXT:
        return {"context": context, "extra_tags": None}
    return {}
