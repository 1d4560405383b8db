"""docs/api.md's Python quick start, run as written: every ```python block of the page, in order, in one namespace,
against a live server and the TikTok sandbox on a real socket, with the seller's side done first as a seller does it
(a TikTok shop connected, a stocked catalogue, orders imported). So the quick start cannot rot."""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from erp import services as erp_services
from erp.actors import Actor
from erp.tenancy import organization_scope
from inventory.services import stock_receive
from orders.services import store_sync
from tests.factories import SkuFactory, WarehouseFactory

DOC = Path(settings.BASE_DIR) / "docs" / "api.md"


def python_blocks(text: str) -> list[str]:
    return re.findall(r"^```python\n(.*?)^```", text, flags=re.MULTILINE | re.DOTALL)


@pytest.mark.django_db(transaction=True)
def test_the_python_quick_start_runs_as_written(
    live_server: Any, tiktok_server: Any, make_tenant: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _, harness = tiktok_server
    tenant = make_tenant("Quick Start Outfitters")  # its key: the dashboard's "write what keys may write" preset
    store = harness.connect_store(tenant.organization)
    with organization_scope(tenant.organization):
        warehouse = WarehouseFactory(organization=tenant.organization, name="Reno")
        for code in {line.seller_sku for o in harness.sandbox.world.orders.values() for line in o.line_items}:
            sku = SkuFactory(organization=tenant.organization, code=code)
            stock_receive(sku=sku, warehouse=warehouse, quantity=500, actor=Actor.system())
        store_sync(store=store)
    monkeypatch.setenv("DROPLINE_URL", live_server.url)
    _, key = erp_services.api_key_create(  # as step 1 says: the preset, plus subscribing a receiver
        organization=tenant.organization,
        actor=Actor.for_user(tenant.owner),
        name="Quick start",
        scope="write",
        scopes=["webhooks:write"],
    )
    monkeypatch.setenv("DROPLINE_API_KEY", key)
    monkeypatch.setenv("LABELS_PDF", str(tmp_path / "labels.pdf"))

    blocks = python_blocks(DOC.read_text())
    assert len(blocks) >= 8
    namespace: dict[str, Any] = {"__name__": "quickstart"}
    for number, block in enumerate(blocks, start=1):
        exec(compile(block, f"docs/api.md python block {number}", "exec"), namespace)  # noqa: S102  # our own doc

    assert namespace["again"].status_code == 304
    assert namespace["batch"]["progress"]["done"]
    assert namespace["batch"]["progress"]["bought"] >= 1
    assert (tmp_path / "labels.pdf").read_bytes().startswith(b"%PDF")
    # The receiver of the page got Dropline's test event, its signature verified with the secret it was given.
    assert namespace["event"]["type"] == "ping"
    assert namespace["event"]["id"].startswith("evt_")
    # The webhook snippet accepts a fresh signature of the raw body and refuses a tampered or stale one.
    verify = namespace["verify_signature"]
    body, now = b'{"id": "evt_1", "type": "label.purchased"}', int(time.time())

    def sign(at: int, raw: bytes) -> str:
        return f"t={at},v1=" + hmac.new(b"whsec_test", f"{at}.".encode() + raw, hashlib.sha256).hexdigest()

    assert verify("whsec_test", sign(now, body), body)
    assert verify("whsec_test", f"{sign(now, body)},v1={'0' * 64}", body)  # a second v1 during a rotation
    assert not verify("whsec_test", sign(now, body), body + b" ")
    assert not verify("whsec_test", sign(now - 301, body), body)
