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

MALFORMED = "bad_webhook"  # signed, but not a TikTok envelope: acknowledged and recorded as invalid


def verify_signature(*, app_key: str, app_secret: str, raw_body: bytes, authorization: str | None) -> bool:
    """True when the Authorization header equals hex(HMAC_SHA256(app_secret, app_key + raw_body)); constant time."""
    if not authorization:
        return False
    expected = webhook_signature(app_key, app_secret, raw_body)
    return hmac.compare_digest(expected.encode(), authorization.strip().lower().encode())


def parse_event(raw_body: bytes) -> WebhookEvent:
    """Raises PlatformError `bad_webhook` for a body that is not a TikTok envelope (not JSON, nested beyond
    reason, fields of the wrong type)."""
    try:
        envelope = json.loads(raw_body)
    except (ValueError, RecursionError) as exc:  # RecursionError: nesting deeper than the parser's stack
        raise PlatformError("tiktok", MALFORMED, "webhook body is not JSON") from exc
    if not isinstance(envelope, dict) or "type" not in envelope:
        raise PlatformError("tiktok", MALFORMED, "webhook body is not a TikTok envelope")
    try:
        return translate.webhook_event_from_json(envelope)
    except translate.MalformedWebhook as exc:
        raise PlatformError("tiktok", MALFORMED, f"webhook envelope is malformed: {exc}") from exc


def shop_of(raw_body: bytes) -> tuple[str, str]:
    """(shop_id, seller_open_id) of a body that could not be parsed whole, best effort: whose it is decides where
    the invalid notification is recorded."""
    try:
        envelope = json.loads(raw_body)
    except (ValueError, RecursionError):
        return "", ""
    if not isinstance(envelope, dict):
        return "", ""
    ids = (envelope.get("shop_id"), envelope.get("seller_open_id"))
    return tuple(str(i)[:64] if isinstance(i, str | int) and not isinstance(i, bool) else "" for i in ids)  # type: ignore[return-value]


def verify_and_parse(*, app_key: str, app_secret: str, raw_body: bytes, authorization: str | None) -> WebhookEvent:
    """Parse only what verified; an unverified body raises (the view answers 401)."""
    if not verify_signature(app_key=app_key, app_secret=app_secret, raw_body=raw_body, authorization=authorization):
        raise PlatformError("tiktok", "bad_webhook_signature", "webhook signature does not match", http_status=401)
    return parse_event(raw_body)
