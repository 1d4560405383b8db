"""Cancellations in the sandbox: the buyer's request and its deadline, the seller's answer (exactly once), the
seller's own cancellation, and webhook 11 with its documented envelope."""

from __future__ import annotations

from sandboxes.tiktok.aftersale import REFUND_SECONDS, SELLER_RESPONSE_SECONDS
from tests.sandboxes.tiktok.aftersale_support import RR, Hooks, code, event, pick, state
from tests.sandboxes.tiktok.conftest import Api

WEBHOOK_11_FIELDS = {"order_id", "cancellations_role", "cancel_status", "cancel_id", "create_time"}


def _request_cancel(api: Api, reason: str = "ecom_order_to_ship_canceled_reason_no_longer_needed") -> tuple[str, str]:
    o = pick(api, status="AWAITING_SHIPMENT")
    r = event(api, o.id, "cancel_request", reason=reason)
    assert r.status_code == 200, r.text
    cancel_id = state(api, o.id)["cancellations"][-1]["id"]
    return o.id, cancel_id


def _search(api: Api, body: dict, query: dict | None = None) -> dict:
    return api.ok("POST", f"{RR}/cancellations/search", query or {}, body)


def test_a_buyer_request_is_pending_with_a_48_hour_deadline_and_announced_by_webhook_11(api: Api) -> None:
    hooks = Hooks(api)
    order_id, cancel_id = _request_cancel(api)
    found = _search(api, {"cancel_ids": [cancel_id]})
    assert found["total_count"] == 1
    c = found["cancellations"][0]
    assert c["cancel_id"] == cancel_id
    assert c["order_id"] == order_id
    assert (c["cancel_type"], c["cancel_status"], c["role"]) == (
        "BUYER_CANCEL",
        "CANCELLATION_REQUEST_PENDING",
        "BUYER",
    )
    assert c["cancel_reason"] == "ecom_order_to_ship_canceled_reason_no_longer_needed"
    assert c["cancel_reason_text"] == "No longer needed"
    assert c["seller_next_action_response"] == [
        {"action": "SELLER_RESPOND_CANCEL", "deadline": c["create_time"] + SELLER_RESPONSE_SECONDS}
    ]
    o = api.sb.world.orders[order_id]
    assert [li["order_line_item_id"] for li in c["cancel_line_items"]] == [li.id for li in o.line_items]
    assert set(c["refund_amount"]) >= {
        "currency",
        "refund_total",
        "refund_subtotal",
        "refund_shipping_fee",
        "refund_tax",
    }
    assert o.is_buyer_request_cancel
    (push,) = hooks.of(11, order_id)
    assert set(push) == {"type", "tts_notification_id", "shop_id", "timestamp", "data"}
    assert push["shop_id"] == o.shop_id
    assert set(push["data"]) == WEBHOOK_11_FIELDS
    assert push["data"]["cancel_status"] == "CANCELLATION_REQUEST_PENDING"
    assert push["data"]["cancel_id"] == cancel_id
    assert push["data"]["cancellations_role"] == "BUYER"


def test_approving_cancels_the_order_once_and_a_second_approval_is_refused(api: Api) -> None:
    hooks = Hooks(api)
    order_id, cancel_id = _request_cancel(api)
    assert api.ok("POST", f"{RR}/cancellations/{cancel_id}/approve", {}, {}) == {}
    o = api.sb.world.orders[order_id]
    assert o.status == "CANCELLED"
    assert not o.is_buyer_request_cancel
    assert o.cancellation_initiator == "BUYER"
    assert [p["data"]["order_status"] for p in hooks.of(1, order_id)] == ["CANCEL"]
    statuses = [p["data"]["cancel_status"] for p in hooks.of(11, order_id)]
    assert statuses == ["CANCELLATION_REQUEST_PENDING", "CANCELLATION_REQUEST_SUCCESS"]
    again = api.call("POST", f"{RR}/cancellations/{cancel_id}/approve", {}, {})
    assert code(again) == 25011012
    reject = api.call(
        "POST",
        f"{RR}/cancellations/{cancel_id}/reject",
        {},
        {"reject_reason": "seller_reject_apply_product_has_been_packed"},
    )
    assert code(reject) == 25020010
    # The refund follows: COMPLETE, announced too.
    api.sb.clock.advance(REFUND_SECONDS)
    assert hooks.of(11, order_id)[-1]["data"]["cancel_status"] == "CANCELLATION_REQUEST_COMPLETE"
    assert (
        _search(api, {"cancel_ids": [cancel_id]})["cancellations"][0]["cancel_status"]
        == "CANCELLATION_REQUEST_COMPLETE"
    )


