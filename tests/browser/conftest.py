"""Playwright driving the system's Chromium (Debian package `chromium`), never a downloaded browser."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from sandboxes.tiktok.app import TikTokSandbox
from sandboxes.tiktok.config import SandboxConfig
from sandboxes.tiktok.server import start_in_thread

CHROMIUM = os.environ.get("DROPLINE_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(settings.BASE_DIR) / "test-artifacts"


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        message = f"no Chromium at {CHROMIUM}: `apt-get install chromium` (CI installs it)"
        if os.environ.get("DROPLINE_TEST_STRICT") == "1":
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the live server's ORM calls happen in their own
    # threads, but Django's guard looks at this one.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield instance
        instance.close()
    if previous is None:
        del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def page(browser: Any, live_server: Any) -> Iterator[Any]:
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1366, "height": 900})
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    # Let the live server answer what the page still asked for (a last fetch, a redirect) before the database is
    # flushed: a request still reading tables deadlocked with the flush's TRUNCATE once in CI.
    page.wait_for_load_state("networkidle")
    context.close()


def screenshot(page: Any, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


@pytest.fixture
def platform(live_server: Any, settings: Any) -> Iterator[TikTokSandbox]:
    """The TikTok sandbox as a real server, with the live server as its OAuth redirect."""
    sandbox = TikTokSandbox(
        SandboxConfig(
            app_key=settings.TIKTOK_APP_KEY,
            app_secret=settings.TIKTOK_APP_SECRET,
            redirect_uri=f"{live_server.url}/stores/tiktok/callback/",
        )
    )
    server, base_url = start_in_thread(sandbox, port=0)
    settings.TIKTOK_API_BASE_URL = settings.TIKTOK_AUTH_BASE_URL = base_url
    settings.TIKTOK_AUTHORIZE_URL = f"{base_url}/open/authorize"
    yield sandbox
    server.shutdown()


@pytest.fixture
def shopify_platform(live_server: Any, settings: Any) -> Iterator[tuple[Any, str]]:
    """The Shopify sandbox as a real server that knows Dropline's app, with the live server as its redirect and
    Dropline's shop URLs pointed at it. Yields (sandbox, base URL)."""
    from django.core.cache import caches

    from sandboxes.shopify.app import ShopifySandbox
    from sandboxes.shopify.config import ShopifyConfig
    from sandboxes.shopify.server import start_in_thread as start_shopify

    settings.DROPLINE_PUBLIC_URL = live_server.url
    sandbox = ShopifySandbox(
        ShopifyConfig(
            client_id=settings.SHOPIFY_CLIENT_ID,
            client_secret=settings.SHOPIFY_CLIENT_SECRET,
            redirect_uris=[f"{live_server.url}/stores/shopify/callback/"],
        )
    )
    server, base_url = start_shopify(sandbox, port=0, deliver_webhooks=False)
    settings.SHOPIFY_SHOP_URL = base_url + "/{shop}"
    caches["default"].clear()  # no cost-bucket state of another test's sandbox
    yield sandbox, base_url
    server.shutdown()
