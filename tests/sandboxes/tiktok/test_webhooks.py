"""Webhooks: signed with HMAC(app_secret, app_key + body), retried by sandbox time, duplicated on demand."""

from __future__ import annotations

import hashlib
import hmac
import json

import httpx

from tests.sandboxes.tiktok.conftest import APP_KEY, APP_SECRET, Api, first_order


class Receiver:
    def __init__(self, statuses: list[int] | None = None, default: int = 200) -> None:
        self.statuses = statuses or []
        self.default = default
        self.received: list[tuple[dict, str, bytes]] = []

    def handler(self, request: httpx.Request) -> httpx.Response:
        body = request.read()
        self.received.append((json.loads(body), request.headers.get("authorization", ""), body))
        status = self.statuses.pop(0) if self.statuses else self.default
        return httpx.Response(status)


def _register(
    api: Api, event_type: str = "ORDER_STATUS_CHANGE", address: str = "http://127.0.0.1:8000/webhooks/tiktok/"
) -> None:
    api.ok("PUT", "/event/202309/webhooks", {}, {"address": address, "event_type": event_type})


def test_signed_delivery_on_cancel(api: Api) -> None:
    rx = Receiver()
    api.sb.webhook_transport = httpx.MockTransport(rx.handler)
    _register(api)
    o = first_order(api.sb, api.cipher or "", status="AWAITING_SHIPMENT", shipping_type="TIKTOK")
    api.client.post(f"/sandbox/orders/{o.id}/events", json={"type": "cancel", "initiator": "SELLER"})
    api.client.post("/sandbox/webhooks/flush")
    assert len(rx.received) == 1
    payload, auth, raw = rx.received[0]
    assert auth == hmac.new(APP_SECRET.encode(), APP_KEY.encode() + raw, hashlib.sha256).hexdigest()
    assert payload["type"] == 1
    assert payload["shop_id"] == o.shop_id
    assert payload["data"]["order_status"] == "CANCEL"
    assert payload["data"]["order_id"] == o.id
    assert payload["tts_notification_id"].isdigit()


def test_retries_follow_sandbox_clock_then_give_up(api: Api) -> None:
    rx = Receiver(default=500)
    api.sb.webhook_transport = httpx.MockTransport(rx.handler)
    _register(api)
    o = first_order(api.sb, api.cipher or "", status="ON_HOLD")
    api.client.post(f"/sandbox/orders/{o.id}/events", json={"type": "advance"})

    def mine() -> list[dict]:
        # Moving the clock also moves other orders (and queues their webhooks); look at ours only.
        return [d for d in api.sb.deliver_due_webhooks() if d["payload"]["data"].get("order_id") == o.id]

    assert len(mine()) == 1
    assert mine() == []  # not due yet
    api.sb.clock.freeze()  # only the test moves time: a second of a loaded machine must not make a retry due early
    for delay in (120, 1800, 3 * 3600, 12 * 3600):
        api.sb.clock.advance(delay - 1)
        assert mine() == []
        api.sb.clock.advance(1)
        assert len(mine()) == 1
    log = api.client.get("/sandbox/webhooks").json()["deliveries"]
    d = next(d for d in log if d["payload"]["data"].get("order_id") == o.id)
    assert d["state"] == "failed"
    assert len(d["attempts"]) == 5


def test_retry_then_success_and_duplicates(api: Api) -> None:
    rx = Receiver(statuses=[503])
    api.sb.webhook_transport = httpx.MockTransport(rx.handler)
    api.sb.faults.set_webhook_duplicates(3)
    _register(api, "RECIPIENT_ADDRESS_UPDATE")
    o = first_order(api.sb, api.cipher or "", status="AWAITING_SHIPMENT", shipping_type="SELLER")
    api.client.post(f"/sandbox/orders/{o.id}/events", json={"type": "address_update", "line1": "1 Main St"})
    api.sb.deliver_due_webhooks()
    assert len(rx.received) == 1
    api.sb.clock.advance(120)
    api.sb.deliver_due_webhooks()
    assert len(rx.received) == 4  # the failed try, then three copies of the success
    ids = {p["tts_notification_id"] for p, _, _ in rx.received}
    assert len(ids) == 1
    assert rx.received[-1][0]["type"] == 3


def test_event_api_validation(api: Api) -> None:
    bad = [
        ("http://example.com/hook", "ORDER_STATUS_CHANGE"),
        ("https://1.2.3.4/hook", "ORDER_STATUS_CHANGE"),
        ("https://example.com:8443/hook", "ORDER_STATUS_CHANGE"),
        ("https://example.com/" + "x" * 250, "ORDER_STATUS_CHANGE"),
        ("https://example.com/hook", "ORDER_CHANGED"),
    ]
    for address, et in bad:
        r = api.call("PUT", "/event/202309/webhooks", {}, {"address": address, "event_type": et})
        assert r.json()["code"] != 0, address
    _register(api, address="https://hooks.example.com/tiktok")
    _register(api, "PACKAGE_UPDATE", address="http://localhost:8000/hook")
    hooks = api.ok("GET", "/event/202309/webhooks")
    assert hooks["total_count"] == 2
    api.ok("DELETE", "/event/202309/webhooks", {}, {"event_type": "PACKAGE_UPDATE"})
    assert api.ok("GET", "/event/202309/webhooks")["total_count"] == 1


def test_a_push_answered_401_is_acknowledged_as_refused_and_not_retried(api: Api) -> None:
    rx = Receiver(default=401)
    api.sb.webhook_transport = httpx.MockTransport(rx.handler)
    api.sb.faults.set_webhook_duplicates(3)
    _register(api)
    o = first_order(api.sb, api.cipher or "", status="ON_HOLD")
    api.client.post(f"/sandbox/orders/{o.id}/events", json={"type": "advance"})
    api.sb.clock.freeze()
    api.sb.deliver_due_webhooks()
    for delay in (120, 1800, 3 * 3600, 12 * 3600):
        api.sb.clock.advance(delay)
        api.sb.deliver_due_webhooks()
    mine = [p for p, _, _ in rx.received if p["data"].get("order_id") == o.id]
    assert len(mine) == 1  # answered once, never again, and no duplicate copies of a refusal
    log = api.client.get("/sandbox/webhooks").json()["deliveries"]
    d = next(d for d in log if d["payload"]["data"].get("order_id") == o.id)
    assert d["state"] == "refused"
    assert [a["status_code"] for a in d["attempts"]] == [401]


def test_any_other_answer_than_200_or_401_is_retried(api: Api) -> None:
    for status in (400, 403, 404, 500):
        rx = Receiver(statuses=[status])
        api.sb.webhook_transport = httpx.MockTransport(rx.handler)
        _register(api)
        o = first_order(api.sb, api.cipher or "", status="ON_HOLD")
        api.client.post(f"/sandbox/orders/{o.id}/events", json={"type": "advance"})
        api.sb.clock.freeze()
        api.sb.deliver_due_webhooks()
        api.sb.clock.advance(120)
        api.sb.deliver_due_webhooks()
        mine = [p for p, _, _ in rx.received if p["data"].get("order_id") == o.id]
        assert len(mine) == 2, status
        log = api.client.get("/sandbox/webhooks").json()["deliveries"]
        d = next(d for d in log if d["payload"]["data"].get("order_id") == o.id)
        assert d["state"] == "delivered", status
