"""Fixtures for the Shopify sandbox tests: a real server on a socket, a tiny client and a webhook receiver.

The HMAC checks below are written from the contract notes (§2.3, §7.2) on purpose, not borrowed from the sandbox,
so a shared mistake cannot pass unnoticed.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

import httpx
import pytest

from sandboxes.shopify.app import ShopifySandbox
from sandboxes.shopify.config import ShopifyConfig
from sandboxes.shopify.server import start_in_thread

CLIENT_ID = "test-client-id"
CLIENT_SECRET = "test-client-secret"
REDIRECT = "http://127.0.0.1:8000/stores/shopify/callback/"
SHOP = "dropline-demo.myshopify.com"
VERSION = "2026-10"
ALL_SCOPES = (
    "read_orders,read_locations,read_products,read_inventory,write_inventory,"
    "read_merchant_managed_fulfillment_orders,write_merchant_managed_fulfillment_orders"
)


def notes_hmac(secret: str, query: dict[str, str]) -> str:
    """§2.3: drop hmac/signature, sort, URL-encode k=v with %20 for spaces, hex HMAC-SHA256."""
    kept = sorted((k, v) for k, v in query.items() if k not in ("hmac", "signature"))
    message = urlencode(kept, quote_via=quote)
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


def notes_webhook_hmac(secret: str, raw: bytes) -> str:
    """§7.2: base64 of HMAC-SHA256 over the raw body bytes, keyed with the client secret."""
    return base64.b64encode(hmac.new(secret.encode(), raw, hashlib.sha256).digest()).decode()


class Shopify:
    def __init__(self, client: httpx.Client, sb: ShopifySandbox) -> None:
        self.client = client
        self.sb = sb
        self.token: str | None = None

    def authorize(self, scope: str = ALL_SCOPES, state: str = "nonce-123", shop: str = SHOP) -> httpx.Response:
        return self.client.get(
            f"/{shop}/admin/oauth/authorize",
            params={
                "client_id": CLIENT_ID,
                "scope": scope,
                "redirect_uri": REDIRECT,
                "state": state,
                "grant_options[]": "",
            },
        )

    def callback_query(self, scope: str = ALL_SCOPES) -> dict[str, str]:
        r = self.authorize(scope)
        assert r.status_code == 302, r.text
        return dict(parse_qsl(urlsplit(r.headers["location"]).query, keep_blank_values=True))

    def exchange(self, code: str, **extra: str) -> httpx.Response:
        body = {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "code": code, "expiring": "1"}
        body.update(extra)
        return self.client.post(f"/{SHOP}/admin/oauth/access_token", json=body)

    def install(self, scope: str = ALL_SCOPES) -> dict[str, Any]:
        q = self.callback_query(scope)
        r = self.exchange(q["code"])
        assert r.status_code == 200, r.text
        data: dict[str, Any] = r.json()
        self.token = data["access_token"]
        return data

    def gql(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        version: str = VERSION,
        token: str | None = "<default>",  # noqa: S107 - a sentinel, not a password
    ) -> httpx.Response:
        headers = {}
        tok = self.token if token == "<default>" else token
        if tok:
            headers["X-Shopify-Access-Token"] = tok
        return self.client.post(
            f"/{SHOP}/admin/api/{version}/graphql.json",
            json={"query": query, "variables": variables or {}},
            headers=headers,
        )

    def data(self, query: str, variables: dict[str, Any] | None = None, version: str = VERSION) -> dict[str, Any]:
        r = self.gql(query, variables, version=version)
        assert r.status_code == 200, r.text
        body = r.json()
        assert "errors" not in body, body
        result: dict[str, Any] = body["data"]
        return result

    def control(self, method: str, route: str, /, **body: Any) -> Any:
        r = self.client.request(method, f"/sandbox/{route}", json=body or None)
        assert r.status_code in (200, 201), r.text
        return r.json()

    def order(self, lines: list[tuple[str, int]] | None = None, **extra: Any) -> dict[str, Any]:
        """A new order through the control API (as a buyer places it), with its fulfillment orders."""
        body: dict[str, Any] = {"shop": SHOP, **extra}
        if lines is not None:
            body["lines"] = [{"sku": sku, "quantity": qty} for sku, qty in lines]
        r = self.client.post("/sandbox/orders", json=body)
        assert r.status_code == 201, r.text
        result: dict[str, Any] = r.json()
        return result

    def level(self, sku: str, location: int = 0) -> dict[str, Any]:
        """Quantities of a SKU at the shop's n-th stocking location, read through the control API."""
        levels: list[dict[str, Any]] = self.client.get(f"/sandbox/inventory/{sku}", params={"shop": SHOP}).json()[
            "levels"
        ]
        return levels[location]


@dataclass
class Hit:
    path: str
    headers: dict[str, str]
    raw: bytes
    at: float


class Receiver:
    """A real HTTP server standing in for the app's webhook endpoint: records the exact bytes and headers, answers
    with the scripted statuses (then `default`), optionally after a delay."""

    def __init__(self) -> None:
        self.hits: list[Hit] = []
        self.statuses: list[int] = []
        self.default = 200
        self.delay = 0.0
        self._cond = threading.Condition()
        receiver = self

        class _Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if receiver.delay:
                    time.sleep(receiver.delay)
                with receiver._cond:
                    receiver.hits.append(
                        Hit(self.path, {k.lower(): v for k, v in self.headers.items()}, raw, time.time())
                    )
                    status = receiver.statuses.pop(0) if receiver.statuses else receiver.default
                    receiver._cond.notify_all()
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def url(self, path: str = "/webhooks") -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{path}"

    def wait_for(self, n: int, timeout: float = 5.0, topic: str | None = None) -> list[Hit]:
        """Block until `n` hits (of `topic`, if given) have arrived; fail after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                hits = [h for h in self.hits if topic is None or h.headers.get("x-shopify-topic") == topic]
                if len(hits) >= n:
                    return hits
                left = deadline - time.monotonic()
                assert left > 0, f"only {len(hits)} of {n} webhooks arrived: {[h.headers for h in self.hits]}"
                self._cond.wait(left)

    def of(self, topic: str) -> list[Hit]:
        with self._cond:
            return [h for h in self.hits if h.headers.get("x-shopify-topic") == topic]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def sb() -> ShopifySandbox:
    return ShopifySandbox(
        ShopifyConfig(
            client_id=CLIENT_ID,
            client_secret=CLIENT_SECRET,
            redirect_uris=[REDIRECT],
            seed=7,
            webhook_poll_seconds=0.05,
        )
    )


@pytest.fixture
def shopify(sb: ShopifySandbox) -> Iterator[Shopify]:
    server, base = start_in_thread(sb, port=0)
    try:
        with httpx.Client(base_url=base, timeout=10) as c:
            yield Shopify(c, sb)
    finally:
        server.shutdown()


@pytest.fixture
def api(shopify: Shopify) -> Shopify:
    shopify.install()
    return shopify


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    rx = Receiver()
    try:
        yield rx
    finally:
        rx.close()
