"""Returns, refunds and replacements in the sandbox: the buyer's request, the seller's decisions (with reasons, exactly
once), the return parcel's way back, the deadlines on the sandbox clock, and webhook 12 with its envelope."""

from __future__ import annotations

from sandboxes.tiktok.aftersale import (
    ARBITRATION_SECONDS,
    BUYER_SHIP_SECONDS,
    REFUND_SECONDS,
    REPLACEMENT_RESPONSE_SECONDS,
    RETURN_TRANSIT_SECONDS,
    SELLER_RESPONSE_SECONDS,
)
from tests.sandboxes.tiktok.aftersale_support import RR, Hooks, code, event, keep_token_alive, pick, state
from tests.sandboxes.tiktok.conftest import Api

WEBHOOK_12_FIELDS = {
    "order_id",
    "return_role",
    "return_type",
    "return_status",
    "return_id",
    "create_time",
    "update_time",
}


def _request(
    api: Api, return_type: str, status: str | tuple[str, ...] = "DELIVERED", **body: object
) -> tuple[str, str]:
    o = pick(api, status=status)
    r = event(api, o.id, "return_request", return_type=return_type, **body)
    assert r.status_code == 200, r.text
    return o.id, state(api, o.id)["returns"][-1]["id"]


def _one(api: Api, return_id: str) -> dict:
    found = api.ok("POST", f"{RR}/returns/search", {}, {"return_ids": [return_id]})
    assert found["total_count"] == 1
    data: dict = found["return_orders"][0]
    return data


def _approve(api: Api, return_id: str, decision: str, **body: object) -> dict:
    return api.ok("POST", f"{RR}/returns/{return_id}/approve", {}, {"decision": decision, **body})


def _reject(api: Api, return_id: str, decision: str, reason: str) -> dict:
    return api.ok("POST", f"{RR}/returns/{return_id}/reject", {}, {"decision": decision, "reject_reason": reason})


def test_a_refund_request_is_announced_searched_approved_and_refunded(api: Api) -> None:
    hooks = Hooks(api)
    order_id, return_id = _request(api, "REFUND", reason="ecom_order_delivered_refund_reason_damaged")
    (push,) = hooks.of(12, order_id)
    assert set(push) == {"type", "tts_notification_id", "shop_id", "timestamp", "data"}
    assert set(push["data"]) == WEBHOOK_12_FIELDS
    assert push["data"]["return_status"] == "RETURN_OR_REFUND_REQUEST_PENDING"
    assert (push["data"]["return_role"], push["data"]["return_type"]) == ("BUYER", "REFUND")
    r = _one(api, return_id)
    assert (r["order_id"], r["return_type"], r["return_status"], r["role"]) == (
        order_id,
        "REFUND",
        "RETURN_OR_REFUND_REQUEST_PENDING",
        "BUYER",
    )
    assert (r["return_reason"], r["return_reason_text"]) == (
        "ecom_order_delivered_refund_reason_damaged",
        "Damaged item or packaging",
    )
    assert r["seller_next_action_response"] == [
        {"action": "SELLER_RESPOND_REFUND", "deadline": r["create_time"] + SELLER_RESPONSE_SECONDS}
    ]
    o = api.sb.world.orders[order_id]
    assert [li["order_line_item_id"] for li in r["return_line_items"]] == [li.id for li in o.line_items]
    assert set(r["refund_amount"]) >= {
        "currency",
        "refund_total",
        "refund_subtotal",
        "refund_shipping_fee",
        "refund_tax",
    }
    assert _approve(api, return_id, "APPROVE_REFUND") == {}
    assert _one(api, return_id)["return_status"] == "RETURN_OR_REFUND_REQUEST_SUCCESS"
    again = api.call("POST", f"{RR}/returns/{return_id}/approve", {}, {"decision": "APPROVE_REFUND"})
    assert code(again) == 25011012
    api.sb.clock.advance(REFUND_SECONDS)
    statuses = [p["data"]["return_status"] for p in hooks.of(12, order_id)]
    assert statuses == [
        "RETURN_OR_REFUND_REQUEST_PENDING",
        "RETURN_OR_REFUND_REQUEST_SUCCESS",
        "RETURN_OR_REFUND_REQUEST_COMPLETE",
    ]


