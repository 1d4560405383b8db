"""The exact request the client sends (STYLE 11, first direction), and its envelope / retry / token policy.

Signatures are checked with an independent implementation: the README §1.1 Python reference, copied here.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest

from integrations.errors import PlatformAuthError, PlatformError, PlatformOutcomeUnknown
from integrations.interface import ShipPackageRequest, TimeSlot, Weight
from tests.integrations.tiktok.conftest import API, AUTH, envelope, make_tokens, payload

CIPHER = "GCP_XF90igAAAABh00qsWgtvOiGFNqyubMt3"


def tts_sign(app_secret: str, path: str, query: dict, body: bytes = b"", multipart: bool = False) -> str:
    # Verbatim from shared/platforms/tiktok-shop/README.md §1.1 — deliberately not the client's code.
    base = path + "".join(f"{k}{query[k]}" for k in sorted(query) if k not in ("sign", "access_token"))
    msg = app_secret.encode() + base.encode() + (b"" if multipart else body) + app_secret.encode()
    return hmac.new(app_secret.encode(), msg, hashlib.sha256).hexdigest()


def query_of(request: httpx.Request) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(str(request.url)).query, keep_blank_values=True))


def assert_signed(request: httpx.Request, secret: str = "e59af819cc") -> None:  # noqa: S107 - README test secret
    query = query_of(request)
    assert query["sign"] == tts_sign(secret, request.url.path, query, request.content)


def test_search_orders_request_is_exactly_v5(scripted_client) -> None:
    client, script = scripted_client(envelope(payload("get-order-list")["data"]))

    page = client.search_orders(
        order_status="AWAITING_SHIPMENT",
        update_time_ge=datetime.fromtimestamp(1700000000, tz=UTC),
        page_size=50,
        sort_field=None,
        sort_order=None,
    )

    (request,) = script.requests
    assert request.method == "POST"
    assert f"{request.url.scheme}://{request.url.host}" == API
    assert request.url.path == "/order/202309/orders/search"
    assert request.content == b'{"order_status":"AWAITING_SHIPMENT","update_time_ge":1700000000}'
    assert query_of(request) == {
        "app_key": "29a39d",
        "timestamp": "1700000100",
        "shop_cipher": CIPHER,
        "page_size": "50",
        # README vector V5: the same request signed by hand.
        "sign": "b38039eb22ed49149a1225347a65c5b1835569ecfdc33d8543c40538a5ddb797",
    }
    assert request.headers["x-tts-access-token"] == "TTP_x"
    assert request.headers["content-type"] == "application/json"
    assert "access_token" not in query_of(request)
    assert_signed(request)
    assert page.next_cursor == "6AsPQsUMvH3RkchNUPPh22NROHkE0D8pmq/N5M1kHYcZmtRyv9aVrNv65W7Q6tFA+7D1ud64MPNz5OaT"
    assert page.total_count == 22113
    assert page.orders()[0].order_id == "576461413038785752"


def test_paging_and_sorting_go_in_the_query_and_page_token_is_signed_raw(scripted_client) -> None:
    client, script = scripted_client(envelope({"orders": [], "total_count": 0, "next_page_token": ""}))
    token = "6AsPQsUMvH3Rk/N5M1k+HYcZ="

    page = client.search_orders(update_time_ge=datetime.fromtimestamp(1700000000, tz=UTC), page_token=token)

    (request,) = script.requests
    query = query_of(request)
    assert query["page_token"] == token  # decoded back from the URL encoding of + / =
    assert "%2F" in str(request.url) or "%2f" in str(request.url)
    assert (query["sort_field"], query["sort_order"], query["page_size"]) == ("update_time", "ASC", "100")
    assert request.content == b'{"update_time_ge":1700000000}'
    assert_signed(request)
    assert page.next_cursor is None


def test_get_orders_batches_fifty_ids_per_call_with_a_raw_comma_list(scripted_client) -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        ids = query_of(request)["ids"].split(",")
        return envelope({"orders": [{"id": i, "status": "AWAITING_SHIPMENT"} for i in ids]})

    client, script = scripted_client(answer)
    ids = [str(576461413038785752 + n) for n in range(120)]

    orders = client.get_orders([*ids, ids[0]])  # a duplicate is fetched once

    assert [len(query_of(r)["ids"].split(",")) for r in script.requests] == [50, 50, 20]
    assert all(r.method == "GET" and r.url.path == "/order/202507/orders" for r in script.requests)
    assert all(r.content == b"" and r.headers["content-type"] == "application/json" for r in script.requests)
    for request in script.requests:
        assert_signed(request)
    assert [o.order_id for o in orders] == ids


def test_authorized_shops_never_send_shop_cipher(scripted_client) -> None:
    client, script = scripted_client(envelope(payload("get-authorized-shops")["data"]))

    shops = client.get_authorized_shops()

    (request,) = script.requests
    assert request.url.path == "/authorization/202309/shops"
    assert set(query_of(request)) == {"app_key", "timestamp", "sign"}
    assert_signed(request)
    assert shops[0].settings == {"cipher": CIPHER}  # what the adapter keeps in TikTokShopSettings


def test_create_package_body_is_the_spec_shape(scripted_client) -> None:
    client, script = scripted_client(envelope(payload("create-packages")["data"]))

    label = client.create_package(
        "2882335594258860015",
        line_ids=["32132124331234"],
        weight=Weight(value=__import__("decimal").Decimal("1.20"), unit="POUND"),
        shipping_service_id="288233559123860015",
    )

    (request,) = script.requests
    assert (request.method, request.url.path) == ("POST", "/fulfillment/202309/packages")
    assert request.content == (
        b'{"order_id":"2882335594258860015","order_line_item_ids":["32132124331234"],'
        b'"weight":{"value":"1.20","unit":"POUND"},"shipping_service_id":"288233559123860015"}'
    )
    assert query_of(request)["shop_cipher"] == CIPHER
    assert_signed(request)
    assert label.package_id == "2882335594258860015"


def test_ship_and_batch_ship_bodies(scripted_client) -> None:
    client, script = scripted_client(envelope({}), envelope(payload("batch-ship-packages")["data"]))
    slot = TimeSlot(start=datetime.fromtimestamp(1623812664, tz=UTC), end=datetime.fromtimestamp(1623816264, tz=UTC))

    client.ship_package(
        ShipPackageRequest(package_id="1152321127278713123", handover_method="PICKUP", pickup_slot=slot)
    )
    results = client.batch_ship_packages(
        [ShipPackageRequest(package_id="123123123123131", handover_method="DROP_OFF"), ShipPackageRequest("777")]
    )

    ship, batch = script.requests
    assert ship.url.path == "/fulfillment/202309/packages/1152321127278713123/ship"
    assert ship.content == b'{"handover_method":"PICKUP","pickup_slot":{"start_time":1623812664,"end_time":1623816264}}'
    assert batch.url.path == "/fulfillment/202309/packages/ship"
    assert batch.content == b'{"packages":[{"id":"123123123123131","handover_method":"DROP_OFF"},{"id":"777"}]}'
    for request in script.requests:
        assert_signed(request)
    # Batch: per-item results, not an exception.
    assert [(r.item_id, r.ok, r.code) for r in results] == [("123123123123131", False, 10007014), ("777", True, None)]


def test_shipping_document_query_and_unsigned_download(scripted_client) -> None:
    doc = payload("get-package-shipping-document")["data"]
    client, script = scripted_client(envelope(doc), httpx.Response(200, content=b"%PDF-1.4 label"))

    document = client.get_shipping_document("1152321127278713123", document_size="A6")
    content = client.download_document(document.url)

    api_call, download = script.requests
    assert api_call.url.path == "/fulfillment/202309/packages/1152321127278713123/shipping_documents"
    assert query_of(api_call)["document_type"] == "SHIPPING_LABEL"
    assert query_of(api_call)["document_size"] == "A6"
    assert "document_format" not in query_of(api_call)  # empty params are never sent
    assert_signed(api_call)
    assert str(download.url) == doc["doc_url"]
    assert "x-tts-access-token" not in download.headers  # the token never goes to the CDN
    assert content == b"%PDF-1.4 label"
    assert document.tracking_number == "752455325694"


def test_event_api_put_and_delete_bodies(scripted_client) -> None:
    client, script = scripted_client(envelope({}))

    client.set_webhook("ORDER_STATUS_CHANGE", "https://hooks.dropline.example/tiktok")
    client.delete_webhook("ORDER_STATUS_CHANGE")

    put, delete = script.requests
    assert (put.method, put.url.path) == ("PUT", "/event/202309/webhooks")
    assert put.content == b'{"address":"https://hooks.dropline.example/tiktok","event_type":"ORDER_STATUS_CHANGE"}'
    assert (delete.method, delete.content) == ("DELETE", b'{"event_type":"ORDER_STATUS_CHANGE"}')
    for request in script.requests:
        assert_signed(request)


# --- envelope and errors ------------------------------------------------------------------------------------------


def test_business_error_is_a_platform_error_with_code_message_and_request_id(scripted_client) -> None:
    client, script = scripted_client(envelope(None, code=21011006, message="order already shipped"))

    with pytest.raises(PlatformError) as caught:
        client.get_eligible_shipping_services("576461413038785752")

    error = caught.value
    assert (error.platform, error.code, error.message, error.request_id) == (
        "tiktok",
        21011006,
        "order already shipped",
        "REQ123",
    )
    assert error.http_status == 200
    assert not error.retryable
    assert len(script.requests) == 1  # business errors are not retried


def test_reads_retry_429_503_and_internal_errors_with_growing_backoff(scripted_client, sleeps) -> None:
    client, script = scripted_client(
        envelope(None, code=36009002, message="Too many requests", status=429),
        envelope(None, code=36009003, message="Internal error", status=503),
        envelope(None, code=36009003, message="Internal error"),
        httpx.ReadTimeout("timed out"),
        envelope(payload("get-warehouse-list")["data"]),
    )

    warehouses = client.get_warehouses()

    assert len(script.requests) == 5
    assert sleeps[0] == 1.0  # the 429: one platform window, for every worker on this API and shop
    assert sleeps[1:] == sorted(sleeps[1:])
    assert len(sleeps) == 4
    assert warehouses[0].warehouse_id == "7000714532876273410"
    # Every retry is re-signed with a fresh timestamp-bearing query.
    for request in script.requests:
        assert_signed(request)


def test_retries_give_up_after_max_attempts_with_a_retryable_error(scripted_client) -> None:
    client, script = scripted_client(envelope(None, code=36009002, message="Too many requests", status=429))

    with pytest.raises(PlatformError) as caught:
        client.get_warehouses()

    assert caught.value.retryable
    assert caught.value.code == 36009002
    assert len(script.requests) == client.config.max_attempts


def test_purchase_is_retried_after_429_because_the_gateway_did_not_process_it(scripted_client) -> None:
    client, script = scripted_client(
        envelope(None, code=36009002, message="Too many requests", status=429),
        httpx.ConnectError("connection refused"),
        envelope(payload("create-packages")["data"]),
    )

    label = client.create_package("2882335594258860015")

    assert len(script.requests) == 3
    assert label.package_id == "2882335594258860015"


@pytest.mark.parametrize(
    "failure",
    [
        httpx.ReadTimeout("timed out"),
        httpx.RemoteProtocolError("Server disconnected without sending a response."),
        envelope(None, code=36009003, message="Internal error", status=503),
        envelope(None, code=36009003, message="Internal error"),
    ],
    ids=["read-timeout", "dropped", "503", "internal-error"],
)
@pytest.mark.chaos
def test_purchase_with_unknown_outcome_is_not_retried(scripted_client, failure) -> None:
    client, script = scripted_client(failure, envelope(payload("create-packages")["data"]))

    with pytest.raises(PlatformOutcomeUnknown) as caught:
        client.create_package("2882335594258860015")

    assert len(script.requests) == 1
    assert not caught.value.retryable


@pytest.mark.parametrize(
    "call",
    [
        lambda c: c.ship_package(ShipPackageRequest("1")),
        lambda c: c.batch_ship_packages([ShipPackageRequest("1")]),
        lambda c: c.mark_package_as_shipped("1", tracking_number="1Z", carrier_id="2"),
        lambda c: c.update_shipping_info("1", tracking_number="1Z", carrier_id="2"),
    ],
    ids=["ship", "batch-ship", "mark-shipped", "update-shipping-info"],
)
def test_every_shipping_write_is_unsafe(scripted_client, call) -> None:
    client, script = scripted_client(httpx.ReadTimeout("timed out"), envelope({}))

    with pytest.raises(PlatformOutcomeUnknown):
        call(client)
    assert len(script.requests) == 1


def test_update_inventory_is_idempotent_so_retried_and_reports_per_sku(scripted_client) -> None:
    from integrations.interface import InventoryUpdate, WarehouseQuantity

    client, script = scripted_client(httpx.ReadTimeout("timed out"), envelope(payload("update-inventory")["data"]))

    results = client.update_inventory(
        "1729592969712207008",
        [
            InventoryUpdate("1729592969712207013", (WarehouseQuantity("7068517275539719942", 999),)),
            InventoryUpdate("1729592969712207014", (WarehouseQuantity(None, 0),)),
        ],
    )

    assert len(script.requests) == 2
    assert script.requests[1].content == (
        b'{"skus":[{"id":"1729592969712207013","inventory":[{"quantity":999,"warehouse_id":"7068517275539719942"}]},'
        b'{"id":"1729592969712207014","inventory":[{"quantity":0}]}]}'
    )
    failed, ok = results
    assert (failed.ok, failed.code, failed.details[0].code, failed.details[0].ref) == (
        False,
        12052990,
        12052097,
        "7068517275539719942",
    )
    assert ok.ok


# --- tokens -------------------------------------------------------------------------------------------------------


def _token_answer(access: str) -> httpx.Response:
    return httpx.Response(
        200,
        json={
            "code": 0,
            "message": "success",
            "request_id": "AUTHREQ",
            "data": {
                "access_token": access,
                "access_token_expire_in": 1700604900,
                "refresh_token": "TTP_refresh2",
                "refresh_token_expire_in": 1731487031,
                "open_id": "7010736057180325637",
                "seller_name": "Jjj test shop",
                "seller_base_region": "US",
                "user_type": 0,
                "granted_scopes": ["seller.order.info"],
            },
        },
    )


def test_expired_token_is_refreshed_once_and_the_call_replayed(scripted_client) -> None:
    saved = []
    client, script = scripted_client(
        envelope(None, code=105002, message="Expired credentials"),
        _token_answer("TTP_new"),
        envelope(payload("get-warehouse-list")["data"]),
        on_tokens_refreshed=saved.append,
    )

    client.get_warehouses()

    first, refresh, replay = script.requests
    assert first.headers["x-tts-access-token"] == "TTP_x"
    assert str(refresh.url).startswith(AUTH + "/api/v2/token/refresh?")
    assert query_of(refresh) == {
        "app_key": "29a39d",
        "app_secret": "e59af819cc",
        "refresh_token": "TTP_refresh",
        "grant_type": "refresh_token",
    }
    assert replay.headers["x-tts-access-token"] == "TTP_new"
    assert_signed(replay)
    assert [t.access_token for t in saved] == ["TTP_new"]
    assert saved[0].access_token_expires_at == datetime.fromtimestamp(1700604900, tz=UTC)  # absolute epoch
    assert client.tokens.refresh_token == "TTP_refresh2"


def test_a_second_expired_token_after_refresh_is_an_error_not_a_loop(scripted_client) -> None:
    client, script = scripted_client(
        envelope(None, code=105002, message="Expired credentials"),
        _token_answer("TTP_new"),
        envelope(None, code=105002, message="Expired credentials"),
    )

    with pytest.raises(PlatformAuthError) as caught:
        client.get_warehouses()

    assert caught.value.code == 105002
    assert len(script.requests) == 3  # call, refresh, one replay


def test_token_expiring_within_the_margin_is_refreshed_before_the_call(scripted_client) -> None:
    saved = []
    client, script = scripted_client(
        _token_answer("TTP_new"),
        envelope(payload("get-warehouse-list")["data"]),
        tokens=make_tokens(expires_in=60, now=1700000100),
        on_tokens_refreshed=saved.append,
    )

    client.get_warehouses()

    refresh, call = script.requests
    assert refresh.url.path == "/api/v2/token/refresh"
    assert call.headers["x-tts-access-token"] == "TTP_new"
    assert len(saved) == 1


def test_authorization_url_and_code_exchange() -> None:
    from integrations.tiktok.oauth import TikTokAuth
    from tests.integrations.tiktok.conftest import Scripted, make_config

    script = Scripted([_token_answer("TTP_first")])
    auth = TikTokAuth(make_config(), script.client())

    url = auth.authorization_url("st-123")
    tokens = auth.exchange_code("FeBoANmHP3yqdoUI9fZOCw")

    assert url == "https://services.us.tiktokshop.com/open/authorize?service_id=7000000000000000001&state=st-123"
    (request,) = script.requests
    assert request.url.path == "/api/v2/token/get"
    assert query_of(request) == {
        "app_key": "29a39d",
        "app_secret": "e59af819cc",
        "auth_code": "FeBoANmHP3yqdoUI9fZOCw",
        "grant_type": "authorized_code",
    }
    assert "sign" not in query_of(request)  # the auth host is unsigned
    assert tokens.access_token == "TTP_first"
    assert tokens.granted_scopes == ("seller.order.info",)
