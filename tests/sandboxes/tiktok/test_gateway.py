"""Every gateway rejection, in TikTok's order and with TikTok's codes, in-process and over a real socket."""

from __future__ import annotations

import time

import httpx

from tests.sandboxes.tiktok.conftest import APP_KEY, APP_SECRET, Api, tts_sign

SHOPS = "/authorization/202309/shops"
SEARCH = "/order/202309/orders/search"


def _code(r: httpx.Response) -> int:
    env = r.json()
    assert set(env) == {"code", "message", "request_id", "data"}
    assert isinstance(env["request_id"], str)
    assert env["request_id"]
    return env["code"]


def test_well_formed_request_accepted(any_api: Api) -> None:
    r = any_api.call("POST", SEARCH, {"page_size": "5"}, {"order_status": "AWAITING_SHIPMENT"})
    assert r.status_code == 200
    env = r.json()
    assert env["code"] == 0
    assert env["message"] == "Success"
    assert len(env["data"]["orders"]) == 5
    r2 = any_api.call("POST", SEARCH, {"page_size": "5"}, {"order_status": "AWAITING_SHIPMENT"})
    assert r2.json()["request_id"] != env["request_id"]


def test_unknown_app_key(any_api: Api) -> None:
    r = any_api.call("GET", SHOPS, cipher=None, app_key="nope")
    assert r.status_code == 200
    assert _code(r) == 36009004


def test_timestamp_window_uses_real_time(any_api: Api) -> None:
    assert _code(any_api.call("GET", SHOPS, cipher=None, timestamp=int(time.time()) - 301)) == 36009004
    assert _code(any_api.call("GET", SHOPS, cipher=None, timestamp=int(time.time()) + 60)) == 36009004
    assert _code(any_api.call("GET", SHOPS, cipher=None, timestamp=123)) == 36009004  # not 10 digits
    # Moving the sandbox clock does not move the signature window.
    any_api.sb.clock.advance(3 * 86400)
    assert _code(any_api.call("GET", SHOPS, cipher=None)) == 0


def test_signature_missing_and_wrong(any_api: Api) -> None:
    assert _code(any_api.call("GET", SHOPS, cipher=None, sign=False)) == 36009004
    assert _code(any_api.call("GET", SHOPS, cipher=None, secret="wrong-secret")) == 106001


def test_signature_covers_raw_body(any_api: Api) -> None:
    # Sign one body, send another: the sandbox verifies the bytes it received.
    q = {"app_key": APP_KEY, "timestamp": str(int(time.time())), "shop_cipher": any_api.cipher or "", "page_size": "5"}
    q["sign"] = tts_sign(APP_SECRET, SEARCH, q, b'{"order_status":"UNPAID"}')
    headers = {"x-tts-access-token": any_api.token or "", "content-type": "application/json"}
    r = any_api.client.post(SEARCH, params=q, content=b'{"order_status": "UNPAID"}', headers=headers)
    assert _code(r) == 106001
    r = any_api.client.post(SEARCH, params=q, content=b'{"order_status":"UNPAID"}', headers=headers)
    assert _code(r) == 0


def test_empty_object_body_signed_with_or_without_it(any_api: Api) -> None:
    headers = {"x-tts-access-token": any_api.token or "", "content-type": "application/json"}
    for signed_body in (b"{}", b""):
        q = {
            "app_key": APP_KEY,
            "timestamp": str(int(time.time())),
            "shop_cipher": any_api.cipher or "",
            "page_size": "3",
        }
        q["sign"] = tts_sign(APP_SECRET, SEARCH, q, signed_body)
        assert _code(any_api.client.post(SEARCH, params=q, content=b"{}", headers=headers)) == 0


def test_access_token_missing_unknown_expired(any_api: Api) -> None:
    assert _code(any_api.call("GET", SHOPS, cipher=None, token=None)) == 36009004
    assert _code(any_api.call("GET", SHOPS, cipher=None, token="TTP_unknown")) == 36009004
    any_api.sb.clock.advance(7 * 86400 + 1)  # access tokens live 7 days of sandbox time
    assert _code(any_api.call("GET", SHOPS, cipher=None)) == 105002


def test_shop_cipher_rules(any_api: Api) -> None:
    assert _code(any_api.call("POST", SEARCH, {"page_size": "5"}, {}, cipher=None)) == 106013
    assert _code(any_api.call("GET", SHOPS)) == 36009004  # cipher sent to /authorization/*
    assert _code(any_api.call("GET", "/seller/202309/shops")) == 36009004
    # A cipher of a shop the token's seller does not own.
    uk_seller = list(any_api.sb.world.sellers.values())[1]
    foreign = any_api.sb.world.shops[uk_seller.shop_ids[0]].cipher
    assert _code(any_api.call("POST", SEARCH, {"page_size": "5"}, {}, cipher=foreign)) == 101000


def test_path_method_version(any_api: Api) -> None:
    assert _code(any_api.call("POST", "/order/202309/orders/nothing", {}, {})) == 36009009
    assert _code(any_api.call("GET", SEARCH, {"page_size": "5"})) == 36009010
    assert _code(any_api.call("POST", "/order/202101/orders/search", {"page_size": "5"}, {})) == 36009014


def test_endpoint_rules(any_api: Api) -> None:
    assert _code(any_api.call("POST", SEARCH, {}, {})) != 0  # page_size required
    assert _code(any_api.call("POST", SEARCH, {"page_size": "101"}, {})) != 0
    assert _code(any_api.call("POST", SEARCH, {"page_size": "10"}, {"order_status": "CANCEL"})) != 0
    assert _code(any_api.call("POST", SEARCH, {"page_size": "10", "sort_order": "UP"}, {})) != 0
    assert _code(any_api.call("POST", SEARCH, {"page_size": "10"}, raw_body=b"not json")) == 36009022