def test_return_and_refund_goes_back_to_the_warehouse_before_the_refund(api: Api) -> None:
    hooks = Hooks(api)
    order_id, return_id = _request(api, "RETURN_AND_REFUND")
    assert _one(api, return_id)["seller_next_action_response"][0]["action"] == "SELLER_RESPOND_RETURN"
    wrong = api.call("POST", f"{RR}/returns/{return_id}/approve", {}, {"decision": "APPROVE_REFUND"})
    assert code(wrong) == 25020004
    _approve(api, return_id, "APPROVE_RETURN")
    r = _one(api, return_id)
    assert r["return_status"] == "AWAITING_BUYER_SHIP"
    assert r["seller_next_action_response"] == []
    assert (r["shipment_type"], r["handover_method"], r["return_method"]) == (
        "PLATFORM",
        "DROP_OFF",
        "PLATFORM_SHIPPED",
    )
    assert r["return_warehouse_address"]["full_address"]
    assert (
        code(
            api.call(
                "POST",
                f"{RR}/returns/{return_id}/reject",
                {},
                {"decision": "REJECT_RETURN", "reject_reason": "reverse_reject_request_reason_1"},
            )
        )
        == 25020010
    )
    assert event(api, order_id, "return_shipped", tracking_number="9400111899223100012345").status_code == 200
    r = _one(api, return_id)
    assert r["return_status"] == "BUYER_SHIPPED_ITEM"
    assert (r["return_tracking_number"], r["return_provider_name"]) == ("9400111899223100012345", "USPS")
    # Not at the warehouse yet: nothing to approve or reject about the parcel.
    early = api.call("POST", f"{RR}/returns/{return_id}/approve", {}, {"decision": "APPROVE_RECEIVED_PACKAGE"})
    assert code(early) == 25011013
    early_reject = api.call(
        "POST",
        f"{RR}/returns/{return_id}/reject",
        {},
        {"decision": "REJECT_RECEIVED_PACKAGE", "reject_reason": "reverse_reject_return_parcel_reason_1"},
    )
    assert code(early_reject) == 25011035
    assert event(api, order_id, "return_received").status_code == 200
    r = _one(api, return_id)
    assert r["seller_next_action_response"][0]["action"] == "SELLER_RESPOND_RECEIVE_PACKAGE"
    reasons = api.ok("GET", f"{RR}/reject_reasons", {"return_or_cancel_id": return_id})["reasons"]
    assert "reverse_reject_return_parcel_reason_1" in [x["name"] for x in reasons]
    _approve(api, return_id, "APPROVE_RECEIVED_PACKAGE")
    api.sb.clock.advance(REFUND_SECONDS)
    statuses = [p["data"]["return_status"] for p in hooks.of(12, order_id)]
    assert statuses == [
        "RETURN_OR_REFUND_REQUEST_PENDING",
        "AWAITING_BUYER_SHIP",
        "BUYER_SHIPPED_ITEM",
        "RETURN_OR_REFUND_REQUEST_SUCCESS",
        "RETURN_OR_REFUND_REQUEST_COMPLETE",
    ]
    records = api.ok("GET", f"{RR}/returns/{return_id}/records")["records"]
    assert len(records) >= 5
    assert all(rec["event"] == "ORDER_RETURN" and rec["role"] in ("BUYER", "SELLER", "SYSTEM") for rec in records)
    assert all(isinstance(rec["create_time"], int) and rec["description"] for rec in records)
    assert [rec["create_time"] for rec in records] == sorted(rec["create_time"] for rec in records)


