"""Incoming TikTok Shop webhooks: signature verification and envelope parsing (README §1.5, §7).

The view must verify over the RAW request body bytes (before any JSON parsing), answer 200 within 3 s, dedupe by
notification_id, and enqueue a fetch of the object: the payload is only a notification.
"""

from __future__ import annotations

import hmac
import json

from integrations.errors import PlatformError
from integrations.interface import WebhookEvent
from integrations.tiktok import translate
from integrations.tiktok.signing import webhook_signature


def verify_signature(*, app_key: str, app_secret: str, raw_body: bytes, authorization: str | None) -> bool:
    """True when the Authorization header equals hex(HMAC_SHA256(app_secret, app_key + raw_body)); constant time."""
    if not authorization:
        return False
    expected = webhook_signature(app_key, app_secret, raw_body)
    return hmac.compare_digest(expected.encode(), authorization.strip().lower().encode())


def parse_event(raw_body: bytes) -> WebhookEvent:
    try:
        envelope = json.loads(raw_body)
    except ValueError as exc:
        raise PlatformError("tiktok", "bad_webhook", "webhook body is not JSON") from exc
    if not isinstance(envelope, dict) or "type" not in envelope:
        raise PlatformError("tiktok", "bad_webhook", "webhook body is not a TikTok envelope")
    return translate.webhook_event_from_json(envelope)


def verify_and_parse(*, app_key: str, app_secret: str, raw_body: bytes, authorization: str | None) -> WebhookEvent:
    """Parse only what verified; an unverified body raises (the view answers 401)."""
    if not verify_signature(app_key=app_key, app_secret=app_secret, raw_body=raw_body, authorization=authorization):
        raise PlatformError("tiktok", "bad_webhook_signature", "webhook signature does not match", http_status=401)
    return parse_event(raw_body)
