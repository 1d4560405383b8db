"""The one domain error every platform adapter raises.

Callers (services, tasks) never catch httpx or platform-specific exceptions: an adapter maps every failure (transport,
HTTP status, envelope code) to `PlatformError`, carrying what a person or a retry policy needs to decide what to do.
"""

from __future__ import annotations


class PlatformError(Exception):
    """A platform call failed.

    `code` is the platform's own code (TikTok: the envelope `code`, an int) or, for failures that never reached the
    platform's envelope, a short string (`"http_503"`, `"transport"`, `"rate_limit_wait"`, `"bad_response"`).
    `retryable` says whether the same call may simply be made again later (by a task's retry policy).
    """

    def __init__(
        self,
        platform: str,
        code: int | str,
        message: str,
        *,
        request_id: str | None = None,
        http_status: int | None = None,
        retryable: bool = False,
    ) -> None:
        super().__init__(f"{platform} error {code}: {message}" + (f" (request_id={request_id})" if request_id else ""))
        self.platform = platform
        self.code = code
        self.message = message
        self.request_id = request_id
        self.http_status = http_status
        self.retryable = retryable


class PlatformAuthError(PlatformError):
    """The seller's tokens are unusable (expired and not refreshable, revoked, scope missing): reconnect the store."""


class PlatformOutcomeUnknown(PlatformError):
    """A non-idempotent call (a label purchase, a shipment) may or may not have been processed.

    Raised when the request left this process but no usable answer came back (read timeout, dropped connection, 5xx
    or an internal-error code from the platform). Do NOT repeat the call blindly: ask the platform first (order detail
    / package search) whether the effect exists, then adopt it or call again.
    """

    def __init__(
        self,
        platform: str,
        code: int | str,
        message: str,
        *,
        request_id: str | None = None,
        http_status: int | None = None,
    ) -> None:
        # "Retryable" is False on purpose: the only safe next step is a lookup, not a repeat.
        super().__init__(platform, code, message, request_id=request_id, http_status=http_status, retryable=False)
