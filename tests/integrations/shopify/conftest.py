"""Fixtures for the Shopify adapter tests: the sandbox on a real socket, Dropline's settings pointed at it, and an
HTTP client that records every request the adapter sends and every answer it gets."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest
from django.core.cache import caches

from integrations.interface import TokenSet
from integrations.shopify import client as client_module
from integrations.shopify.adapter import ShopifyAdapter, ShopifySalesChannel
from integrations.shopify.client import ShopifyClient
from sandboxes.shopify.app import ShopifySandbox
from sandboxes.shopify.config import ShopifyConfig as SandboxConfig
from sandboxes.shopify.server import start_in_thread

SHOP = "dropline-demo.myshopify.com"
UK_SHOP = "dropline-uk.myshopify.com"


@dataclass
class Recorder:
    """Every request the adapter sent, in order, and the answers it got (a request whose answer was lost has none)."""

    requests: list[httpx.Request] = field(default_factory=list)
    exchanges: list[tuple[httpx.Request, httpx.Response]] = field(default_factory=list)

    def on_request(self, request: httpx.Request) -> None:
        self.requests.append(request)

    def on_response(self, response: httpx.Response) -> None:
        response.read()
        self.exchanges.append((response.request, response))

    def graphql(self, operation: str = "") -> list[dict[str, Any]]:
        """The JSON bodies of the GraphQL requests sent (of one operation, when named)."""
        bodies = [json.loads(r.content) for r in self.requests if r.url.path.endswith("/graphql.json")]
        return [b for b in bodies if not operation or b.get("operationName") == operation]

    def answers(self, operation: str) -> list[httpx.Response]:
        return [
            response
            for request, response in self.exchanges
            if request.url.path.endswith("/graphql.json") and json.loads(request.content)["operationName"] == operation
        ]

    def clear(self) -> None:
        self.requests.clear()
        self.exchanges.clear()


@dataclass
class Sandbox:
    sb: ShopifySandbox
    base_url: str
    control_http: httpx.Client
    recorder: Recorder
    http: httpx.Client

    def control(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.control_http.request(method, self.base_url + path, **kwargs)
        assert response.status_code < 300, response.text
        return response.json()

    def consent(self, adapter: ShopifyAdapter, shop: str = SHOP, state: str = "state-1") -> dict[str, str]:
        """Follow the consent URL to the sandbox's redirect: the callback query the seller comes back with."""
        answer = self.control_http.get(adapter.authorization_url(state, shop=shop))
        assert answer.status_code == 302, answer.text
        return dict(parse_qsl(urlsplit(answer.headers["location"]).query, keep_blank_values=True))

    def connect(self, adapter: ShopifyAdapter, shop: str = SHOP) -> TokenSet:
        callback = self.consent(adapter, shop)
        return adapter.authorize(callback["code"], callback=callback, shop=shop).tokens

    def client(self, tokens: TokenSet, shop: str = SHOP, **kwargs: Any) -> ShopifyClient:
        return ShopifyClient(config=ShopifyAdapter.config(), shop=shop, tokens=tokens, http=self.http, **kwargs)

    def channel(self, tokens: TokenSet, shop: str = SHOP, *, notify_customer: bool = True) -> ShopifySalesChannel:
        return ShopifySalesChannel(self.client(tokens, shop), notify_customer=notify_customer)


@pytest.fixture
def sandbox(settings: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Sandbox]:
    """A fresh sandbox on a real socket that knows Dropline's app, with Dropline's settings pointed at it."""
    config = SandboxConfig(
        client_id=settings.SHOPIFY_CLIENT_ID,
        client_secret=settings.SHOPIFY_CLIENT_SECRET,
        redirect_uris=[f"{settings.DROPLINE_PUBLIC_URL}/stores/shopify/callback/"],
        webhook_retry_scale=0.001,
    )
    sb = ShopifySandbox(config)
    server, base_url = start_in_thread(sb, port=0, deliver_webhooks=False)
    settings.SHOPIFY_SHOP_URL = base_url + "/{shop}"
    recorder = Recorder()
    http = httpx.Client(
        timeout=httpx.Timeout(10.0),
        event_hooks={"request": [recorder.on_request], "response": [recorder.on_response]},
    )
    monkeypatch.setattr(client_module, "shared_http_client", lambda config: http)
    monkeypatch.setattr("integrations.shopify.adapter.shared_http_client", lambda config: http)
    caches["default"].clear()  # no cost bucket state from another test's sandbox
    control_http = httpx.Client(timeout=httpx.Timeout(10.0))
    try:
        yield Sandbox(sb=sb, base_url=base_url, control_http=control_http, recorder=recorder, http=http)
    finally:
        http.close()
        control_http.close()
        server.shutdown()


@pytest.fixture
def adapter() -> ShopifyAdapter:
    return ShopifyAdapter()


@pytest.fixture
def tokens(sandbox: Sandbox, adapter: ShopifyAdapter) -> TokenSet:
    """dropline-demo connected through the consent flow, with every scope Dropline asks for."""
    connected = sandbox.connect(adapter)
    sandbox.recorder.clear()
    return connected


def notes_hmac(secret: str, query: dict[str, str]) -> str:
    """§2.3 written out again for the tests (not the adapter's code): sorted k=v without hmac, %20 for spaces."""
    from urllib.parse import quote

    message = "&".join(
        f"{quote(k, safe='*')}={quote(v, safe='*')}" for k, v in sorted(query.items()) if k not in ("hmac", "signature")
    )
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


def expired(tokens: TokenSet) -> TokenSet:
    from dataclasses import replace

    return replace(tokens, access_token_expires_at=datetime.now(tz=UTC) - timedelta(seconds=1))
