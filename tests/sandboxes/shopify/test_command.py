"""`manage.py shopify_sandbox`: flags reach the sandbox's config (the blocking serve() is replaced here)."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.management import call_command

import sandboxes.shopify.server as server_module
from sandboxes.shopify.app import ShopifySandbox


def test_flags_configure_the_sandbox(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    served: dict[str, Any] = {}

    def fake_serve(sb: ShopifySandbox, host: str, port: int) -> None:
        served.update(sb=sb, host=host, port=port)

    monkeypatch.setattr(server_module, "serve", fake_serve)
    state = tmp_path / "shopify.pkl"
    call_command(
        "shopify_sandbox",
        "--port",
        "8799",
        "--client-id",
        "cid",
        "--client-secret",
        "csecret",
        "--redirect-uri",
        "http://127.0.0.1:8000/stores/shopify/callback/",
        "--state-file",
        str(state),
        "--webhook-url",
        "http://127.0.0.1:8000/webhooks/shopify/",
        "--seed",
        "3",
    )
    sb: ShopifySandbox = served["sb"]
    assert (served["host"], served["port"]) == ("127.0.0.1", 8799)
    cfg = sb.config
    assert (cfg.client_id, cfg.client_secret, cfg.seed, cfg.state_file) == ("cid", "csecret", 3, str(state))
    assert cfg.redirect_uris == ["http://127.0.0.1:8000/stores/shopify/callback/"]
    (block,) = cfg.app_webhooks
    assert block["uri"] == "http://127.0.0.1:8000/webhooks/shopify/"
    assert "orders/create" in block["topics"]
    assert set(block["compliance_topics"]) == {"customers/data_request", "customers/redact", "shop/redact"}