def test_a_repeated_idempotency_key_answers_the_first_decision_again(api: Api) -> None:
    hooks = Hooks(api)
    order_id, cancel_id = _request_cancel(api)
    key = {"idempotency_key": "6a0f6a0e-approve-1"}
    assert api.ok("POST", f"{RR}/cancellations/{cancel_id}/approve", key, {}) == {}
    assert api.ok("POST", f"{RR}/cancellations/{cancel_id}/approve", key, {}) == {}
    assert [p["data"]["cancel_status"] for p in hooks.of(11, order_id)].count("CANCELLATION_REQUEST_SUCCESS") == 1
    assert len(hooks.of(1, order_id)) == 1


def test_rejecting_closes_the_request_and_the_order_continues(api: Api) -> None:
    hooks = Hooks(api)
    order_id, cancel_id = _request_cancel(api)
    reasons = api.ok("GET", f"{RR}/reject_reasons", {"return_or_cancel_id": cancel_id})["reasons"]
    names = [r["name"] for r in reasons]
    assert "seller_reject_apply_product_has_been_packed" in names
    assert all(set(r) == {"name", "text"} for r in reasons)
    body = {"reject_reason": "seller_reject_apply_product_has_been_packed", "comment": "Already packed"}
    assert api.ok("POST", f"{RR}/cancellations/{cancel_id}/reject", {}, body) == {}
    o = api.sb.world.orders[order_id]
    assert o.status == "AWAITING_SHIPMENT"
    assert not o.is_buyer_request_cancel
    assert hooks.of(11, order_id)[-1]["data"]["cancel_status"] == "CANCELLATION_REQUEST_CANCELLED"
    assert hooks.of(1, order_id) == []
    # Deciding again is refused, either way.
    assert code(api.call("POST", f"{RR}/cancellations/{cancel_id}/reject", {}, body)) == 25011011
    assert code(api.call("POST", f"{RR}/cancellations/{cancel_id}/approve", {}, {})) == 25020009
    # The deadline passing later changes nothing.
    api.sb.clock.advance(SELLER_RESPONSE_SECONDS + 1)
    assert api.sb.world.orders[order_id].status == "AWAITING_SHIPMENT"
    assert [c["status"] for c in state(api, order_id)["cancellations"]] == ["CANCELLATION_REQUEST_CANCELLED"]


def test_reject_reasons_are_checked(api: Api) -> None:
    _, cancel_id = _request_cancel(api)
    unknown = api.call("POST", f"{RR}/cancellations/{cancel_id}/reject", {}, {"reject_reason": "because"})
    assert code(unknown) == 25001014
    other_action = api.call(
        "POST", f"{RR}/cancellations/{cancel_id}/reject", {}, {"reject_reason": "reverse_reject_request_reason_1"}
    )
    assert code(other_action) == 25001016


def test_the_platform_approves_at_the_deadline_when_the_seller_does_not_answer(api: Api) -> None:
    hooks = Hooks(api)
    api.sb.clock.freeze()
    order_id, cancel_id = _request_cancel(api)
    api.sb.clock.advance(SELLER_RESPONSE_SECONDS - 1)
    assert api.sb.world.orders[order_id].is_buyer_request_cancel
    assert (
        _search(api, {"cancel_ids": [cancel_id]})["cancellations"][0]["cancel_status"] == "CANCELLATION_REQUEST_PENDING"
    )
    api.sb.clock.advance(1)
    o = api.sb.world.orders[order_id]
    assert o.status == "CANCELLED"
    found = _search(api, {"cancel_ids": [cancel_id]})["cancellations"][0]
    assert found["cancel_status"] == "CANCELLATION_REQUEST_SUCCESS"
    assert state(api, order_id)["cancellations"][0]["decided_by"] == "SYSTEM"
    assert [p["data"]["cancel_status"] for p in hooks.of(11, order_id)][-1] == "CANCELLATION_REQUEST_SUCCESS"
    assert code(api.call("POST", f"{RR}/cancellations/{cancel_id}/approve", {}, {})) == 25011012


