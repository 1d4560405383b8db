"""Faults: drop-after-commit (the hard one), injected errors / 429 storms, latency, held requests."""

from __future__ import annotations

import time

import httpx
import pytest

from sandboxes.tiktok.app import TikTokSandbox
from sandboxes.tiktok.server import start_in_thread
from tests.sandboxes.tiktok.conftest import Api
from tests.sandboxes.tiktok.test_labels import _ready_order

PACKAGES = "/fulfillment/202309/packages"


def test_drop_after_commit_in_process(api: Api) -> None:
    o = _ready_order(api)
    api.sb.faults.drop_after_commit("POST /fulfillment/202309/packages", next=1)
    with pytest.raises(httpx.RemoteProtocolError):
        api.call("POST", PACKAGES, {}, {"order_id": o.id})
    labels = api.client.get("/sandbox/labels", params={"order_id": o.id}).json()["labels"]
    assert len(labels) == 1  # the purchase happened
    # A retry is refused as a duplicate; the client must adopt the existing package.
    assert api.call("POST", PACKAGES, {}, {"order_id": o.id}).json()["code"] == 21022025
    detail = api.ok("GET", "/order/202309/orders", {"ids": o.id})["orders"][0]
    assert detail["packages"][0]["id"] == labels[0]["package_id"]


def test_drop_after_commit_over_http(sb: TikTokSandbox) -> None:
    server, base = start_in_thread(sb, port=0, deliver_webhooks=False)
    try:
        with httpx.Client(base_url=base, timeout=10) as c:
            api = Api(c, sb)
            api.authorize()
            o = _ready_order(api)
            c.put(
                "/sandbox/faults",
                json={"drop_response_after_commit": [{"api": "POST /fulfillment/202309/packages", "next": 1}]},
            )
            with pytest.raises(httpx.RemoteProtocolError):
                api.call("POST", PACKAGES, {}, {"order_id": o.id})
            assert len(c.get("/sandbox/labels", params={"order_id": o.id}).json()["labels"]) == 1
            # The next call answers normally again.
            assert api.call("POST", PACKAGES, {}, {"order_id": o.id}).json()["code"] == 21022025
    finally:
        server.shutdown()


def test_injected_errors_next_n_and_429_storm(api: Api, client: httpx.Client) -> None:
    search = "/order/202309/orders/search"
    client.put(
        "/sandbox/faults",
        json={
            "errors": [
                {"api": "POST /order/202309/orders/search", "code": 36009003, "http_status": 503, "next": 2},
                {"api": "GET /logistics/202309/warehouses", "code": 36009002, "http_status": 429, "next": 3},
            ]
        },
    )
    r1, r2, r3 = (api.call("POST", search, {"page_size": "1"}, {}) for _ in range(3))
    assert (r1.status_code, r1.json()["code"]) == (503, 36009003)
    assert r2.status_code == 503
    assert r3.status_code == 200
    storm = [api.call("GET", "/logistics/202309/warehouses").status_code for _ in range(4)]
    assert storm == [429, 429, 429, 200]
    stats = client.get("/sandbox/stats").json()["apis"]["GET /logistics/202309/warehouses"]
    assert stats["injected_429"] == 3
    assert stats["violations"] == 0
    client.put("/sandbox/faults", json={"errors": [{"api": "*", "code": 21011037, "rate": 1.0}]})
    biz = api.call("POST", search, {"page_size": "1"}, {})
    assert biz.status_code == 200
    assert biz.json()["code"] == 21011037
    client.delete("/sandbox/faults")
    assert api.call("POST", search, {"page_size": "1"}, {}).json()["code"] == 0


def test_latency_and_timeout(api: Api) -> None:
    api.sb.faults.add_latency("GET /logistics/202309/warehouses", ms=150)
    t = time.perf_counter()
    api.ok("GET", "/logistics/202309/warehouses")
    assert time.perf_counter() - t >= 0.14
    api.sb.faults.add_timeout("POST /order/202309/orders/search", hold_ms=10, next=1)
    with pytest.raises(httpx.ReadTimeout):
        api.call("POST", "/order/202309/orders/search", {"page_size": "1"}, {})


def test_timeout_over_http(sb: TikTokSandbox) -> None:
    server, base = start_in_thread(sb, port=0, deliver_webhooks=False)
    try:
        with httpx.Client(base_url=base, timeout=0.3) as c:
            api = Api(c, sb)
            api.authorize()
            sb.faults.add_timeout("POST /order/202309/orders/search", hold_ms=800, next=1)
            with pytest.raises(httpx.ReadTimeout):
                api.call("POST", "/order/202309/orders/search", {"page_size": "1"}, {})
    finally:
        server.shutdown()
