"""Our independent signer reproduces the README's vectors (and therefore checks the sandbox honestly)."""

from __future__ import annotations

import pytest

from tests.sandboxes.tiktok.conftest import tts_sign

CIPHER = "GCP_XF90igAAAABh00qsWgtvOiGFNqyubMt3"


def test_v1_official_vector() -> None:
    assert (
        tts_sign("e59af819cc", "/authorization/202309/shops", {"app_key": "29a39d", "timestamp": "1623812664"})
        == "b596b73e0cc6de07ac26f036364178ab16b0a907af13d43f0a0cd2345f582dc8"
    )


def test_v2_ecom_vector() -> None:
    assert (
        tts_sign("app_secret", "/test-api", {"foo": "bar"})
        == "d3cb7fe11ecae942802ceeca67e7cf10120cc12f1517d45fbc1c8cfe5413c80f"
    )


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            b'{    "address":"https://partner.tiktokshop.com",    "event_type": "PACKAGE_UPDATE"}',
            "20795f4b2d8f540c09dd2f0ec1ad2b93884eaa4947eac44d3239716842827414",
        ),
        (
            b'{"address":"https://partner.tiktokshop.com","event_type":"PACKAGE_UPDATE"}',
            "a75b9c8cd57140cab6dc95bf31c37bd6ffface74210768b6517c0ff81659b0ba",
        ),
    ],
)
def test_v3_v4_body_bytes_matter(body: bytes, expected: str) -> None:
    q = {"app_key": "68xu9ks5p4i8", "shop_cipher": "ROW_xkMbgAAAeVAQra0eZWebFQq5aIKt", "timestamp": "1696909648"}
    assert tts_sign("e59af819cc", "/event/202309/webhooks", q, body) == expected


def test_v5_v6_access_token_excluded() -> None:
    q = {
        "app_key": "29a39d",
        "page_size": "50",
        "shop_cipher": CIPHER,
        "timestamp": "1700000100",
        "access_token": "TTP_x",
    }
    body = b'{"order_status":"AWAITING_SHIPMENT","update_time_ge":1700000000}'
    assert (
        tts_sign("e59af819cc", "/order/202309/orders/search", q, body)
        == "b38039eb22ed49149a1225347a65c5b1835569ecfdc33d8543c40538a5ddb797"
    )
    q6 = {
        "app_key": "29a39d",
        "ids": "576461413038785752,576461413038785753",
        "shop_cipher": CIPHER,
        "timestamp": "1700000100",
    }
    assert (
        tts_sign("e59af819cc", "/order/202309/orders", q6)
        == "aac1d241b10dac364847c396af9998f7506a03e7105ab4c1ff7ae498e0e6634b"
    )


def test_sandbox_signer_agrees_with_ours() -> None:
    from sandboxes.tiktok.signing import sign_request

    q = {"app_key": "29a39d", "timestamp": "1623812664"}
    assert sign_request("e59af819cc", "/authorization/202309/shops", q) == tts_sign(
        "e59af819cc", "/authorization/202309/shops", q
    )