def test_rejecting_with_a_reason_and_the_request_closes_without_arbitration(api: Api) -> None:
    hooks = Hooks(api)
    api.sb.clock.freeze()
    keep_token_alive(api)
    order_id, return_id = _request(api, "RETURN_AND_REFUND")
    reasons = [x["name"] for x in api.ok("GET", f"{RR}/reject_reasons", {"return_or_cancel_id": return_id})["reasons"]]
    assert "reverse_reject_request_reason_2" in reasons
    assert "reverse_reject_return_parcel_reason_1" not in reasons
    bad = [("no_such_reason", 25001014), ("seller_reject_apply_product_has_been_packed", 25001016)]
    for reason, expected in bad:
        r = api.call(
            "POST", f"{RR}/returns/{return_id}/reject", {}, {"decision": "REJECT_RETURN", "reject_reason": reason}
        )
        assert code(r) == expected, reason
    mismatch = api.call(
        "POST",
        f"{RR}/returns/{return_id}/reject",
        {},
        {"decision": "REJECT_REFUND", "reject_reason": "reverse_reject_request_reason_2"},
    )
    assert code(mismatch) == 25020004
    _reject(api, return_id, "REJECT_RETURN", "reverse_reject_request_reason_2")
    assert _one(api, return_id)["return_status"] == "REFUND_OR_RETURN_REQUEST_REJECT"
    assert code(api.call("POST", f"{RR}/returns/{return_id}/approve", {}, {"decision": "APPROVE_RETURN"})) == 25011012
    again = api.call(
        "POST",
        f"{RR}/returns/{return_id}/reject",
        {},
        {"decision": "REJECT_RETURN", "reject_reason": "reverse_reject_request_reason_2"},
    )
    assert code(again) == 25011011
    api.sb.clock.advance(ARBITRATION_SECONDS)
    assert _one(api, return_id)["return_status"] == "RETURN_OR_REFUND_REQUEST_CANCEL"
    last = hooks.of(12, order_id)[-1]["data"]
    assert (last["return_status"], last["return_role"]) == ("RETURN_OR_REFUND_REQUEST_CANCEL", "SYSTEM")


def test_the_platform_decides_when_the_seller_does_not_and_closes_unshipped_returns(api: Api) -> None:
    api.sb.clock.freeze()
    keep_token_alive(api)
    _, refund_id = _request(api, "REFUND")
    _, return_id = _request(api, "RETURN_AND_REFUND")
    api.sb.clock.advance(SELLER_RESPONSE_SECONDS - 1)
    assert _one(api, refund_id)["return_status"] == "RETURN_OR_REFUND_REQUEST_PENDING"
    api.sb.clock.advance(1)
    assert _one(api, refund_id)["return_status"] == "RETURN_OR_REFUND_REQUEST_SUCCESS"
    assert _one(api, return_id)["return_status"] == "AWAITING_BUYER_SHIP"
    api.sb.clock.advance(BUYER_SHIP_SECONDS)
    assert _one(api, return_id)["return_status"] == "RETURN_OR_REFUND_REQUEST_CANCEL"


def test_a_shipped_return_arrives_by_itself_and_is_refunded_at_the_deadline(api: Api) -> None:
    api.sb.clock.freeze()
    order_id, return_id = _request(api, "RETURN_AND_REFUND")
    _approve(api, return_id, "APPROVE_RETURN")
    event(api, order_id, "return_shipped")
    api.sb.clock.advance(RETURN_TRANSIT_SECONDS)
    assert _one(api, return_id)["seller_next_action_response"][0]["action"] == "SELLER_RESPOND_RECEIVE_PACKAGE"
    api.sb.clock.advance(SELLER_RESPONSE_SECONDS)
    assert _one(api, return_id)["return_status"] == "RETURN_OR_REFUND_REQUEST_SUCCESS"


def test_rejecting_the_received_parcel(api: Api) -> None:
    order_id, return_id = _request(api, "RETURN_AND_REFUND")
    _approve(api, return_id, "APPROVE_RETURN")
    event(api, order_id, "return_shipped")
    event(api, order_id, "return_received")
    _reject(api, return_id, "REJECT_RECEIVED_PACKAGE", "reverse_reject_return_parcel_reason_5")
    assert _one(api, return_id)["return_status"] == "REJECT_RECEIVE_PACKAGE"
    again = api.call(
        "POST",
        f"{RR}/returns/{return_id}/reject",
        {},
        {"decision": "REJECT_RECEIVED_PACKAGE", "reject_reason": "reverse_reject_return_parcel_reason_5"},
    )
    assert code(again) == 25020012


