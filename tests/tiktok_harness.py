"""The TikTok Shop sandbox mounted in-process for Dropline's own tests: the production client talks to it through an
httpx transport, so no socket is needed, and the test drives the platform through its /sandbox/ control API."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
from django.test import Client

from integrations.services import store_client
from integrations.tiktok.adapter import TikTokSalesChannel
from integrations.tiktok.client import TikTokShopClient
from sandboxes.tiktok.app import TikTokSandbox


def tiktok_client(store: Any) -> TikTokShopClient:
    """The TikTok API client behind a connected store's sales channel: for tests that act on TikTok directly (as a
    seller would in Seller Center), outside Dropline's contract."""
    channel = store_client(store)
    assert isinstance(channel, TikTokSalesChannel)
    return channel.client


@dataclass
class TikTokHarness:
    sandbox: TikTokSandbox
    http: httpx.Client

    def control(self, method: str, path: str, **json: Any) -> Any:
        response = self.http.request(method, f"/sandbox/{path.lstrip('/')}", json=json or None)
        response.raise_for_status()
        return response.json()

    def seller(self, name: str = "Dropline Demo US") -> dict[str, Any]:
        return next(s for s in self.control("GET", "sellers")["sellers"] if s["name"] == name)

    def consent_code(self, seller_name: str = "Dropline Demo US") -> str:
        return self.control("POST", "authorize", seller_id=self.seller(seller_name)["id"])["code"]

    def connect(self, client: Client, seller_name: str = "Dropline Demo US") -> Any:
        """Click "Connect TikTok Shop", approve on the consent page, come back to the callback."""
        redirect = client.post("/stores/tiktok/connect/")
        state = parse_qs(urlparse(redirect["Location"]).query)["state"][0]
        return client.get("/stores/tiktok/callback/", {"code": self.consent_code(seller_name), "state": state})

    def connect_store(
        self, organization: Any, store_name: str = "Dropline Home US", seller: str = "Dropline Demo US"
    ) -> Any:
        """Connect a seller's shops through the services (no request), without the sync a connect starts; returns
        the named store with its authorization."""
        from erp.actors import Actor
        from integrations import services
        from integrations.models import Platform, Store

        session: dict[str, Any] = {}
        url = services.store_connect_start(session=session, organization=organization, platform=Platform.TIKTOK)
        with services.store_sync_requested.muted():
            services.store_connect_complete(
                session=session,
                organization=organization,
                platform=Platform.TIKTOK,
                actor=Actor.system(),
                code=self.consent_code(seller),
                state=parse_qs(urlparse(url).query)["state"][0],
            )
        return Store.unscoped.select_related("authorization").get(name=store_name)

    # After-sale: what the buyer, the carrier and the platform do to an order (sandboxes/tiktok/control_aftersale.py).
    def order_event(self, order_id: str, event: str, **body: Any) -> Any:
        """One event on one order: cancel_request, buyer_cancel_withdraw, return_request, return_shipped,
        return_received, return_cancel, partial_refund_response, address_update (or pay, cancel, advance)."""
        return self.control("POST", f"orders/{order_id}/events", type=event, **body)

    def aftersale(self, order_id: str) -> dict[str, Any]:
        """The platform's own record of the order's cancellations, returns and address changes."""
        data: dict[str, Any] = self.control("GET", f"orders/{order_id}/aftersale")
        return data

    def platform_orders(self, shop_id: str) -> dict[str, tuple[str, int]]:
        """id → (status, update_time) of every order the platform holds for this shop, read from the sandbox's own
        state: an independent count, not through the client under test."""
        world = self.sandbox.world
        with world.lock:
            world.tick(self.sandbox.clock.now())
            return {o.id: (o.status, o.update_time) for o in world.orders.values() if o.shop_id == shop_id}


def into_dropline() -> httpx.MockTransport:
    """An httpx transport that hands each request to Django's test Client: the sandbox's webhooks land in Dropline's
    own views, in the test's transaction (a raw WSGIHandler would close the test's database connection)."""
    client = Client()

    def handle(request: httpx.Request) -> httpx.Response:
        headers = {
            f"HTTP_{k.upper().replace('-', '_')}": v
            for k, v in request.headers.items()
            if k.lower() not in ("content-type", "content-length", "host")
        }
        response = client.generic(
            request.method,
            request.url.path,
            request.content,
            content_type=request.headers.get("content-type", ""),
            **headers,
        )
        return httpx.Response(response.status_code, content=response.content)

    return httpx.MockTransport(handle)
