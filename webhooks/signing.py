"""The `Dropline-Signature` header: `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, f"{t}.{raw_body}")>`, with one
`v1` per valid secret during a rotation's overlap. `signature_verify` is the receiver's side, exactly as
docs/webhooks.md shows it (the tests verify every delivery with it)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time

SIGNATURE_HEADER = "Dropline-Signature"
REPLAY_WINDOW_SECONDS = 300
SECRET_PREFIX = "whsec_"  # noqa: S105  (a prefix that makes a leaked secret recognisable, not a secret)


def secret_generate() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def signature_compute(secret: str, timestamp: int, body: bytes) -> str:
    signed = f"{timestamp}.".encode() + body
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def signature_header(secrets_: list[str], timestamp: int, body: bytes) -> str:
    return ",".join([f"t={timestamp}", *(f"v1={signature_compute(s, timestamp, body)}" for s in secrets_)])


def signature_verify(
    *, secret: str, header: str, body: bytes, tolerance: int = REPLAY_WINDOW_SECONDS, now: float | None = None
) -> bool:
    """True when one `v1` of `header` is the HMAC of `body` under `secret` and its `t` is within `tolerance` seconds
    of now (a replayed old delivery is refused)."""
    timestamp, candidates = None, []
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t" and value.isdigit():
            timestamp = int(value)
        elif key == "v1":
            candidates.append(value)
    if timestamp is None or abs((time.time() if now is None else now) - timestamp) > tolerance:
        return False
    expected = signature_compute(secret, timestamp, body)
    return any(hmac.compare_digest(expected, candidate) for candidate in candidates)
