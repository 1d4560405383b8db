"""The shared limiter: never more than N grants in any rolling window, across threads and worker processes."""

from __future__ import annotations

import multiprocessing
import time
import uuid
from dataclasses import replace

import pytest
from django.conf import settings

from integrations.ratelimit import InProcessSlidingWindowLimiter, RedisSlidingWindowLimiter
from sandboxes.tiktok.app import TikTokSandbox
from sandboxes.tiktok.config import SandboxConfig
from sandboxes.tiktok.server import start_in_thread
from tests.integrations.tiktok.burst_worker import run_burst
from tests.integrations.tiktok.conftest import _session

WAREHOUSES = "GET /logistics/202309/warehouses"


def test_in_process_limiter_grants_n_then_says_how_long_to_wait(monkeypatch: pytest.MonkeyPatch) -> None:
    limiter = InProcessSlidingWindowLimiter()
    now = [100.0]
    monkeypatch.setattr(limiter, "_monotonic", lambda: now[0])

    assert [limiter.reserve("k", 3, 1000) for _ in range(3)] == [0.0, 0.0, 0.0]
    now[0] = 100.4
    assert limiter.reserve("k", 3, 1000) == pytest.approx(0.6)  # the oldest grant leaves the window at 101.0
    now[0] = 101.0
    assert limiter.reserve("k", 3, 1000) == 0.0
    assert limiter.reserve("other", 3, 1000) == 0.0  # keys are independent (per API per shop)


def test_sliding_window_never_allows_two_bursts_in_one_window(monkeypatch: pytest.MonkeyPatch) -> None:
    # The token-bucket failure mode: N at t=0.99 and N more at t=1.01. A sliding log refuses the second burst.
    limiter = InProcessSlidingWindowLimiter()
    now = [0.99]
    monkeypatch.setattr(limiter, "_monotonic", lambda: now[0])
    assert all(limiter.reserve("k", 5, 1000) == 0.0 for _ in range(5))
    now[0] = 1.01
    assert limiter.reserve("k", 5, 1000) > 0.9


@pytest.mark.redis
def test_redis_limiter_is_shared_between_instances() -> None:
    key = f"test:{uuid.uuid4().hex}"
    first, second = RedisSlidingWindowLimiter(settings.REDIS_URL), RedisSlidingWindowLimiter(settings.REDIS_URL)

    grants = [first.reserve(key, 4, 1000), second.reserve(key, 4, 1000), first.reserve(key, 4, 1000)]
    grants.append(second.reserve(key, 4, 1000))
    wait = first.reserve(key, 4, 1000)

    assert grants == [0.0, 0.0, 0.0, 0.0]
    assert 0.9 < wait <= 1.0


@pytest.mark.redis
def test_unreachable_redis_falls_back_to_the_in_process_limiter() -> None:
    limiter = RedisSlidingWindowLimiter("redis://127.0.0.1:1/0")

    assert limiter.reserve("k", 1, 1000) == 0.0
    assert limiter.reserve("k", 1, 1000) > 0


@pytest.mark.redis
def test_burst_of_500_from_two_worker_processes_never_exceeds_the_limit() -> None:
    qps = 50
    sb = TikTokSandbox(
        SandboxConfig(app_key=f"burst_{uuid.uuid4().hex[:8]}", app_secret="burst-secret", rate_limit_qps=qps)
    )
    server, base_url = start_in_thread(sb, port=0, deliver_webhooks=False)
    try:
        import httpx

        with httpx.Client(timeout=5.0) as control:
            session = _session(sb, base_url, control)
            tokens = session.authorize()
            control.post(base_url + "/sandbox/stats/reset")
            config = replace(session.config, redis_url=settings.REDIS_URL, rate_limit_qps=qps)
            context = multiprocessing.get_context("spawn")
            started = time.monotonic()
            with context.Pool(2) as pool:
                results = pool.starmap(
                    run_burst, [(config, tokens.access_token, session.shops[0]["cipher"], 250, 32)] * 2
                )
            elapsed = time.monotonic() - started
            stats = control.get(base_url + "/sandbox/stats").json()
    finally:
        server.shutdown()

    assert [r.get("ok") for r in results] == [250, 250], results
    api_stats = stats["apis"][WAREHOUSES] if "apis" in stats else stats[WAREHOUSES]
    assert api_stats["violations"] == 0
    assert api_stats["max_in_1s"] <= qps
    assert api_stats["ok"] == 500
    assert elapsed >= 500 / qps - 1  # it really was throttled, not just lucky