def test_the_buyer_may_withdraw_a_pending_request(api: Api) -> None:
    hooks = Hooks(api)
    order_id, cancel_id = _request_cancel(api)
    assert event(api, order_id, "buyer_cancel_withdraw").status_code == 200
    assert not api.sb.world.orders[order_id].is_buyer_request_cancel
    push = hooks.of(11, order_id)[-1]["data"]
    assert (push["cancel_status"], push["cancel_id"]) == ("CANCELLATION_REQUEST_CANCELLED", cancel_id)
    assert code(api.call("POST", f"{RR}/cancellations/{cancel_id}/approve", {}, {})) == 25020009
    assert event(api, order_id, "buyer_cancel_withdraw").status_code == 409


def test_a_package_cannot_be_bought_while_a_cancel_request_is_open(api: Api) -> None:
    order_id, cancel_id = _request_cancel(api)
    r = api.call("POST", "/fulfillment/202309/packages", {}, {"order_id": order_id})
    assert code(r) == 21011007
    assert r.json()["message"] == "Package item has after-sale request, please process the after-sale request first."
    api.ok(
        "POST",
        f"{RR}/cancellations/{cancel_id}/reject",
        {},
        {"reject_reason": "seller_reject_apply_product_has_been_packed"},
    )
    assert api.ok("POST", "/fulfillment/202309/packages", {}, {"order_id": order_id})["package_id"]


def test_search_filters_sorts_and_pages(api: Api) -> None:
    created = [_request_cancel(api)[1] for _ in range(3)]
    filters = {
        "cancel_ids": created,
        "cancel_status": ["CANCELLATION_REQUEST_PENDING"],
        "cancel_types": ["BUYER_CANCEL"],
    }
    assert _search(api, filters)["total_count"] == 3
    assert _search(api, {**filters, "cancel_types": ["CANCEL"]})["total_count"] == 0
    assert _search(api, {**filters, "create_time_lt": 1})["total_count"] == 0
    page1 = _search(api, {"cancel_ids": created}, {"page_size": "2", "sort_field": "create_time", "sort_order": "ASC"})
    assert page1["total_count"] == 3
    assert len(page1["cancellations"]) == 2
    assert page1["next_page_token"]
    page2 = _search(api, {"cancel_ids": created}, {"page_size": "2", "page_token": page1["next_page_token"]})
    assert [c["cancel_id"] for c in page1["cancellations"] + page2["cancellations"]] == created
    assert page2["next_page_token"] == ""
    direct = _search(api, {"cancel_types": ["CANCEL"]}, {"page_size": "50"})
    assert all(c["cancel_type"] == "CANCEL" for c in direct["cancellations"])
    closed_alias = _search(api, {"cancel_status": ["CANCELLATION_REQUEST_CANCEL"]})
    assert all(c["cancel_status"] == "CANCELLATION_REQUEST_CANCELLED" for c in closed_alias["cancellations"])
    for query, body in (
        ({"page_size": "51"}, {}),
        ({"page_size": "0"}, {}),
        ({"sort_field": "order_id"}, {}),
        ({}, {"cancel_status": ["DONE"]}),
        ({}, {"cancel_types": ["SOMETIMES"]}),
        ({}, {"create_time_ge": "yesterday"}),
        ({"page_token": "bm90IGEgdG9rZW4="}, {}),
    ):
        assert code(api.call("POST", f"{RR}/cancellations/search", query, body)) == 25001001, (query, body)


