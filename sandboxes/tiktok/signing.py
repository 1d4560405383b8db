"""Request and webhook signatures (README §1.1 and §1.5)."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping

# Query keys never part of the signature. [ECOM] also drops "x-tts-access-token" if sent in the query.
_EXCLUDED = ("sign", "access_token", "x-tts-access-token")


def sign_request(
    app_secret: str, path: str, query: Mapping[str, str], body: bytes = b"", multipart: bool = False
) -> str:
    base = path + "".join(f"{k}{query[k]}" for k in sorted(query) if k not in _EXCLUDED)
    secret = app_secret.encode()
    msg = secret + base.encode() + (b"" if multipart else body) + secret
    return hmac.new(secret, msg, hashlib.sha256).hexdigest()


def verify_request(
    app_secret: str, path: str, query: Mapping[str, str], body: bytes, multipart: bool, given: str
) -> bool:
    candidates = [sign_request(app_secret, path, query, body, multipart)]
    # The official Node sample skips a literal "{}" body; accept both forms (README §1.3).
    if not multipart and body.strip() == b"{}":
        candidates.append(sign_request(app_secret, path, query, b"", multipart))
    return any(hmac.compare_digest(c, given.lower()) for c in candidates)


def sign_webhook(app_key: str, app_secret: str, raw_body: bytes) -> str:
    return hmac.new(app_secret.encode(), app_key.encode() + raw_body, hashlib.sha256).hexdigest()
