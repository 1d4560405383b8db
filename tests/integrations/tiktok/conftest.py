"""Fixtures for the TikTok adapter tests: configs, a scripted MockTransport, and sandboxes (in-process / real HTTP)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from integrations.interface import TokenSet
from integrations.ratelimit import InProcessSlidingWindowLimiter
from integrations.tiktok.client import TikTokShopClient
from integrations.tiktok.config import TikTokConfig
from integrations.tiktok.oauth import TikTokAuth
from sandboxes.tiktok.app import TikTokSandbox
from sandboxes.tiktok.config import SandboxConfig
from sandboxes.tiktok.server import start_in_thread

PAYLOADS = Path(__file__).parent / "payloads"
API = "https://open-api.tiktokglobalshop.com"
AUTH = "https://auth.tiktok-shops.com"


def payload(name: str) -> dict[str, Any]:
    """An official response example, copied verbatim from the spec JSON (shared/platforms/tiktok-shop/spec/)."""
    return json.loads((PAYLOADS / f"{name}.json").read_text())


def make_config(**overrides: Any) -> TikTokConfig:
    base = TikTokConfig(
        app_key="29a39d",
        app_secret="e59af819cc",
        service_id="7000000000000000001",
        api_base_url=API,
        auth_base_url=AUTH,
        authorize_url="https://services.us.tiktokshop.com/open/authorize",
        backoff_base_seconds=0.01,
        backoff_max_seconds=0.05,
    )
    return replace(base, **overrides)


def make_tokens(access: str = "TTP_x", *, expires_in: float = 7 * 86400, now: float | None = None) -> TokenSet:
    moment = datetime.fromtimestamp(now, tz=UTC) if now is not None else datetime.now(tz=UTC)
    return TokenSet(
        access_token=access,
        access_token_expires_at=moment + timedelta(seconds=expires_in),
        refresh_token="TTP_refresh",
        refresh_token_expires_at=moment + timedelta(days=300),
        open_id="7010736057180325637",
    )


@dataclass
class Scripted:
    """A MockTransport that records every request and answers from a queue (the last answer repeats)."""

    answers: list[httpx.Response | Exception | Callable[[httpx.Request], httpx.Response]]
    requests: list[httpx.Request] = field(default_factory=list)

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, Exception):
            raise answer
        if callable(answer):
            return answer(request)
        return answer

    def client(self) -> httpx.Client:
        return httpx.Client(transport=httpx.MockTransport(self.handler))


def envelope(data: Any = None, *, code: int = 0, message: str = "Success", status: int = 200) -> httpx.Response:
    body = {"code": code, "message": message, "request_id": "REQ123", "data": data if data is not None else {}}
    return httpx.Response(status, json=body)


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def scripted_client(sleeps: list[float]) -> Callable[..., tuple[TikTokShopClient, Scripted]]:
    def make(*answers: Any, tokens: TokenSet | None = None, clock: float = 1700000100, **kwargs: Any):
        script = Scripted(list(answers))
        limiter = InProcessSlidingWindowLimiter()
        limiter._monotonic = lambda: 1000.0 + sum(sleeps)  # the limiter's time passes as the client sleeps
        client = TikTokShopClient(
            config=kwargs.pop("config", make_config()),
            tokens=tokens or make_tokens(now=clock),
            shop_cipher=kwargs.pop("shop_cipher", "GCP_XF90igAAAABh00qsWgtvOiGFNqyubMt3"),
            http=script.client(),
            limiter=limiter,
            sleep=sleeps.append,
            clock=lambda: clock,
            rng=lambda: 0.5,
            **kwargs,
        )
        return client, script

    return make


# --- sandbox ------------------------------------------------------------------------------------------------------


@dataclass
class SandboxSession:
    """A sandbox plus an authorized US seller, reachable in-process or over real HTTP."""

    sb: TikTokSandbox
    base_url: str
    http: httpx.Client
    config: TikTokConfig
    seller_id: str
    shops: list[dict[str, Any]]

    def control(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.http.request(method, self.base_url + path, **kwargs)
        response.raise_for_status()
        return response.json()

    def authorize(self) -> TokenSet:
        code = self.control("POST", "/sandbox/authorize", json={"seller_id": self.seller_id})["code"]
        return TikTokAuth(self.config, self.http).exchange_code(code)

    def client(self, tokens: TokenSet | None = None, **kwargs: Any) -> TikTokShopClient:
        limiter = kwargs.pop("limiter", None)
        if limiter is None:
            limiter = InProcessSlidingWindowLimiter()
            if "sleep" in kwargs:  # a recorded sleep: the limiter's time passes as the client sleeps
                recorded, slept = kwargs.pop("sleep"), [0.0]

                def sleep(seconds: float) -> None:
                    slept[0] += seconds
                    recorded(seconds)

                limiter._monotonic = lambda: time.monotonic() + slept[0]
                kwargs["sleep"] = sleep
        return TikTokShopClient(
            config=kwargs.pop("config", self.config),
            tokens=tokens or self.authorize(),
            shop_cipher=kwargs.pop("shop_cipher", self.shops[0]["cipher"]),
            http=kwargs.pop("http", self.http),
            limiter=limiter,
            **kwargs,
        )


def _session(sb: TikTokSandbox, base_url: str, http: httpx.Client, **config: Any) -> SandboxSession:
    world = http.get(base_url + "/sandbox").json()
    seller = next(s for s in world["sellers"] if s["base_region"] == "US")
    cfg = make_config(
        app_key=sb.config.app_key,
        app_secret=sb.config.app_secret,
        api_base_url=base_url,
        auth_base_url=base_url,
        authorize_url=base_url + "/open/authorize",
        **config,
    )
    return SandboxSession(
        sb=sb, base_url=base_url, http=http, config=cfg, seller_id=seller["id"], shops=seller["shops"]
    )


@pytest.fixture
def sandbox() -> SandboxSession:
    """In-process (WSGI transport, no socket): fast, fresh world per test."""
    sb = TikTokSandbox(SandboxConfig(app_key="dl_test_key", app_secret="dl-test-secret"))
    http = httpx.Client(transport=sb.httpx_transport())
    return _session(sb, "http://tts.sandbox", http)


@pytest.fixture
def live_sandbox() -> Iterator[SandboxSession]:
    """A real HTTP server on loopback (real sockets, timeouts and dropped connections)."""
    sb = TikTokSandbox(SandboxConfig(app_key="dl_live_key", app_secret="dl-live-secret"))
    server, base_url = start_in_thread(sb, port=0, deliver_webhooks=False)
    http = httpx.Client(timeout=httpx.Timeout(5.0))
    try:
        yield _session(sb, base_url, http)
    finally:
        http.close()
        server.shutdown()
