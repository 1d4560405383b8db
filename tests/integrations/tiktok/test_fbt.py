"""Fulfilled by TikTok in the client: the exact requests (path, version, query, body, signature), the spec's official
examples parsed, the read-only SAFE retry policy, and the same calls against the sandbox in-process."""

from __future__ import annotations

import httpx
import pytest

from integrations.interface import FbtSkuStock, FbtStock
from integrations.tiktok import endpoints as ep
from integrations.tiktok.endpoints import RetryPolicy
from tests.integrations.tiktok.conftest import API, SandboxSession, envelope
from tests.integrations.tiktok.test_client_requests import CIPHER, assert_signed, query_of

# Verbatim "response_body" examples of the spec files (api-reference/fulfilled-by-tiktok-fbt/*.spec.json).
WAREHOUSE_LIST_EXAMPLE = {
    "warehouses": [
        {
            "fbt_warehouse_id": "121219993203023",
            "warehouse_ids": ["161213293423029", "181213293423030"],
            "name": "TikTok_Eastvale(CA)",
            "type": "PLATFORM_WAREHOUSE",
            "subscribed": True,
            "addresses": [
                {
                    "postal_code": "92376",
                    "region_code": "US",
                    "state": "CA",
                    "district": "San Bernardino",
                    "city": "Rialto",
                    "address_line_1": "1420 Tamarind Ave, Rialto, San Bernardino",
                    "address_line_2": " ",
                    "address_line_3": " ",
                }
            ],
            "logistics_services": [
                {"id": "12123232323", "name": "Fulfilled by TikTok Shop-Standard", "subscribed": True}
            ],
        }
    ]
}
INVENTORY_EXAMPLE = {
    "next_page_token": "cGFnZV9udW1iZXI9Mg==",
    "total_count": 22113,
    "inventory": [
        {
            "goods": {
                "id": "12345",
                "reference_code": "water01",
                "name": "100ml water",
                "skus": [
                    {
                        "id": "73243612345",
                        "on_hand_detail": {"total_quantity": 20, "available_quantity": 5, "reserved_quantity": 15},
                    }
                ],
            },
            "fbt_warehouse_id": "7232382932030232",
            "in_transit_quantity": 10,
            "on_hand_detail": {
                "total_quantity": 20,
                "available_quantity": 5,
                "reserved_quantity": 15,
                "unfulfillable_quantity": 0,
            },
        }
    ],
}
REGIONS_EXAMPLE = {"onboarded_regions": [{"region_code": "GB"}]}


def test_fbt_endpoints_are_the_spec_paths_and_versions_and_read_only_safe() -> None:
    assert ep.GET_FBT_ONBOARDED_REGIONS.key == "GET /fbt/202409/merchants/onboarded_regions"
    assert ep.GET_FBT_WAREHOUSE_LIST.key == "GET /fbt/202408/warehouses"
    assert ep.SEARCH_FBT_INVENTORY.key == "POST /fbt/202408/inventory/search"
    for endpoint in (ep.GET_FBT_ONBOARDED_REGIONS, ep.GET_FBT_WAREHOUSE_LIST, ep.SEARCH_FBT_INVENTORY):
        assert endpoint.shop_scoped  # every FBT API takes shop_cipher (README §8)
        assert endpoint.retry is RetryPolicy.SAFE
        assert endpoint in ep.ALL


def test_get_fbt_warehouses_request_and_official_example(scripted_client) -> None:
    client, script = scripted_client(envelope(WAREHOUSE_LIST_EXAMPLE))

    (wh,) = client.get_fbt_warehouses()

    (request,) = script.requests
    assert request.method == "GET"
    assert str(request.url).startswith(API + "/fbt/202408/warehouses?")
    assert request.content == b""
    query = query_of(request)
    assert set(query) == {"app_key", "timestamp", "shop_cipher", "sign"}
    assert query["shop_cipher"] == CIPHER
    assert query["timestamp"] == "1700000100"
    assert request.headers["x-tts-access-token"] == "TTP_x"
    assert_signed(request)
    assert wh.fbt_warehouse_id == "121219993203023"
    assert wh.warehouse_ids == ("161213293423029", "181213293423030")
    assert wh.name == "TikTok_Eastvale(CA)"
    assert wh.type == "PLATFORM_WAREHOUSE"
    assert wh.subscribed is True
    assert (wh.region_code, wh.state, wh.city, wh.postal_code) == ("US", "CA", "Rialto", "92376")
    assert wh.address_lines == ("1420 Tamarind Ave, Rialto, San Bernardino",)  # the " " lines are dropped


def test_search_fbt_inventory_request_and_official_example(scripted_client) -> None:
    client, script = scripted_client(envelope(INVENTORY_EXAMPLE))

    page = client.search_fbt_inventory(sku_ids=["73243612345"], fbt_warehouse_ids=["7232382932030232"], page_size=50)

    (request,) = script.requests
    assert request.method == "POST"
    assert request.url.path == "/fbt/202408/inventory/search"
    assert request.content == b'{"fbt_warehouse_ids":["7232382932030232"],"sku_ids":["73243612345"]}'
    query = query_of(request)
    assert set(query) == {"app_key", "timestamp", "shop_cipher", "page_size", "sign"}
    assert query["page_size"] == "50"
    assert request.headers["content-type"] == "application/json"
    assert_signed(request)
    assert page.next_cursor == "cGFnZV9udW1iZXI9Mg=="
    assert page.total_count == 22113
    assert page.items == (
        FbtStock(
            goods_id="12345",
            reference_code="water01",
            name="100ml water",
            fbt_warehouse_id="7232382932030232",
            total=20,
            available=5,
            reserved=15,
            unfulfillable=0,
            in_transit=10,
            skus=(FbtSkuStock(sku_id="73243612345", total=20, available=5, reserved=15),),
        ),
    )


