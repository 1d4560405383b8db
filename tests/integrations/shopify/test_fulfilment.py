"""Reporting a seller-shipped parcel (notes §4): fulfillment orders read first, one fulfillmentCreate per location,
exactly once (a repeat is ALREADY_DONE, a lost answer PlatformOutcomeUnknown), refusals with a fix."""

from __future__ import annotations

from typing import Any

import pytest

from integrations.errors import ErrorKind, PlatformError, PlatformOutcomeUnknown
from integrations.interface import OrderStatus
from tests.integrations.shopify.conftest import SHOP, Sandbox

TRACKING = "1Z999AA10123456784"


def _numeric(gid: str) -> str:
    return gid.rsplit("/", 1)[-1]


def _place(sandbox: Sandbox, lines: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    placed = sandbox.control("POST", "/sandbox/orders", json={"shop": SHOP, "lines": lines, **extra})
    return sandbox.control("GET", f"/sandbox/orders/{_numeric(placed['id'])}")


def _fulfillments(sandbox: Sandbox, order: dict[str, Any]) -> list[dict[str, Any]]:
    return sandbox.control("GET", f"/sandbox/orders/{_numeric(order['id'])}/fulfillments")["fulfillments"]


def test_every_line_still_to_ship_is_fulfilled_with_the_tracking(sandbox: Sandbox, tokens: Any) -> None:
    order = _place(
        sandbox, [{"sku": "YOGA-PUR", "quantity": 2}, {"sku": "LED-WHT", "quantity": 1}], location="Main Warehouse"
    )
    order_id = _numeric(order["id"])
    channel = sandbox.channel(tokens)

    shipment = channel.report_shipment(order_id, line_ids=(), carrier_id="UPS", tracking_number=TRACKING)

    (read,) = sandbox.recorder.graphql("DroplineFulfillmentOrders")
    assert read["variables"] == {"id": order["id"], "after": None}
    (create,) = sandbox.recorder.graphql("DroplineFulfillmentCreate")
    (fo,) = order["fulfillment_orders"]
    assert create["variables"] == {
        "fulfillment": {
            "lineItemsByFulfillmentOrder": [
                {
                    "fulfillmentOrderId": fo["id"],
                    "fulfillmentOrderLineItems": [
                        {"id": line["id"], "quantity": line["remaining_quantity"]} for line in fo["line_items"]
                    ],
                }
            ],
            "notifyCustomer": True,
            "trackingInfo": {"company": "UPS", "number": TRACKING},
        }
    }
    (made,) = _fulfillments(sandbox, order)
    assert shipment.order_id == order_id
    assert shipment.package_id == _numeric(made["id"])
    assert sorted(shipment.line_ids) == sorted(_numeric(line["line_item_id"]) for line in order["lines"])
    assert shipment.warning == ""
    assert made["tracking"][0]["number"] == TRACKING
    assert made["tracking"][0]["company"] == "UPS"
    assert made["notify_customer"] is True
    # The order as the core reads it afterwards: every line in that package.
    (after,) = channel.get_orders([order_id])
    assert after.status == OrderStatus.IN_TRANSIT
    assert {(line.package_id, line.package_status, line.tracking_number) for line in after.lines} == {
        (shipment.package_id, "COMPLETED", TRACKING)
    }


def test_reporting_the_same_parcel_again_is_already_done(sandbox: Sandbox, tokens: Any) -> None:
    order = _place(sandbox, [{"sku": "CAST-12IN", "quantity": 1}])
    channel = sandbox.channel(tokens)
    channel.report_shipment(_numeric(order["id"]), line_ids=(), carrier_id="UPS", tracking_number=TRACKING)
    sandbox.recorder.clear()

    with pytest.raises(PlatformError) as done:
        channel.report_shipment(_numeric(order["id"]), line_ids=(), carrier_id="UPS", tracking_number=TRACKING)

    assert (done.value.code, done.value.kind) == ("already_shipped", ErrorKind.ALREADY_DONE)
    assert sandbox.recorder.graphql("DroplineFulfillmentCreate") == []  # looked, never wrote
    assert len(_fulfillments(sandbox, order)) == 1


def test_only_the_lines_named_are_fulfilled(sandbox: Sandbox, tokens: Any) -> None:
    order = _place(
        sandbox, [{"sku": "YOGA-PUR", "quantity": 2}, {"sku": "LED-WHT", "quantity": 1}], location="Main Warehouse"
    )
    yoga = next(line for line in order["lines"] if line["sku"] == "YOGA-PUR")

    shipment = sandbox.channel(tokens).report_shipment(
        _numeric(order["id"]),
        line_ids=[_numeric(yoga["line_item_id"])],
        carrier_id="USPS",
        tracking_number="9400100000000000000001",
    )

    (create,) = sandbox.recorder.graphql("DroplineFulfillmentCreate")
    (group,) = create["variables"]["fulfillment"]["lineItemsByFulfillmentOrder"]
    assert group["fulfillmentOrderLineItems"] == [{"id": yoga["fulfillment_order_line_item_id"], "quantity": 2}]
    assert shipment.line_ids == (_numeric(yoga["line_item_id"]),)


def test_one_fulfillment_per_location(sandbox: Sandbox, tokens: Any) -> None:
    order = _place(
        sandbox,
        [{"sku": "YOGA-PUR", "location": "Main Warehouse"}, {"sku": "LED-WHT", "location": "West Coast DC"}],
    )
    assert len(order["fulfillment_orders"]) == 2

    shipment = sandbox.channel(tokens).report_shipment(
        _numeric(order["id"]), line_ids=(), carrier_id="FedEx", tracking_number="449044304137821"
    )

    creates = sandbox.recorder.graphql("DroplineFulfillmentCreate")
    assert len(creates) == 2
    assert {len(c["variables"]["fulfillment"]["lineItemsByFulfillmentOrder"]) for c in creates} == {1}
    made = _fulfillments(sandbox, order)
    assert len(made) == 2
    assert shipment.package_id == _numeric(made[0]["id"])
    assert "2 fulfillments" in shipment.warning


def test_a_parcel_half_reported_before_a_lost_answer_is_finished(
    sandbox: Sandbox, tokens: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first location's fulfillment went through, the second's answer was lost: looking again finds the tracking
    on one fulfillment and the other location still to fulfil, and fulfils it under the same tracking."""
    order = _place(
        sandbox,
        [{"sku": "YOGA-PUR", "location": "Main Warehouse"}, {"sku": "LED-WHT", "location": "West Coast DC"}],
    )
    order_id = _numeric(order["id"])
    channel = sandbox.channel(tokens)
    create = channel.client.fulfillment_create
    calls: list[str] = []

    def second_lost(fulfillment: Any) -> str:
        calls.append("sent")
        if len(calls) == 2:  # the connection dropped before Shopify applied it
            raise PlatformOutcomeUnknown("shopify", "transport", "RemoteProtocolError after the request was sent")
        return create(fulfillment)

    monkeypatch.setattr(channel.client, "fulfillment_create", second_lost)
    with pytest.raises(PlatformOutcomeUnknown):
        channel.report_shipment(order_id, line_ids=(), carrier_id="FedEx", tracking_number="449044304137821")
    assert len(_fulfillments(sandbox, order)) == 1
    assert len(_fulfillments(sandbox, order)) == 1

    channel.report_shipment(order_id, line_ids=(), carrier_id="FedEx", tracking_number="449044304137821")

    made = _fulfillments(sandbox, order)
    assert len(made) == 2
    assert {m["tracking"][0]["number"] for m in made} == {"449044304137821"}


def test_a_lost_answer_is_outcome_unknown_and_never_resent(sandbox: Sandbox, tokens: Any) -> None:
    order = _place(sandbox, [{"sku": "CAST-12IN", "quantity": 1}])
    order_id = _numeric(order["id"])
    channel = sandbox.channel(tokens)
    sandbox.control(
        "POST", "/sandbox/faults", json={"drop_response_after_commit": [{"api": "fulfillmentCreate", "next": 1}]}
    )

    with pytest.raises(PlatformOutcomeUnknown) as unknown:
        channel.report_shipment(order_id, line_ids=(), carrier_id="UPS", tracking_number=TRACKING)

    assert unknown.value.kind == ErrorKind.OUTCOME_UNKNOWN
    creates = [r for r in sandbox.recorder.requests if b"DroplineFulfillmentCreate" in r.content]
    assert len(creates) == 1  # the transport did not resend it
    assert len(_fulfillments(sandbox, order)) == 1  # it did happen
    # The core's next step: look, then adopt.
    with pytest.raises(PlatformError) as done:
        channel.report_shipment(order_id, line_ids=(), carrier_id="UPS", tracking_number=TRACKING)
    assert done.value.kind == ErrorKind.ALREADY_DONE
    (seen,) = channel.get_orders([order_id])
    assert all(line.package_status == "COMPLETED" and line.package_id for line in seen.lines)


def test_a_server_error_after_sending_is_outcome_unknown(sandbox: Sandbox, tokens: Any) -> None:
    order = _place(sandbox, [{"sku": "CAST-12IN", "quantity": 1}])
    sandbox.control(
        "POST", "/sandbox/faults", json={"errors": [{"api": "fulfillmentCreate", "http_status": 502, "next": 1}]}
    )

    with pytest.raises(PlatformOutcomeUnknown) as unknown:
        sandbox.channel(tokens).report_shipment(
            _numeric(order["id"]), line_ids=(), carrier_id="UPS", tracking_number=TRACKING
        )

    assert unknown.value.http_status == 502
    (answer,) = sandbox.recorder.answers("DroplineFulfillmentCreate")
    assert unknown.value.request_id == answer.headers["x-request-id"]  # kept for Shopify support
    assert len(sandbox.recorder.graphql("DroplineFulfillmentCreate")) == 1


def test_an_order_on_hold_is_not_shippable_yet(sandbox: Sandbox, tokens: Any) -> None:
    order = _place(sandbox, [{"sku": "CAST-12IN", "quantity": 1}], state="on_hold")

    with pytest.raises(PlatformError) as refused:
        sandbox.channel(tokens).report_shipment(
            _numeric(order["id"]), line_ids=(), carrier_id="UPS", tracking_number=TRACKING
        )

    assert (refused.value.code, refused.value.kind) == ("on_hold", ErrorKind.NOT_SHIPPABLE_YET)
    assert "Release hold" in refused.value.fix
    assert sandbox.recorder.graphql("DroplineFulfillmentCreate") == []


def test_a_cancelled_order_is_not_shippable(sandbox: Sandbox, tokens: Any) -> None:
    order = _place(sandbox, [{"sku": "CAST-12IN", "quantity": 1}], state="cancelled")
    with pytest.raises(PlatformError) as refused:
        sandbox.channel(tokens).report_shipment(
            _numeric(order["id"]), line_ids=(), carrier_id="UPS", tracking_number=TRACKING
        )
    assert refused.value.kind == ErrorKind.NOT_SHIPPABLE


def test_an_unknown_order_or_line(sandbox: Sandbox, tokens: Any) -> None:
    channel = sandbox.channel(tokens)
    with pytest.raises(PlatformError) as missing:
        channel.report_shipment("999", line_ids=(), carrier_id="UPS", tracking_number=TRACKING)
    assert missing.value.kind == ErrorKind.NOT_FOUND
    order = _place(sandbox, [{"sku": "CAST-12IN", "quantity": 1}])
    with pytest.raises(PlatformError) as unknown_line:
        channel.report_shipment(_numeric(order["id"]), line_ids=["1"], carrier_id="UPS", tracking_number=TRACKING)
    assert unknown_line.value.kind == ErrorKind.INVALID


def test_a_user_error_comes_back_with_shopifys_words_and_a_fix(
    sandbox: Sandbox, tokens: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The merchant put the order on hold between Dropline's read and its fulfillmentCreate: Shopify refuses with a
    userError in an HTTP 200."""
    order = _place(sandbox, [{"sku": "CAST-12IN", "quantity": 1}])
    channel = sandbox.channel(tokens)
    before = channel.client.fulfillment_orders(_numeric(order["id"]))
    sandbox.control(
        "POST", f"/sandbox/fulfillment-orders/{_numeric(order['fulfillment_orders'][0]['id'])}/hold", json={}
    )
    monkeypatch.setattr(channel.client, "fulfillment_orders", lambda order_id: before)

    with pytest.raises(PlatformError) as refused:
        channel.report_shipment(_numeric(order["id"]), line_ids=(), carrier_id="UPS", tracking_number=TRACKING)

    (answer,) = sandbox.recorder.answers("DroplineFulfillmentCreate")
    (user_error,) = answer.json()["data"]["fulfillmentCreate"]["userErrors"]
    assert answer.status_code == 200
    assert refused.value.code == "user_error"
    assert refused.value.message == user_error["message"]
    assert refused.value.kind == ErrorKind.NOT_SHIPPABLE_YET
    assert "Release hold" in refused.value.fix


def test_notify_customer_follows_the_store_setting(sandbox: Sandbox, tokens: Any) -> None:
    order = _place(sandbox, [{"sku": "CAST-12IN", "quantity": 1}])
    sandbox.channel(tokens, notify_customer=False).report_shipment(
        _numeric(order["id"]), line_ids=(), carrier_id="UPS", tracking_number=TRACKING
    )
    (create,) = sandbox.recorder.graphql("DroplineFulfillmentCreate")
    assert create["variables"]["fulfillment"]["notifyCustomer"] is False
    assert _fulfillments(sandbox, order)[0]["notify_customer"] is False


def test_the_carriers_are_shopifys_tracking_companies(sandbox: Sandbox, tokens: Any) -> None:
    carriers = sandbox.channel(tokens).list_shipment_carriers(delivery_option_id="")
    names = [c.name for c in carriers]
    assert {"UPS", "USPS", "FedEx", "DHL Express", "Canada Post", "Royal Mail"} <= set(names)
    assert all(c.provider_id == c.name for c in carriers)
    assert sandbox.recorder.requests == []  # a fixed list: nothing asked