def test_replacement_requests_have_24_hours_and_three_answers(api: Api) -> None:
    hooks = Hooks(api)
    order_id, first = _request(api, "REPLACEMENT")
    r = _one(api, first)
    assert r["return_status"] == "REPLACEMENT_REQUEST_PENDING"
    assert r["seller_next_action_response"] == [
        {"action": "SELLER_RESPOND_REPLACEMENT", "deadline": r["create_time"] + REPLACEMENT_RESPONSE_SECONDS}
    ]
    assert code(api.call("POST", f"{RR}/returns/{first}/approve", {}, {"decision": "APPROVE_RETURN"})) == 25020004
    _approve(api, first, "APPROVE_REPLACEMENT")
    assert _one(api, first)["return_status"] == "REPLACEMENT_REQUEST_COMPLETE"
    assert hooks.of(12, order_id)[-1]["data"]["return_type"] == "REPLACEMENT"
    _, second = _request(api, "REPLACEMENT")
    _approve(api, second, "ISSUE_REPLACEMENT_REFUND")
    assert _one(api, second)["return_status"] == "REPLACEMENT_REQUEST_REFUND_SUCCESS"
    _, third = _request(api, "REPLACEMENT")
    _reject(api, third, "REJECT_REPLACEMENT", "reverse_reject_request_reason_1")
    assert _one(api, third)["return_status"] == "REPLACEMENT_REQUEST_REJECT"


def test_the_buyer_cancels_a_request_and_decisions_on_it_are_refused(api: Api) -> None:
    hooks = Hooks(api)
    order_id, return_id = _request(api, "REFUND")
    assert event(api, order_id, "return_cancel").status_code == 200
    assert _one(api, return_id)["return_status"] == "RETURN_OR_REFUND_REQUEST_CANCEL"
    assert hooks.of(12, order_id)[-1]["data"]["return_role"] == "BUYER"
    assert code(api.call("POST", f"{RR}/returns/{return_id}/approve", {}, {"decision": "APPROVE_REFUND"})) == 25020009
    assert event(api, order_id, "return_cancel").status_code == 409


def test_buyer_requests_follow_the_order_status_policy(api: Api) -> None:
    waiting = pick(api, status="AWAITING_SHIPMENT")
    assert event(api, waiting.id, "return_request", return_type="REFUND").status_code == 409
    in_transit = pick(api, status="IN_TRANSIT")
    assert event(api, in_transit.id, "return_request", return_type="RETURN_AND_REFUND").status_code == 409
    assert event(api, in_transit.id, "return_request", return_type="REFUND").status_code == 200
    assert event(api, in_transit.id, "return_request", return_type="REFUND").status_code == 409  # one open at a time


def test_partial_refund_offer_and_the_buyers_answer(api: Api) -> None:
    order_id, return_id = _request(api, "REFUND")
    too_much = api.call(
        "POST",
        f"{RR}/returns/{return_id}/approve",
        {},
        {"decision": "OFFER_PARTIAL_REFUND", "partial_refund": {"currency": "USD", "amount": "99999"}},
    )
    assert code(too_much) == 25001001
    _approve(api, return_id, "OFFER_PARTIAL_REFUND", partial_refund={"currency": "USD", "amount": "1.50"})
    r = _one(api, return_id)
    assert r["return_status"] == "AWAITING_BUYER_RESPONSE"
    assert (r["seller_proposed_return_type"], r["partial_refund"]) == (
        "PARTIAL_REFUND",
        {"currency": "USD", "amount": "1.50"},
    )
    assert (
        api.ok(
            "POST",
            f"{RR}/returns/search",
            {},
            {"seller_proposed_return_type": ["PARTIAL_REFUND"], "return_ids": [return_id]},
        )["total_count"]
        == 1
    )
    event(api, order_id, "partial_refund_response", accept=True)
    r = _one(api, return_id)
    assert (r["return_status"], r["refund_amount"]["refund_total"], r["buyer_rejected_partial_refund"]) == (
        "RETURN_OR_REFUND_REQUEST_SUCCESS",
        "1.50",
        False,
    )