def test_search_fbt_inventory_sends_the_page_token_raw_and_an_empty_filter_as_braces(scripted_client) -> None:
    client, script = scripted_client(envelope({"inventory": [], "total_count": 0, "next_page_token": ""}))
    token = "cGFnZV9+udW1/iZXI9Mg=="

    page = client.search_fbt_inventory(page_token=token)

    (request,) = script.requests
    assert request.content == b"{}"
    query = query_of(request)
    assert query["page_token"] == token
    assert query["page_size"] == "100"
    assert_signed(request)
    assert page.items == ()
    assert page.next_cursor is None


def test_iter_fbt_inventory_follows_next_page_token(scripted_client) -> None:
    row = INVENTORY_EXAMPLE["inventory"][0]
    client, script = scripted_client(
        envelope({"inventory": [row], "total_count": 2, "next_page_token": "T2"}),
        envelope({"inventory": [row], "total_count": 2, "next_page_token": ""}),
    )

    rows = list(client.iter_fbt_inventory(fbt_warehouse_ids=["7232382932030232"]))

    assert len(rows) == 2
    assert [query_of(r).get("page_token") for r in script.requests] == [None, "T2"]


def test_onboarded_regions_and_not_onboarded(scripted_client) -> None:
    client, script = scripted_client(envelope(REGIONS_EXAMPLE), envelope({}))
    assert client.get_fbt_onboarded_regions() == ["GB"]
    assert client.get_fbt_onboarded_regions() == []  # "If seller is not onboarded, `data` will be empty."
    assert script.requests[0].url.path == "/fbt/202409/merchants/onboarded_regions"


def test_fbt_reads_are_retried_like_every_safe_read(scripted_client, sleeps) -> None:
    client, script = scripted_client(
        envelope(None, code=36009002, message="Too many requests", status=429),
        envelope(None, code=36009003, message="Internal error", status=503),
        httpx.ReadTimeout("timed out"),
        envelope(INVENTORY_EXAMPLE),
    )

    page = client.search_fbt_inventory()

    assert len(script.requests) == 4
    assert len(sleeps) == 3
    assert page.items[0].goods_id == "12345"


def test_too_many_sku_ids_is_refused_before_calling(scripted_client) -> None:
    client, script = scripted_client(envelope(INVENTORY_EXAMPLE))
    with pytest.raises(ValueError, match="100"):
        client.search_fbt_inventory(sku_ids=[str(i) for i in range(101)])
    assert script.requests == []


# --- against the sandbox ----------------------------------------------------------------------------------------


def test_against_the_sandbox_warehouses_and_every_page_of_inventory(sandbox: SandboxSession) -> None:
    client = sandbox.client()
    assert client.get_fbt_onboarded_regions() == ["US"]
    (wh,) = client.get_fbt_warehouses()
    assert wh.subscribed
    assert wh.type == "PLATFORM_WAREHOUSE"
    first = client.search_fbt_inventory(page_size=2)
    assert len(first.items) == 2
    assert first.next_cursor
    rows = list(client.iter_fbt_inventory(page_size=2, fbt_warehouse_ids=[wh.fbt_warehouse_id]))
    assert len(rows) == first.total_count == 5
    assert len({r.goods_id for r in rows}) == 5
    for r in rows:
        assert r.fbt_warehouse_id == wh.fbt_warehouse_id
        assert r.total == r.available + r.reserved + r.unfulfillable
    stats = sandbox.control("GET", "/sandbox/stats")["apis"]["POST /fbt/202408/inventory/search"]
    assert stats["ok"] == 4  # one first page + three pages of two
    assert stats["business_errors"] == 0


def test_against_the_sandbox_a_changed_quantity_is_read_back(sandbox: SandboxSession) -> None:
    client = sandbox.client()
    (wh,) = client.get_fbt_warehouses()
    sku_id = next(r for r in client.iter_fbt_inventory() if r.skus).skus[0].sku_id
    sandbox.control(
        "POST",
        "/sandbox/fbt/inventory",
        json={"sku_id": sku_id, "fbt_warehouse_id": wh.fbt_warehouse_id, "available": 41, "reserved": 3},
    )
    (row,) = client.search_fbt_inventory(sku_ids=[sku_id]).items
    assert (row.available, row.reserved) == (41, 3)
    assert row.skus[0] == FbtSkuStock(sku_id=sku_id, total=44, available=41, reserved=3)


def test_against_the_sandbox_429s_are_retried(sandbox: SandboxSession) -> None:
    sandbox.control(
        "POST",
        "/sandbox/faults",
        json={"errors": [{"api": "GET /fbt/202408/warehouses", "code": 36009002, "http_status": 429, "next": 2}]},
    )
    client = sandbox.client(sleep=lambda s: None)
    assert len(client.get_fbt_warehouses()) == 1
    stats = sandbox.control("GET", "/sandbox/stats")["apis"]["GET /fbt/202408/warehouses"]
    assert stats["injected_429"] == 2
    assert stats["ok"] == 1
