"""Fixtures for the TikTok sandbox tests.

The signer below is written from the README's Python reference on purpose: the gateway tests must not borrow
the sandbox's own signing code, or a shared mistake would pass unnoticed.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from sandboxes.tiktok.app import TikTokSandbox
from sandboxes.tiktok.config import SandboxConfig
from sandboxes.tiktok.server import start_in_thread

APP_KEY = "testappkey"
APP_SECRET = "test-app-secret"
REDIRECT = "http://127.0.0.1:8000/stores/tiktok/callback/"
# Sentinel meaning "use the Api's current token / cipher".
DEFAULT = "<default>"


def tts_sign(app_secret: str, path: str, query: dict[str, str], body: bytes = b"", multipart: bool = False) -> str:
    base = path + "".join(f"{k}{query[k]}" for k in sorted(query) if k not in ("sign", "access_token"))
    msg = app_secret.encode() + base.encode() + (b"" if multipart else body) + app_secret.encode()
    return hmac.new(app_secret.encode(), msg, hashlib.sha256).hexdigest()


def make_config(**overrides: Any) -> SandboxConfig:
    values: dict[str, Any] = {
        "app_key": APP_KEY,
        "app_secret": APP_SECRET,
        "service_id": "7000000000000000009",
        "redirect_uri": REDIRECT,
        "rate_limit_qps": 50,
        "seed": 1234,
        "state_file": None,
        "webhook_url": None,
    }
    values.update(overrides)
    return SandboxConfig(**values)


class Api:
    """A tiny signed client used only by the tests."""

    def __init__(self, client: httpx.Client, sb: TikTokSandbox) -> None:
        self.client = client
        self.sb = sb
        self.token: str | None = None
        self.cipher: str | None = None

    def call(
        self,
        method: str,
        path: str,
        query: dict[str, str] | None = None,
        body: Any = None,
        *,
        token: str | None = DEFAULT,
        cipher: str | None = DEFAULT,
        sign: bool = True,
        raw_body: bytes | None = None,
        timestamp: int | None = None,
        app_key: str = APP_KEY,
        secret: str = APP_SECRET,
    ) -> httpx.Response:
        q = {"app_key": app_key, "timestamp": str(timestamp if timestamp is not None else int(time.time()))}
        if cipher is DEFAULT:
            cipher = self.cipher
        if cipher is not None:
            q["shop_cipher"] = cipher
        q.update(query or {})
        data = (
            raw_body
            if raw_body is not None
            else (json.dumps(body, separators=(",", ":")).encode() if body is not None else b"")
        )
        if sign:
            q["sign"] = tts_sign(secret, path, q, data)
        headers = {"content-type": "application/json"}
        tok = self.token if token is DEFAULT else token
        if tok:
            headers["x-tts-access-token"] = tok
        return self.client.request(method, path, params=q, content=data or None, headers=headers)

    def ok(
        self, method: str, path: str, query: dict[str, str] | None = None, body: Any = None, **kw: Any
    ) -> dict[str, Any]:
        r = self.call(method, path, query, body, **kw)
        assert r.status_code == 200, r.text
        env = r.json()
        assert env["code"] == 0, env
        return env["data"]

    def authorize(self, seller_index: int = 0) -> dict[str, Any]:
        seller_id = list(self.sb.world.sellers)[seller_index]
        code = self.client.post("/sandbox/authorize", json={"seller_id": seller_id}).json()["code"]
        r = self.client.get(
            "/api/v2/token/get",
            params={"app_key": APP_KEY, "app_secret": APP_SECRET, "auth_code": code, "grant_type": "authorized_code"},
        )
        data = r.json()["data"]
        self.token = data["access_token"]
        shops = self.ok("GET", "/authorization/202309/shops", cipher=None)["shops"]
        self.cipher = shops[0]["cipher"]
        return {"token": data, "shops": shops}


@pytest.fixture
def sb() -> TikTokSandbox:
    return TikTokSandbox(make_config())


@pytest.fixture
def client(sb: TikTokSandbox) -> Iterator[httpx.Client]:
    with httpx.Client(transport=sb.httpx_transport(), base_url="http://sandbox.local") as c:
        yield c


@pytest.fixture
def api(client: httpx.Client, sb: TikTokSandbox) -> Api:
    a = Api(client, sb)
    a.authorize()
    return a


@pytest.fixture(params=["inprocess", "http"])
def any_api(request: pytest.FixtureRequest, sb: TikTokSandbox) -> Iterator[Api]:
    """The same Api over the in-process transport and over a real socket."""
    if request.param == "inprocess":
        with httpx.Client(transport=sb.httpx_transport(), base_url="http://sandbox.local") as c:
            a = Api(c, sb)
            a.authorize()
            yield a
        return
    server, base = start_in_thread(sb, port=0, deliver_webhooks=False)
    try:
        with httpx.Client(base_url=base, timeout=10) as c:
            a = Api(c, sb)
            a.authorize()
            yield a
    finally:
        server.shutdown()


def first_order(sb: TikTokSandbox, shop_cipher: str, **attrs: Any) -> Any:
    shop = sb.world.shops_by_cipher[shop_cipher]
    for o in sorted(sb.world.orders.values(), key=lambda o: o.id):
        if o.shop_id == shop.id and all(getattr(o, k) == v for k, v in attrs.items()):
            return o
    raise LookupError(attrs)