def test_search_returns_filters_and_pages(api: Api) -> None:
    ids = [_request(api, "REFUND", ("DELIVERED", "IN_TRANSIT", "AWAITING_COLLECTION"))[1] for _ in range(11)]
    page1 = api.ok("POST", f"{RR}/returns/search", {"page_size": "10"}, {"return_ids": ids})
    assert page1["total_count"] == 11
    assert len(page1["return_orders"]) == 10
    assert page1["next_page_token"]
    page2 = api.ok(
        "POST", f"{RR}/returns/search", {"page_size": "10", "page_token": page1["next_page_token"]}, {"return_ids": ids}
    )
    assert [r["return_id"] for r in page1["return_orders"] + page2["return_orders"]] == ids
    newest_first = api.ok(
        "POST", f"{RR}/returns/search", {"sort_order": "DESC", "page_size": "50"}, {"return_ids": ids}
    )
    assert [r["return_id"] for r in newest_first["return_orders"]] == ids[::-1]
    none = api.ok("POST", f"{RR}/returns/search", {}, {"return_ids": ids, "return_types": ["REPLACEMENT"]})
    assert none["total_count"] == 0
    for query, body in (
        ({"page_size": "9"}, {}),
        ({"page_size": "51"}, {}),
        ({}, {"return_status": ["LOST"]}),
        ({}, {"return_types": "REFUND"}),
    ):
        assert code(api.call("POST", f"{RR}/returns/search", query, body)) == 25001001, (query, body)


def test_calculate_refund(api: Api) -> None:
    o = pick(api, status="DELIVERED")
    body = {
        "order_id": o.id,
        "request_type": "REFUND",
        "reason_name": "ecom_order_delivered_refund_reason_missing_product_seller",
    }
    amount = api.ok("POST", f"{RR}/refunds/calculate", {}, body)["order_refund_amount"]
    assert set(amount) == {
        "currency",
        "refund_total",
        "refund_subtotal",
        "refund_shipping_fee",
        "refund_tax",
        "retail_delivery_fee",
    }
    subtotal = sum(float(li.sale_price) for li in o.line_items)
    assert float(amount["refund_subtotal"]) == round(subtotal, 2)
    assert float(amount["refund_total"]) == round(
        subtotal + float(amount["refund_tax"]) + float(amount["refund_shipping_fee"]), 2
    )
    one = api.ok("POST", f"{RR}/refunds/calculate", {}, {**body, "order_line_item_ids": [o.line_items[0].id]})
    assert float(one["order_refund_amount"]["refund_subtotal"]) == float(o.line_items[0].sale_price)
    assert code(api.call("POST", f"{RR}/refunds/calculate", {}, {**body, "request_type": "EXCHANGE"})) == 25001001
    assert code(api.call("POST", f"{RR}/refunds/calculate", {}, {**body, "order_id": "576461999999999999"})) == 25007006


def test_aftersale_eligibility_follows_the_policy_table(api: Api) -> None:
    def rows(order_id: str, user: str = "SELLER") -> dict[str, dict]:
        data = api.ok("GET", f"{RR}/orders/{order_id}/aftersale_eligibility", {"initiate_aftersale_user": user})
        return {row["request_type"]: row for sku in data["sku_eligibility"] for row in sku["line_item_eligibility"]}

    waiting = pick(api, status="AWAITING_SHIPMENT")
    r = rows(waiting.id)
    assert r["CANCEL"]["eligible"] is True
    assert (r["REFUND"]["eligible"], r["REFUND"]["ineligible_code"]) == (False, 25001003)
    delivered = pick(api, status="DELIVERED")
    r = rows(delivered.id, "BUYER")
    assert r["RETURN_AND_REFUND"]["eligible"]
    assert r["REFUND"]["eligible"]
    assert r["CANCEL"]["ineligible_code"] == 25001045
    cancelled = pick(api, status="CANCELLED", fresh=False)
    assert all(not row["eligible"] and row["ineligible_code"] == 25001051 for row in rows(cancelled.id).values())
    assert code(api.call("GET", f"{RR}/orders/576461999999999999/aftersale_eligibility")) == 25007006
    assert (
        code(api.call("GET", f"{RR}/orders/{waiting.id}/aftersale_eligibility", {"initiate_aftersale_user": "CARRIER"}))
        == 25001001
    )


