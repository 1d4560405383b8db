"""The one domain error every platform adapter raises, with a neutral `kind` the core decides on.

Callers (services, tasks) never catch httpx or platform-specific exceptions, and never read a platform's code to decide
what to do: an adapter maps every failure (transport, HTTP status, envelope code) to `PlatformError`, sets its `kind`
(what it means for Dropline) and `fix` (what a person does about it, in the platform's terms), and keeps the
platform's own code, message and request id for support.
"""

from __future__ import annotations

from enum import StrEnum


class ErrorKind(StrEnum):
    """What a platform failure means, whatever the platform. The core branches on these, never on codes."""

    ALREADY_DONE = "already_done"  # the effect exists already (label bought, package shipped): look it up, adopt it
    ADDRESS_UNDELIVERABLE = "address_undeliverable"  # the buyer's address cannot be delivered to
    NOT_SHIPPABLE_YET = "not_shippable_yet"  # unpaid, in the remorse window, a cancellation pending: wait
    NOT_SHIPPABLE = "not_shippable"  # never from here: fulfilled by the platform, another shipping method, cancelled
    NO_SERVICE = "no_service"  # no shipping service takes this parcel (weight, size, address)
    NOT_READY = "not_ready"  # the platform has not created what the call needs yet (its package, its document)
    INVALID = "invalid"  # the request is wrong (a tracking number, a quantity, a warehouse): correct it
    NOT_FOUND = "not_found"  # the object is gone on the platform (deleted product, cancelled package)
    RATE_LIMITED = "rate_limited"  # too many calls: the same call later
    TEMPORARY = "temporary"  # transport failure, 5xx, platform busy: the same call later
    AUTH_EXPIRED = "auth_expired"  # tokens unusable: the seller reconnects the store
    OUTCOME_UNKNOWN = "outcome_unknown"  # a paid or write call may or may not have happened: look before repeating
    NOT_SUPPORTED = "not_supported"  # the channel does not offer this (a declared capability it lacks)
    REFUSED = "refused"  # any other refusal: the fix text says what to do


class PlatformError(Exception):
    """A platform call failed.

    `code` is the platform's own code (TikTok: the envelope `code`, an int) or, for failures that never reached the
    platform's envelope, a short string (`"http_503"`, `"transport"`, `"rate_limit_wait"`, `"bad_response"`).
    `kind` is what it means (ErrorKind); `retryable` says whether the same call may simply be made again later (by a
    task's retry policy); `fix` is what a person does about it, in words, when the adapter knows.
    """

    default_kind = ErrorKind.REFUSED

    def __init__(
        self,
        platform: str,
        code: int | str,
        message: str,
        *,
        kind: ErrorKind | None = None,
        fix: str = "",
        request_id: str | None = None,
        http_status: int | None = None,
        retryable: bool = False,
    ) -> None:
        super().__init__(f"{platform} error {code}: {message}" + (f" (request_id={request_id})" if request_id else ""))
        self.platform = platform
        self.code = code
        self.message = message
        self.kind = kind or (ErrorKind.TEMPORARY if retryable else self.default_kind)
        self.fix = fix
        self.request_id = request_id
        self.http_status = http_status
        self.retryable = retryable


class PlatformAuthError(PlatformError):
    """The seller's tokens are unusable (expired and not refreshable, revoked, scope missing): reconnect the store."""

    default_kind = ErrorKind.AUTH_EXPIRED


class PlatformOutcomeUnknown(PlatformError):
    """A non-idempotent call (a label purchase, a shipment) may or may not have been processed.

    Raised when the request left this process but no usable answer came back (read timeout, dropped connection, 5xx
    or an internal-error code from the platform). Do NOT repeat the call blindly: ask the platform first (order detail
    / package search) whether the effect exists, then adopt it or call again.
    """

    default_kind = ErrorKind.OUTCOME_UNKNOWN

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
        super().__init__(
            platform,
            code,
            message,
            kind=ErrorKind.OUTCOME_UNKNOWN,
            request_id=request_id,
            http_status=http_status,
            retryable=False,
        )


class NotSupported(PlatformError):
    """The channel does not offer this operation. Raised by adapters for a capability they do not declare, so a
    caller that did not check `capabilities` first gets a clear answer instead of a fake success."""

    default_kind = ErrorKind.NOT_SUPPORTED

    def __init__(self, platform: str, operation: str) -> None:
        super().__init__(platform, "not_supported", f"{platform} does not support {operation}")
