"""Webhook verification (both ways: accepted and rejected) and envelope parsing."""

from __future__ import annotations

import json

import pytest

from integrations.errors import PlatformError
from integrations.tiktok.signing import webhook_signature
from integrations.tiktok.webhooks import parse_event, verify_and_parse, verify_signature

KEY, SECRET = "fake_app_key", "fake_app_secret"
BODY = json.dumps(
    {
        "type": 1,
        "tts_notification_id": "7327112393057371910",
        "shop_id": "7494049642642441621",
        "timestamp": 1644412885,
        "data": {
            "order_id": "576486316948490001",
            "order_status": "CANCEL",
            "is_on_hold_order": False,
            "update_time": 1644412885,
        },
    },
    separators=(",", ":"),
).encode()


def test_valid_signature_is_accepted_and_the_envelope_parsed() -> None:
    event = verify_and_parse(
        app_key=KEY, app_secret=SECRET, raw_body=BODY, authorization=webhook_signature(KEY, SECRET, BODY)
    )

    assert (event.topic_code, event.topic) == (1, "ORDER_STATUS_CHANGE")
    assert event.notification_id == "7327112393057371910"
    assert event.shop_id == "7494049642642441621"
    assert event.order_id == "576486316948490001"
    assert event.order_status == "CANCELLED"  # "CANCEL" in webhooks, normalised
    assert event.is_on_hold_order is False
    assert event.sent_at is not None
    assert int(event.sent_at.timestamp()) == 1644412885


@pytest.mark.parametrize(
    ("body", "authorization"),
    [
        (BODY.replace(b"CANCEL", b"DELIVERED"), webhook_signature(KEY, SECRET, BODY)),
        (BODY, webhook_signature(KEY, "another_secret", BODY)),
        (BODY, webhook_signature("another_key", SECRET, BODY)),
        (BODY, None),
        (BODY, ""),
    ],
    ids=["tampered-body", "wrong-secret", "wrong-app-key", "missing-header", "empty-header"],
)
def test_bad_signatures_are_rejected(body: bytes, authorization: str | None) -> None:
    assert not verify_signature(app_key=KEY, app_secret=SECRET, raw_body=body, authorization=authorization)
    with pytest.raises(PlatformError) as caught:
        verify_and_parse(app_key=KEY, app_secret=SECRET, raw_body=body, authorization=authorization)
    assert caught.value.http_status == 401


def test_package_and_unknown_topics_parse() -> None:
    package = parse_event(
        b'{"type":4,"tts_notification_id":"1","shop_id":"2","timestamp":1,"data":{"sc_type":"SPLIT",'
        b'"package_list":[{"package_id":"11","order_id_list":["9"]}],"update_time":5}}'
    )
    unknown = parse_event(b'{"type":99,"shop_id":"2","timestamp":1,"data":{}}')
    product = parse_event(
        b'{"type":5,"shop_id":"2","timestamp":1,"data":{"product_id":576486316948490000,"status":"X"}}'
    )

    assert package.topic == "PACKAGE_UPDATE"
    assert package.package_ids == ("11",)
    assert unknown.topic == "UNKNOWN_99"
    assert product.product_id == "576486316948490000"  # a number in the official example, a string here


def test_non_json_is_an_error() -> None:
    with pytest.raises(PlatformError):
        parse_event(b"not json")
