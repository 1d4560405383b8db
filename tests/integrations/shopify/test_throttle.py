"""The query-cost bucket (notes §6) and retries: THROTTLED (HTTP 200 or 429) is waited out, the bucket as Shopify last
reported it is respected before sending, 5xx on a read is retried with the same request."""

from __future__ import annotations

import dataclasses
import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from integrations.errors import ErrorKind, PlatformError
from integrations.shopify import client as client_module
from integrations.shopify.adapter import WHILE_A_PERSON_WAITS, ShopifyAdapter, ShopifySalesChannel
from integrations.shopify.client import CostBucket, ShopifyClient
from tests.integrations.shopify.conftest import SHOP, Sandbox


def _throttled(sandbox: Sandbox, operation: str) -> list[Any]:
    return [
        answer
        for answer in sandbox.recorder.answers(operation)
        if answer.status_code == 429 or "THROTTLED" in json.dumps(answer.json().get("errors") or [])
    ]


@pytest.fixture(autouse=True)
def _fresh_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """As in a new worker process: no operation's cost known yet."""
    monkeypatch.setattr(client_module, "_expected_cost", {})


@pytest.mark.parametrize("status_code", [200, 429])
def test_a_throttled_answer_is_waited_out_and_sent_again(sandbox: Sandbox, tokens: Any, status_code: int) -> None:
    sandbox.control(
        "POST",
        "/sandbox/rate-limit",
        json={"maximum_available": 1000, "restore_rate": 1000, "status_code": status_code},
    )
    sandbox.control("POST", "/sandbox/rate-limit/drain", json={"shop": SHOP, "available": 0})

    locations = sandbox.channel(tokens).list_locations()

    assert len(locations) == 2
    first, second = sandbox.recorder.answers("DroplineLocations")
    assert first.status_code == status_code
    body = first.json()
    assert body["errors"][0]["extensions"]["code"] == "THROTTLED"
    assert body["extensions"]["cost"]["actualQueryCost"] is None
    assert second.status_code == 200
    assert second.json()["data"]["locations"]
    assert first.request.content == second.request.content


def test_the_bucket_shopify_reported_is_respected_before_sending(sandbox: Sandbox, tokens: Any) -> None:
    """A page costs ~926 requested; with a 1000-point bucket refilling 400 a second every page after the first must
    wait for the refill: the client waits beforehand and Shopify never has to throttle it."""
    sandbox.control("POST", "/sandbox/rate-limit", json={"maximum_available": 1000, "restore_rate": 400})
    channel = sandbox.channel(tokens)
    since = datetime.now(tz=UTC) - timedelta(days=100)
    started = time.monotonic()
    cursor, pages = None, 0
    while True:
        page = channel.list_changed_orders(since=since, cursor=cursor)
        pages += 1
        cursor = page.next_cursor
        if cursor is None:
            break

    assert pages >= 3
    assert _throttled(sandbox, "DroplineOrders") == []
    costs = [a.json()["extensions"]["cost"] for a in sandbox.recorder.answers("DroplineOrders")]
    assert all(c["requestedQueryCost"] <= 1000 for c in costs)
    assert time.monotonic() - started > 0.1  # it did wait for the refill


def test_the_bucket_state_is_shared_through_the_cache(sandbox: Sandbox, tokens: Any) -> None:
    """Another worker (another client, same cache) sees what the first one learned and waits too."""
    sandbox.control("POST", "/sandbox/rate-limit", json={"maximum_available": 1000, "restore_rate": 400})
    since = datetime.now(tz=UTC) - timedelta(days=100)
    first = ShopifySalesChannel(sandbox.client(tokens))
    page = first.list_changed_orders(since=since)
    second = ShopifySalesChannel(sandbox.client(tokens))
    second.list_changed_orders(since=since, cursor=page.next_cursor)
    assert _throttled(sandbox, "DroplineOrders") == []
    state = CostBucket()._get(f"shopify:bucket:{ShopifyAdapter.config().client_id}:{SHOP}")
    assert state is not None
    assert state.maximum == 1000


def test_a_bucket_that_stays_empty_fails_retryably_when_a_person_waits(sandbox: Sandbox, tokens: Any) -> None:
    sandbox.control("POST", "/sandbox/rate-limit", json={"maximum_available": 1000, "restore_rate": 1})
    sandbox.control("POST", "/sandbox/rate-limit/drain", json={"shop": SHOP, "available": 0})
    config = dataclasses.replace(ShopifyAdapter.config(), **WHILE_A_PERSON_WAITS)  # type: ignore[arg-type]
    client = ShopifyClient(config=config, shop=SHOP, tokens=tokens, http=sandbox.http)

    started = time.monotonic()
    with pytest.raises(PlatformError) as failed:
        ShopifySalesChannel(client).list_locations()

    assert time.monotonic() - started < 2
    assert (failed.value.code, failed.value.kind, failed.value.retryable) == ("THROTTLED", ErrorKind.RATE_LIMITED, True)
    assert failed.value.fix


def test_a_server_error_on_a_read_is_retried_with_the_same_request(sandbox: Sandbox, tokens: Any) -> None:
    sandbox.control("POST", "/sandbox/faults", json={"errors": [{"api": "locations", "http_status": 503, "next": 1}]})

    assert len(sandbox.channel(tokens).list_locations()) == 2

    failed, answered = sandbox.recorder.answers("DroplineLocations")
    assert (failed.status_code, answered.status_code) == (503, 200)
    assert failed.request.content == answered.request.content


def test_graphql_errors_in_a_200_are_errors(sandbox: Sandbox, tokens: Any) -> None:
    from integrations.shopify.client import Operation

    client = sandbox.client(tokens)
    with pytest.raises(PlatformError) as failed:
        client.call(Operation("Broken", "query Broken { shop { noSuchField } }"))
    assert failed.value.http_status == 200
    assert "noSuchField" in failed.value.message
    assert not failed.value.retryable


def test_access_denied_is_a_reconnect(sandbox: Sandbox, adapter: ShopifyAdapter) -> None:
    """A shop that granted fewer scopes than Dropline needs (an older connection)."""
    code = sandbox.control("POST", "/sandbox/authorize", json={"shop": SHOP, "scopes": ["read_orders"]})["code"]
    from integrations.shopify.oauth import ShopifyAuth

    tokens = ShopifyAuth(adapter.config(), sandbox.http).exchange_code(SHOP, code)
    with pytest.raises(PlatformError) as refused:
        sandbox.channel(tokens).list_locations()
    assert (refused.value.code, refused.value.kind) == ("ACCESS_DENIED", ErrorKind.AUTH_EXPIRED)
    assert "reconnect" in refused.value.fix.lower()
