"""Error type carrying TikTok's business code and the HTTP status it travels with."""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    def __init__(self, code: int, message: str, http_status: int = 200, data: Any = None) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.http_status = http_status
        self.data = data


class DropConnection(Exception):
    """Raised after a commit when a fault asks us to close the socket without answering."""


# Messages copied from common-errors.json so clients that log them see the real wording.
MSG_APP_KEY = "Invalid credentials. Invalid `app_key` query parameter."
MSG_NO_SIGN = "Missing credentials. The request does not include a required signature in the query."
MSG_BAD_SIGN = "Invalid credentials. The `sign` query parameter is invalid."
MSG_TS_MISSING = "Invalid timestamp. The value of the `timestamp` query parameter must not be lesser than 0."
MSG_TS_OLD = (
    "Invalid timestamp. The value of the `timestamp` query parameter must not be earlier than "
    "5 minutes before the current time."
)
MSG_TS_FUTURE = (
    "Invalid timestamp. The value of the `timestamp` query parameter must not exceed the current "
    "time by more than 30 seconds."
)
MSG_BAD_ACCESS_HEADER = "Invalid credentials. The `x-tts-access-token` header is invalid."
MSG_CREDENTIALS_EXPIRED = "Expired credentials. The `access_token` or `x-tts-access-token` header has expired."
MSG_NO_CIPHER = "Missing identifier. The `shop_cipher` query parameter is required."
MSG_UNEXPECTED_CIPHER = "Unexpected identifier. The `shop_cipher` query parameter is not expected for this API."
MSG_CIPHER_MISMATCH = (
    "Invalid query or header. The token is not associated with a shop, or the associated shop "
    "does not match the provided `shop_cipher` query parameter."
)
MSG_PATH = "Invalid path. The specified path does not match any available endpoint."
MSG_METHOD = "Invalid method. The HTTP method used is not supported by this endpoint."
MSG_VERSION = "The version name is invalid, please check and retry."
MSG_RATE = "Too many requests. You've made too many requests in a short period of time."
MSG_INTERNAL = (
    "Internal error. Please try again. If the issue persists after multiple attempts, please contact platform support."
)
MSG_BODY_FORMAT = (
    "Invalid request format. The request body format must be `application/json` for structured "
    "data or `multipart/form-data` for binary files."
)
