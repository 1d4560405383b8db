"""Runs in a separate worker PROCESS for the rate-limit acceptance test: its own client, the shared Redis limiter."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import httpx

from integrations.errors import PlatformError
from integrations.interface import TokenSet
from integrations.ratelimit import RedisSlidingWindowLimiter
from integrations.tiktok.client import TikTokShopClient
from integrations.tiktok.config import TikTokConfig


def run_burst(config: TikTokConfig, access_token: str, shop_cipher: str, calls: int, threads: int) -> dict[str, int]:
    now = datetime.now(tz=UTC)
    tokens = TokenSet(
        access_token=access_token,
        access_token_expires_at=now + timedelta(days=1),
        refresh_token="unused",
        refresh_token_expires_at=now + timedelta(days=2),
    )
    http = httpx.Client(timeout=httpx.Timeout(10.0), limits=httpx.Limits(max_connections=threads))
    client = TikTokShopClient(
        config=config,
        tokens=tokens,
        shop_cipher=shop_cipher,
        http=http,
        limiter=RedisSlidingWindowLimiter(config.redis_url),
    )

    def one(_: int) -> str:
        try:
            client.get_warehouses()
        except PlatformError as exc:
            return f"error:{exc.code}"
        return "ok"

    with ThreadPoolExecutor(max_workers=threads) as pool:
        outcomes = list(pool.map(one, range(calls)))
    http.close()
    counts: dict[str, int] = {}
    for outcome in outcomes:
        counts[outcome] = counts.get(outcome, 0) + 1
    return counts
