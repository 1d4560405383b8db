"""README §1.2 vectors, literally, plus the webhook vector of §1.5."""

from __future__ import annotations

import pytest

from integrations.tiktok.signing import sign, string_to_sign, webhook_signature

V3_BODY = b'{    "address":"https://partner.tiktokshop.com",    "event_type": "PACKAGE_UPDATE"}'


@pytest.mark.parametrize(
    ("secret", "path", "query", "body", "expected"),
    [
        pytest.param(
            "e59af819cc",
            "/authorization/202309/shops",
            {"app_key": "29a39d", "timestamp": "1623812664"},
            b"",
            "b596b73e0cc6de07ac26f036364178ab16b0a907af13d43f0a0cd2345f582dc8",
            id="V1-official",
        ),
        pytest.param(
            "app_secret",
            "/test-api",
            {"foo": "bar"},
            b"",
            "d3cb7fe11ecae942802ceeca67e7cf10120cc12f1517d45fbc1c8cfe5413c80f",
            id="V2-ecom",
        ),
        pytest.param(
            "e59af819cc",
            "/event/202309/webhooks",
            {"app_key": "68xu9ks5p4i8", "shop_cipher": "ROW_xkMbgAAAeVAQra0eZWebFQq5aIKt", "timestamp": "1696909648"},
            V3_BODY,
            "20795f4b2d8f540c09dd2f0ec1ad2b93884eaa4947eac44d3239716842827414",
            id="V3-raw-body",
        ),
        pytest.param(
            "e59af819cc",
            "/event/202309/webhooks",
            {"app_key": "68xu9ks5p4i8", "shop_cipher": "ROW_xkMbgAAAeVAQra0eZWebFQq5aIKt", "timestamp": "1696909648"},
            b'{"address":"https://partner.tiktokshop.com","event_type":"PACKAGE_UPDATE"}',
            "a75b9c8cd57140cab6dc95bf31c37bd6ffface74210768b6517c0ff81659b0ba",
            id="V4-compact-body",
        ),
        pytest.param(
            "e59af819cc",
            "/order/202309/orders/search",
            {
                "app_key": "29a39d",
                "page_size": "50",
                "shop_cipher": "GCP_XF90igAAAABh00qsWgtvOiGFNqyubMt3",
                "timestamp": "1700000100",
                "access_token": "TTP_x",
            },
            b'{"order_status":"AWAITING_SHIPMENT","update_time_ge":1700000000}',
            "b38039eb22ed49149a1225347a65c5b1835569ecfdc33d8543c40538a5ddb797",
            id="V5-access-token-excluded",
        ),
        pytest.param(
            "e59af819cc",
            "/order/202309/orders",
            {
                "app_key": "29a39d",
                "ids": "576461413038785752,576461413038785753",
                "shop_cipher": "GCP_XF90igAAAABh00qsWgtvOiGFNqyubMt3",
                "timestamp": "1700000100",
            },
            b"",
            "aac1d241b10dac364847c396af9998f7506a03e7105ab4c1ff7ae498e0e6634b",
            id="V6-raw-comma-list",
        ),
    ],
)
def test_readme_vectors(secret: str, path: str, query: dict[str, str], body: bytes, expected: str) -> None:
    assert sign(secret, path, query, body) == expected


def test_v1_string_to_sign_is_the_documented_one() -> None:
    base = string_to_sign("/authorization/202309/shops", {"app_key": "29a39d", "timestamp": "1623812664"})
    assert b"e59af819cc" + base + b"e59af819cc" == (
        b"e59af819cc/authorization/202309/shopsapp_key29a39dtimestamp1623812664e59af819cc"
    )


def test_sign_itself_is_never_signed_and_multipart_body_is_left_out() -> None:
    query = {"app_key": "29a39d", "timestamp": "1623812664"}
    v1 = "b596b73e0cc6de07ac26f036364178ab16b0a907af13d43f0a0cd2345f582dc8"
    assert sign("e59af819cc", "/authorization/202309/shops", {**query, "sign": "whatever"}) == v1
    assert sign("e59af819cc", "/authorization/202309/shops", query, b"--boundary--", multipart=True) == v1


def test_webhook_vector_from_ecom() -> None:
    body = (
        b'{"type":1,"shop_id":"7494726673780148744","timestamp":1664095733,"data":{"order_id":"576684019603311365",'
        b'"order_status":"AWAITING_SHIPMENT","update_time":1664095610}}'
    )
    assert (
        webhook_signature("fake_app_key", "fake_app_secret", body)
        == "21109834de72ec53c9959716d8514ae388ce1f123e5ffdcafc46713fcdf62b27"
    )