def test_cancel_order_by_the_seller_is_direct_and_announced(api: Api) -> None:
    hooks = Hooks(api)
    o = pick(api, status="AWAITING_SHIPMENT")
    data = api.ok(
        "POST", f"{RR}/cancellations", {}, {"order_id": o.id, "cancel_reason": "seller_cancel_reason_out_of_stock"}
    )
    assert data["cancel_status"] == "CANCELLATION_REQUEST_SUCCESS"
    assert data["cancel_id"]
    assert o.status == "CANCELLED"
    assert o.cancellation_initiator == "SELLER"
    (push,) = hooks.of(11, o.id)
    assert push["data"] == {
        "order_id": o.id,
        "cancellations_role": "SELLER",
        "cancel_status": "CANCELLATION_REQUEST_SUCCESS",
        "cancel_id": data["cancel_id"],
        "create_time": push["data"]["create_time"],
    }
    found = _search(api, {"order_ids": [o.id]})["cancellations"][0]
    assert (found["cancel_type"], found["role"], found["cancel_reason"]) == (
        "CANCEL",
        "SELLER",
        "seller_cancel_reason_out_of_stock",
    )
    assert found["seller_next_action_response"] == []
    approve = api.call("POST", f"{RR}/cancellations/{data['cancel_id']}/approve", {}, {})
    assert code(approve) == 25020004
    assert (
        code(
            api.call(
                "POST",
                f"{RR}/cancellations",
                {},
                {"order_id": o.id, "cancel_reason": "seller_cancel_reason_out_of_stock"},
            )
        )
        == 25001051
    )


def test_cancel_order_refusals_carry_their_codes(api: Api) -> None:
    ready = pick(api, status="AWAITING_SHIPMENT")
    shipped = pick(api, status="IN_TRANSIT")
    completed = pick(api, status="COMPLETED")
    cases = [
        ({"order_id": shipped.id, "cancel_reason": "seller_cancel_reason_out_of_stock"}, 25001045),
        ({"order_id": completed.id, "cancel_reason": "seller_cancel_reason_out_of_stock"}, 25001051),
        ({"order_id": ready.id, "cancel_reason": "ecom_order_to_ship_canceled_reason_no_longer_needed"}, 25001015),
        ({"order_id": ready.id, "cancel_reason": "no_such_reason"}, 25001014),
        ({"order_id": ready.id, "cancel_reason": "seller_cancel_unpaid_reason_out_of_stock"}, 25001021),
        ({"order_id": ready.id}, 25001001),
        ({"order_id": "576461999999999999", "cancel_reason": "seller_cancel_reason_out_of_stock"}, 25020005),
    ]
    for body, expected in cases:
        assert code(api.call("POST", f"{RR}/cancellations", {}, body)) == expected, body
    event(api, ready.id, "cancel_request")
    pending = api.call(
        "POST", f"{RR}/cancellations", {}, {"order_id": ready.id, "cancel_reason": "seller_cancel_reason_out_of_stock"}
    )
    assert code(pending) == 25001011


def test_partial_cancel_only_for_out_of_stock_and_the_order_goes_on(api: Api) -> None:
    o = next(
        x
        for x in sorted(api.sb.world.orders.values(), key=lambda x: x.id)
        if x.shop_id == api.sb.world.shops_by_cipher[api.cipher or ""].id
        and x.status == "AWAITING_SHIPMENT"
        and len(x.line_items) >= 2
        and not x.is_buyer_request_cancel
    )
    first = o.line_items[0].id
    refused = api.call(
        "POST",
        f"{RR}/cancellations",
        {},
        {"order_id": o.id, "order_line_item_ids": [first], "cancel_reason": "seller_cancel_reason_wrong_price"},
    )
    assert code(refused) == 25005010
    data = api.ok(
        "POST",
        f"{RR}/cancellations",
        {},
        {"order_id": o.id, "order_line_item_ids": [first], "cancel_reason": "seller_cancel_reason_out_of_stock"},
    )
    assert data["cancel_status"] == "CANCELLATION_REQUEST_SUCCESS"
    assert o.status == "AWAITING_SHIPMENT"
    assert o.line_items[0].package_status == "CANCELLED"
    assert o.line_items[0].cancel_user == "SELLER"
    assert all(li.package_status != "CANCELLED" for li in o.line_items[1:])
    found = _search(api, {"cancel_ids": [data["cancel_id"]]})["cancellations"][0]
    assert [li["order_line_item_id"] for li in found["cancel_line_items"]] == [first]
    again = api.call(
        "POST",
        f"{RR}/cancellations",
        {},
        {"order_id": o.id, "order_line_item_ids": [first], "cancel_reason": "seller_cancel_reason_out_of_stock"},
    )
    assert code(again) == 25005011