def test_create_return_by_the_seller(api: Api) -> None:
    hooks = Hooks(api)
    o = pick(api, status="DELIVERED")
    body = {
        "order_id": o.id,
        "return_type": "REFUND",
        "return_reason": "ecom_order_delivered_refund_reason_missing_product_seller",
    }
    created = api.ok("POST", f"{RR}/returns", {"idempotency_key": "create-1"}, body)
    assert created["return_status"] == "RETURN_OR_REFUND_REQUEST_PENDING"
    assert api.ok("POST", f"{RR}/returns", {"idempotency_key": "create-1"}, body) == created
    assert _one(api, created["return_id"])["role"] == "SELLER"
    assert hooks.of(12, o.id)[0]["data"]["return_role"] == "SELLER"
    assert code(api.call("POST", f"{RR}/returns", {}, body)) == 25001011
    other = pick(api, status="DELIVERED")
    cases = [
        ({**body, "order_id": other.id, "return_reason": "ecom_order_delivered_refund_reason_damaged"}, 25001015),
        ({**body, "order_id": other.id, "return_reason": "nope"}, 25001014),
        ({**body, "order_id": other.id, "refund_total": "100000.00"}, 25005005),
        ({**body, "order_id": other.id, "return_type": "REPLACEMENT"}, 25001001),
        ({**body, "order_id": pick(api, status="AWAITING_SHIPMENT").id}, 25001003),
    ]
    for case, expected in cases:
        assert code(api.call("POST", f"{RR}/returns", {}, case)) == expected, case


def test_shipping_info_cannot_change_while_a_refund_request_is_open(api: Api) -> None:
    o = pick(api, status="AWAITING_SHIPMENT", shipping_type="SELLER")
    ups = next(pid for pid, name in api.sb.world.delivery_options[o.delivery_option_id].providers if name == "UPS")
    api.ok(
        "POST",
        f"/fulfillment/202309/orders/{o.id}/packages",
        {},
        {"tracking_number": "1Z999AA10123456784", "shipping_provider_id": ups},
    )
    assert event(api, o.id, "return_request", return_type="REFUND").status_code == 200
    upd = api.call(
        "POST",
        f"/fulfillment/202309/orders/{o.id}/shipping_info/update",
        {},
        {"tracking_number": "1Z999AA10123456785", "shipping_provider_id": ups},
    )
    assert code(upd) == 21011007
    event(api, o.id, "return_cancel")
    api.ok(
        "POST",
        f"/fulfillment/202309/orders/{o.id}/shipping_info/update",
        {},
        {"tracking_number": "1Z999AA10123456785", "shipping_provider_id": ups},
    )


def test_a_retried_return_decision_with_its_key_decides_once(api: Api) -> None:
    hooks = Hooks(api)
    order_id, return_id = _request(api, "REFUND")
    key = {"idempotency_key": "approve-return-1"}
    for _ in range(3):
        assert api.ok("POST", f"{RR}/returns/{return_id}/approve", key, {"decision": "APPROVE_REFUND"}) == {}
    statuses = [p["data"]["return_status"] for p in hooks.of(12, order_id)]
    assert statuses.count("RETURN_OR_REFUND_REQUEST_SUCCESS") == 1
    reasons = [x["name"] for x in api.ok("GET", f"{RR}/reject_reasons", {"return_or_cancel_id": return_id})["reasons"]]
    assert "seller_reject_apply_unable_to_change_address" in reasons  # the refund list
