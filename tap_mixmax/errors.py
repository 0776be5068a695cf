"""Errors the tap reports to its user in one line, never with the token in them."""

from __future__ import annotations

from singer_sdk.exceptions import FatalAPIError, RetriableAPIError

TOKEN_HELP_URL = "https://app.mixmax.com/dashboard/settings/personal/integrations"


class MixmaxError(Exception):
    """Ends the sync; its message is the whole story, shown as one line."""


class ConfigError(MixmaxError):
    """The tap's configuration is unusable."""


class AuthError(MixmaxError, FatalAPIError):
    """401: the token is missing or wrong."""


class ForbiddenError(MixmaxError, FatalAPIError):
    """403: the token lacks access, or the plan or workspace lacks the feature."""


class NotFoundError(MixmaxError, FatalAPIError):
    """404: the endpoint, or the parent object, does not exist (any more)."""


class BadRequestError(MixmaxError, FatalAPIError):
    """400 (or another 4xx) on a request the tap built: a bug, never retried."""


class MalformedPageError(MixmaxError, RetriableAPIError):
    """A 200 whose body is not the JSON we expect: retried, then fatal."""


class TransientAPIError(MixmaxError, RetriableAPIError):
    """A 5xx from Mixmax or a proxy in front of it: retried."""


class RateLimitedError(MixmaxError, RetriableAPIError):
    """429: wait what `Retry-After` says, then retry."""

    def __init__(self, message: str, retry_after: float | None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class StateError(ConfigError):
    """The input state cannot be used (a bookmark that is not a date, say)."""


class RedirectError(MixmaxError, FatalAPIError):
    """A redirect off api_url's origin: following it would hand the token to another server."""


class CertificateError(MixmaxError, FatalAPIError):
    """The server's TLS certificate is not trusted: retrying cannot fix it."""


class UnreachableError(MixmaxError):
    """The API could not be connected to at all (refused, unknown host, no route)."""


class SlowResponseError(TransientAPIError):
    """No complete answer within request_timeout (a server trickling bytes): retried."""


class OversizedPageError(MalformedPageError):
    """A body larger than max_response_megabytes once decoded (a compression bomb, say)."""


class OutputClosedError(MixmaxError):
    """stdout was closed: whatever reads the tap's output stopped."""