def test_cancelling_after_the_label_was_bought_voids_the_label(api: Api) -> None:
    o = pick(api, status="AWAITING_SHIPMENT")
    pkg = api.ok("POST", "/fulfillment/202309/packages", {}, {"order_id": o.id})["package_id"]
    assert o.status == "AWAITING_COLLECTION"
    api.ok(
        "POST",
        f"{RR}/cancellations",
        {},
        {"order_id": o.id, "cancel_reason": "seller_cancel_paid_reason_address_not_deliver"},
    )
    assert api.sb.world.packages[pkg].status == "CANCELLED"
    (label,) = api.client.get("/sandbox/labels", params={"order_id": o.id}).json()["labels"]
    assert label["void_time"] > 0


def test_unpaid_and_on_hold_buyer_cancels_are_accepted_by_the_platform(api: Api) -> None:
    hooks = Hooks(api)
    o = pick(api, status="ON_HOLD")
    event(api, o.id, "cancel_request")
    assert o.status == "CANCELLED"
    (push,) = hooks.of(11, o.id)
    assert (push["data"]["cancellations_role"], push["data"]["cancel_status"]) == (
        "BUYER",
        "CANCELLATION_REQUEST_SUCCESS",
    )
    assert state(api, o.id)["cancellations"][0]["cancel_type"] == "CANCEL"


def test_system_cancellation_is_announced_by_webhook_11(api: Api) -> None:
    hooks = Hooks(api)
    api.sb.clock.freeze()
    o = pick(api, status="AWAITING_SHIPMENT")
    api.sb.clock.set(o.shipping_due_time)
    assert o.status == "CANCELLED"
    assert o.cancellation_initiator == "SYSTEM"
    push = hooks.of(11, o.id)[0]["data"]
    assert (push["cancellations_role"], push["cancel_status"]) == ("SYSTEM", "CANCELLATION_REQUEST_SUCCESS")
    found = _search(api, {"order_ids": [o.id]})["cancellations"][0]
    assert found["cancel_reason"] == "system_cancel_order_reason_shipping_timeout"


def test_unknown_or_foreign_cancellations_are_refused(api: Api) -> None:
    assert code(api.call("POST", f"{RR}/cancellations/4035100000000000001/approve", {}, {})) == 25001001
    assert code(api.call("GET", f"{RR}/reject_reasons", {"return_or_cancel_id": "1"})) == 25001001
    other_shop = next(
        c
        for c in api.sb.world.aftersale.cancellations.values()
        if c.shop_id != api.sb.world.shops_by_cipher[api.cipher or ""].id
    )
    assert code(api.call("POST", f"{RR}/cancellations/{other_shop.id}/approve", {}, {})) == 25020005


def test_a_uk_shop_uses_the_uk_reasons(api: Api) -> None:
    uk = next(i for i, s in enumerate(api.sb.world.sellers.values()) if s.base_region == "GB")
    api.authorize(uk)
    o = pick(api, status="AWAITING_SHIPMENT")
    event(api, o.id, "cancel_request", reason="ecom_order_to_ship_canceled_reason_no_longer_needed_uk")
    cancel_id = state(api, o.id)["cancellations"][-1]["id"]
    names = [r["name"] for r in api.ok("GET", f"{RR}/reject_reasons", {"return_or_cancel_id": cancel_id})["reasons"]]
    assert "order_manage_list_action_respond_popup_reject_reason_buyer_agree_uk" in names
    us_reason = {"reject_reason": "order_manage_list_action_respond_popup_reject_reason_buyer_agree"}
    assert code(api.call("POST", f"{RR}/cancellations/{cancel_id}/reject", {}, us_reason)) == 25001014
    other = pick(api, status="AWAITING_SHIPMENT")
    body = {"order_id": other.id, "cancel_reason": "seller_cancel_reason_out_of_stock_uk"}
    assert api.ok("POST", f"{RR}/cancellations", {}, body)["cancel_status"] == "CANCELLATION_REQUEST_SUCCESS"
