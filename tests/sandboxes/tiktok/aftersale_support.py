"""Shared helpers for the after-sale sandbox tests: a webhook receiver registered for the after-sale topics, order
pickers and short-hands for the control events."""

from __future__ import annotations

import json
from typing import Any

import httpx

from sandboxes.tiktok.state import Order
from tests.sandboxes.tiktok.conftest import Api

RR = "/return_refund/202309"
TOPICS = ("ORDER_STATUS_CHANGE", "CANCELLATION_STATUS_CHANGE", "RETURN_STATUS_CHANGE", "RECIPIENT_ADDRESS_UPDATE")


class Hooks:
    """Receives the sandbox's webhook pushes (through its real delivery code) and answers 200."""

    def __init__(self, api: Api) -> None:
        self.api = api
        self.received: list[dict[str, Any]] = []
        api.sb.webhook_transport = httpx.MockTransport(self._handle)
        for topic in TOPICS:
            api.ok("PUT", "/event/202309/webhooks", {}, {"address": "http://127.0.0.1:8000/hook", "event_type": topic})

    def _handle(self, request: httpx.Request) -> httpx.Response:
        self.received.append(json.loads(request.read()))
        return httpx.Response(200)

    def of(self, type_code: int, order_id: str) -> list[dict[str, Any]]:
        self.api.client.post("/sandbox/webhooks/flush")
        return [p for p in self.received if p["type"] == type_code and p["data"].get("order_id") == order_id]


def pick(
    api: Api, *, status: str | tuple[str, ...], shipping_type: str = "TIKTOK", fresh: bool = True, **attrs: Any
) -> Order:
    """The first seller-fulfilled order of the authorized shop in that status (or one of those), with no after-sale
    history unless ``fresh`` is false."""
    statuses = (status,) if isinstance(status, str) else status
    world = api.sb.world
    shop = world.shops_by_cipher[api.cipher or ""]
    for o in sorted(world.orders.values(), key=lambda o: o.id):
        if (
            o.shop_id == shop.id
            and o.status in statuses
            and o.shipping_type == shipping_type
            and o.fulfillment_type == "FULFILLMENT_BY_SELLER"
            and not o.is_buyer_request_cancel
            and not o.address.bad_reason
            and not (fresh and world.aftersale.by_order.get(o.id))
            and all(world.skus[li.sku_id].weight_lb < 10 for li in o.line_items)
            and all(getattr(o, k) == v for k, v in attrs.items())
        ):
            return o
    raise LookupError(status)


def keep_token_alive(api: Api) -> None:
    """Tests that move the clock by weeks keep the seller's access token valid (it would expire in sandbox time)."""
    api.sb.world.tokens[api.token or ""].access_expire += 90 * 86400


def event(api: Api, order_id: str, kind: str, **body: Any) -> httpx.Response:
    return api.client.post(f"/sandbox/orders/{order_id}/events", json={"type": kind, **body})


def state(api: Api, order_id: str) -> dict[str, Any]:
    r = api.client.get(f"/sandbox/orders/{order_id}/aftersale")
    assert r.status_code == 200, r.text
    data: dict[str, Any] = r.json()
    return data


def code(r: httpx.Response) -> int:
    value: int = r.json()["code"]
    return value
