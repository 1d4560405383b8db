"""The Return & Refund side of the TikTok channel (cancellations, returns, refunds) over real HTTP against the sandbox.

Each test drives the buyer's side through the sandbox's control API (`POST /sandbox/orders/{id}/events`), answers as
the seller through `TikTokSalesChannel` (Dropline's contract), and checks both directions: the request that left
(path, query, body, against the spec's field lists copied below) and the translation, against the platform's own
record (`GET /sandbox/orders/{id}/aftersale`).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest

from integrations.errors import ErrorKind, PlatformError, PlatformOutcomeUnknown
from integrations.interface import (
    AfterSaleInitiator,
    AfterSaleStatus,
    OrderStatus,
    PlatformCancellation,
    PlatformReturn,
    ReturnDecision,
    ReturnKind,
)
from integrations.tiktok import endpoints as ep
from integrations.tiktok.adapter import TikTokSalesChannel
from integrations.tiktok.client import TikTokShopClient
from integrations.tiktok.endpoints import RetryPolicy
from tests.integrations.tiktok.conftest import SandboxSession

# Verbatim from shared/platforms/tiktok-shop/spec/api-reference/return-and-refund/*.spec.json: method, path, the
# query parameters beyond the common ones (app_key, sign, timestamp, shop_cipher) and the body's top-level fields.
SPEC: dict[str, tuple[str, str, frozenset[str], frozenset[str]]] = {
    "Search Cancellations": (
        "POST",
        "/return_refund/202309/cancellations/search",
        frozenset({"sort_field", "sort_order", "page_size", "page_token"}),
        frozenset(
            {
                "cancel_ids",
                "order_ids",
                "buyer_user_ids",
                "cancel_types",
                "cancel_status",
                "create_time_ge",
                "create_time_lt",
                "update_time_ge",
                "update_time_lt",
                "locale",
            }
        ),
    ),
    "Approve Cancellation": (
        "POST",
        "/return_refund/202309/cancellations/{cancel_id}/approve",
        frozenset({"idempotency_key"}),
        frozenset(),
    ),
    "Reject Cancellation": (
        "POST",
        "/return_refund/202309/cancellations/{cancel_id}/reject",
        frozenset({"idempotency_key"}),
        frozenset({"reject_reason", "comment", "images"}),
    ),
    "Cancel Order": (
        "POST",
        "/return_refund/202309/cancellations",
        frozenset(),
        frozenset({"order_id", "skus", "order_line_item_ids", "cancel_reason"}),
    ),
    "Get Reject Reasons": (
        "GET",
        "/return_refund/202309/reject_reasons",
        frozenset({"locale", "return_or_cancel_id"}),
        frozenset(),
    ),
    "Search Returns": (
        "POST",
        "/return_refund/202309/returns/search",
        frozenset({"sort_field", "sort_order", "page_size", "page_token"}),
        frozenset(
            {
                "return_ids",
                "order_ids",
                "buyer_user_ids",
                "return_types",
                "return_status",
                "seller_proposed_return_type",
                "create_time_ge",
                "arbitration_status",
                "update_time_ge",
                "update_time_lt",
                "locale",
                "create_time_lt",
            }
        ),
    ),
    "Get Return Records": (
        "GET",
        "/return_refund/202309/returns/{return_id}/records",
        frozenset({"locale"}),
        frozenset(),
    ),
    "Approve Return": (
        "POST",
        "/return_refund/202309/returns/{return_id}/approve",
        frozenset({"idempotency_key"}),
        frozenset({"decision", "buyer_keep_item", "partial_refund"}),
    ),
    "Reject Return": (
        "POST",
        "/return_refund/202309/returns/{return_id}/reject",
        frozenset({"idempotency_key"}),
        frozenset({"decision", "reject_reason", "comment", "images"}),
    ),
    "Calculate Refund": (
        "POST",
        "/return_refund/202309/refunds/calculate",
        frozenset(),
        frozenset(
            {
                "order_id",
                "request_type",
                "shipment_type",
                "handover_method",
                "reason_name",
                "order_line_item_ids",
                "skus",
            }
        ),
    ),
}
COMMON_QUERY = {"app_key", "sign", "timestamp", "shop_cipher"}

# cancel-reasons.json, "US market": "Seller Initiates Cancel Reason" and "Seller Reject Cancel Request Reason".
US_SELLER_CANCEL_UNPAID = [
    "seller_cancel_unpaid_reason_out_of_stock",
    "seller_cancel_unpaid_reason_wrong_price",
    "seller_cancel_unpaid_reason_buyer_hasnt_paid_within_time_allowed",
    "seller_cancel_unpaid_reason_buyer_requested_cancellation",
]
US_SELLER_CANCEL_PAID = [  # "ON_HOLD and AWAITING_SHIPMENT"
    "seller_cancel_reason_out_of_stock",
    "seller_cancel_reason_wrong_price",
    "seller_cancel_paid_reason_address_not_deliver",
    "seller_cancel_paid_reason_buyer_requested_cancellation",
]
US_SELLER_REJECT_CANCEL = {
    "order_manage_list_action_respond_popup_reject_reason_invalid_cancellation_reason": (
        "Invalid reason for cancellation"
    ),
    "order_manage_list_action_respond_popup_reject_reason_delivered": "Product delivery is on schedule",
    "order_manage_list_action_respond_popup_reject_reason_buyer_agree": "Reached an agreement with the buyer",
    "seller_reject_apply_product_has_been_packed": "Product has been packed",
}
# refund-reasons.json, "US market" > "Seller Reject Refund Request Reason", in its order.
US_SELLER_REJECT_REFUND = [
    "reverse_reject_request_reason_1",
    "reverse_reject_request_reason_2",
    "reverse_reject_request_reason_3",
    "reverse_reject_request_reason_4",
    "reverse_reject_request_reason_5",
    "seller_reject_apply_unable_to_change_address",
    "seller_reject_apply_need_to_apply_for_refund&return",
    "seller_reject_apply_buyers_responsibility_for_incorrect_address",
    "seller_reject_apply_item_is_correct",
    "seller_reject_apply_products_will_be_sent_separately",
    "seller_reject_apply_reason_is_unclear_or_lack_of_evidence",
    "seller_reject_apply_product_functions_well/buyer_use_in_wrong_way",
    "seller_reject_apply_reason_is_unclear_/_lack_of_evidence",
    "seller_reject_apply_package_has_not_exceeded_estimated_delivery_time",
]
# return-reasons.json, "US market" > "Seller Reject Return Request Reason" > "Seller rejects receive package".
US_SELLER_REJECT_RECEIVED_PACKAGE = {
    "reverse_reject_return_parcel_reason_1",
    "reverse_reject_return_parcel_reason_2",
    "reverse_reject_return_parcel_reason_3",
    "reverse_reject_return_parcel_reason_4",
    "reverse_reject_return_parcel_reason_5",
    "seller_reject_apply_you_have_reached_an_agreement_with_the_buyer",
}


def _at(epoch: int) -> datetime:
    return datetime.fromtimestamp(epoch, tz=UTC)


@dataclass
class AfterSale:
    session: SandboxSession
    client: TikTokShopClient
    channel: TikTokSalesChannel
    sent: list[httpx.Request]

    @property
    def shop_id(self) -> str:
        return str(self.session.shops[0]["id"])

    def orders(self, status: str, count: int = 1, *, seed: int = 7) -> list[str]:
        """`count` new orders in `status` with no after-sale request yet (the seed opens some by itself)."""
        created = self.session.control(
            "POST",
            f"/sandbox/shops/{self.shop_id}/orders",
            json={
                "count": count * 2 + 4,
                "seed": seed,
                "status_mix": {status: 1},
                "shipping_mix": {"TIKTOK": 1},
                "return_ids": True,
            },
        )
        clean = [order_id for order_id in created["order_ids"] if not self._has_requests(order_id)]
        assert len(clean) >= count, "the seed opened requests on too many orders"
        return clean[:count]

    def _has_requests(self, order_id: str) -> bool:
        record = self.record(order_id)
        return bool(record["cancellations"] or record["returns"] or record["has_open_request"])

    def order(self, order_id: str) -> dict[str, Any]:
        view: dict[str, Any] = self.session.control("GET", f"/sandbox/orders/{order_id}")
        return view

    def event(self, order_id: str, kind: str, **body: Any) -> None:
        self.session.control("POST", f"/sandbox/orders/{order_id}/events", json={"type": kind, **body})

    def record(self, order_id: str) -> dict[str, Any]:
        """The platform's own record of the order's cancellations and returns."""
        data: dict[str, Any] = self.session.control("GET", f"/sandbox/orders/{order_id}/aftersale")
        return data

    def faults(self, **rules: Any) -> None:
        self.session.control("POST", "/sandbox/faults", json=rules)

    def sent_to(self, name: str) -> list[httpx.Request]:
        method, template, _, _ = SPEC[name]
        prefix, _, rest = template.partition("{")
        suffix = rest.partition("}")[2]
        return [
            r
            for r in self.sent
            if r.method == method
            and r.url.path.startswith(prefix)
            and r.url.path.endswith(suffix)
            and (len(r.url.path.split("/")) == len(template.split("/")))
        ]


@pytest.fixture
def aftersale(live_sandbox: SandboxSession) -> Iterator[AfterSale]:
    sent: list[httpx.Request] = []
    http = httpx.Client(timeout=httpx.Timeout(5.0), event_hooks={"request": [sent.append]})
    client = live_sandbox.client(http=http)
    sent.clear()  # the consent exchange is not the subject
    yield AfterSale(session=live_sandbox, client=client, channel=TikTokSalesChannel(client), sent=sent)
    http.close()
    _assert_requests_follow_the_spec(sent)


def _assert_requests_follow_the_spec(sent: list[httpx.Request]) -> None:
    """Every Return & Refund request used only the spec's query parameters and body fields, on a documented path."""
    for request in sent:
        if not request.url.path.startswith("/return_refund/"):
            continue
        matches = [
            (query, body)
            for method, template, query, body in SPEC.values()
            if method == request.method and _path_matches(template, request.url.path)
        ]
        assert len(matches) == 1, f"undocumented call {request.method} {request.url.path}"
        query, body = matches[0]
        assert set(request.url.params) - COMMON_QUERY <= query, request.url
        if request.content:
            assert set(json.loads(request.content)) <= body, request.content
        assert request.headers["x-tts-access-token"]
        assert request.headers["content-type"] == "application/json"


def _path_matches(template: str, path: str) -> bool:
    parts_t, parts_p = template.split("/"), path.split("/")
    return len(parts_t) == len(parts_p) and all(
        t == p or t.startswith("{") for t, p in zip(parts_t, parts_p, strict=True)
    )


def _multi_unit_order(aftersale: AfterSale, status: str, *, seed: int = 7) -> str:
    """An order with several units of one SKU (TikTok lists each unit as its own line item)."""
    for attempt in range(5):
        for order_id in aftersale.orders(status, 6, seed=seed + 100 * attempt):
            skus = Counter(li["sku_id"] for li in aftersale.order(order_id)["line_items"])
            if max(skus.values()) > 1:
                return order_id
    raise AssertionError("no multi-unit order seeded")


def _units_by_sku(aftersale: AfterSale, order_id: str, line_ids: list[str]) -> dict[str, list[str]]:
    by_id = {li["id"]: li for li in aftersale.order(order_id)["line_items"]}
    units: dict[str, list[str]] = {}
    for line_id in line_ids:
        units.setdefault(by_id[line_id]["sku_id"], []).append(line_id)
    return units


def _one_cancellation(aftersale: AfterSale, order_id: str) -> PlatformCancellation:
    (cancellation,) = aftersale.channel.cancellations(order_ids=[order_id])
    return cancellation


def _one_return(aftersale: AfterSale, order_id: str) -> PlatformReturn:
    (request,) = aftersale.channel.returns(order_ids=[order_id])
    return request


# ---------------------------------------------------------------------------------------- endpoints table
def test_every_return_and_refund_endpoint_is_the_spec_one_with_its_retry_policy() -> None:
    ours = {e.name: e for e in ep.ALL if e.path.startswith("/return_refund/")}
    assert set(ours) == set(SPEC)
    for name, (method, path, _, _) in SPEC.items():
        assert (ours[name].method, ours[name].path, ours[name].shop_scoped) == (method, path, True)
    # The decisions are keyed (idempotency_key): repeating one is harmless. Cancel Order has no key.
    unsafe = {name for name, e in ours.items() if e.retry is RetryPolicy.UNSAFE}
    assert unsafe == {"Cancel Order"}


# ---------------------------------------------------------------------------------------- cancellations
def test_a_buyers_cancellation_request_is_read_as_the_platform_records_it(aftersale: AfterSale) -> None:
    order_id = _multi_unit_order(aftersale, "AWAITING_SHIPMENT")
    aftersale.event(order_id, "cancel_request", reason="Bought by mistake")

    cancellation = _one_cancellation(aftersale, order_id)

    (record,) = aftersale.record(order_id)["cancellations"]
    assert cancellation.request_id == record["id"]
    assert cancellation.order_id == order_id
    assert cancellation.initiator is AfterSaleInitiator.BUYER
    assert (cancellation.status, cancellation.platform_status) == (AfterSaleStatus.PENDING, record["status"])
    assert (cancellation.reason.code, cancellation.reason.text) == (record["reason"], record["reason_text"])
    assert cancellation.needs_decision
    assert cancellation.respond_by == _at(record["deadline"])
    assert cancellation.created_at == _at(record["create_time"])
    assert cancellation.updated_at == _at(record["update_time"])
    # One line per SKU, however many units TikTok lists: the first unit's id, the number of units.
    units = _units_by_sku(aftersale, order_id, record["line_item_ids"])
    assert {line.platform_sku_id: (line.order_line_id, line.quantity) for line in cancellation.lines} == {
        sku: (ids[0], len(ids)) for sku, ids in units.items()
    }
    assert max(line.quantity for line in cancellation.lines) > 1
    # The line refunds are the units' refunds summed, in the request's currency.
    (search,) = aftersale.sent_to("Search Cancellations")
    assert json.loads(search.content) == {"order_ids": [order_id]}
    assert search.url.params["sort_field"] == "update_time"
    assert cancellation.refund is not None
    assert all(line.refund and line.refund.currency == cancellation.refund.currency for line in cancellation.lines)


def test_line_refunds_are_the_sum_of_their_units(aftersale: AfterSale) -> None:
    order_id = _multi_unit_order(aftersale, "AWAITING_SHIPMENT", seed=8)
    aftersale.event(order_id, "cancel_request")
    answers: list[dict[str, Any]] = []
    aftersale.client._http.event_hooks["response"] = [lambda r: answers.append(json.loads(r.read()))]

    cancellation = _one_cancellation(aftersale, order_id)

    (raw,) = answers[-1]["data"]["cancellations"]
    per_sku: dict[str, Decimal] = {}
    for unit in raw["cancel_line_items"]:
        per_sku[unit["sku_id"]] = per_sku.get(unit["sku_id"], Decimal(0)) + Decimal(
            unit["refund_amount"]["refund_total"]
        )
    assert {line.platform_sku_id: line.refund.amount for line in cancellation.lines if line.refund} == per_sku
    assert cancellation.refund is not None
    assert cancellation.refund.amount == Decimal(raw["refund_amount"]["refund_total"])


def test_cancellations_page_to_the_end_each_once_and_filter_by_update_time(aftersale: AfterSale) -> None:
    world = aftersale.session.sb.world
    with world.lock:
        platform_ids = {c.id for c in world.aftersale.cancellations.values() if c.shop_id == aftersale.shop_id}
    assert len(platform_ids) > 5

    seen = [c.request_id for c in aftersale.client.iter_cancellations(page_size=5)]

    assert sorted(seen) == sorted(platform_ids)
    searches = aftersale.sent_to("Search Cancellations")
    assert len(searches) == -(-len(platform_ids) // 5)
    assert all(r.url.params["page_size"] == "5" for r in searches)
    assert "page_token" not in searches[0].url.params
    assert all(r.url.params["page_token"] for r in searches[1:])

    # Since a moment: only what changed from then on.
    (order_id,) = aftersale.orders("AWAITING_SHIPMENT", seed=9)
    aftersale.event(order_id, "cancel_request")
    since = _one_cancellation(aftersale, order_id).updated_at
    assert since is not None
    changed = list(aftersale.channel.cancellations(updated_since=since))
    assert [c.order_id for c in changed] == [order_id]
    assert json.loads(aftersale.sent_to("Search Cancellations")[-1].content) == {
        "update_time_ge": int(since.timestamp())
    }


def test_order_ids_are_asked_fifty_at_a_time(aftersale: AfterSale) -> None:
    (order_id,) = aftersale.orders("AWAITING_SHIPMENT", seed=10)
    aftersale.event(order_id, "cancel_request")
    ids = [f"57700000000000{n:04d}" for n in range(60)] + [order_id]

    found = list(aftersale.channel.cancellations(order_ids=ids))

    assert [c.order_id for c in found] == [order_id]
    bodies = [json.loads(r.content) for r in aftersale.sent_to("Search Cancellations")]
    assert [len(b["order_ids"]) for b in bodies] == [50, 11]


def test_approving_is_keyed_the_same_key_decides_once(aftersale: AfterSale) -> None:
    (order_id,) = aftersale.orders("AWAITING_SHIPMENT", seed=11)
    aftersale.event(order_id, "cancel_request")
    request_id = _one_cancellation(aftersale, order_id).request_id

    aftersale.channel.cancellation_decide(request_id, approve=True, key="approve-1")
    first = aftersale.record(order_id)
    aftersale.channel.cancellation_decide(request_id, approve=True, key="approve-1")  # a retry: success, no change

    assert aftersale.record(order_id) == first
    (record,) = first["cancellations"]
    assert (record["status"], record["decided_by"], first["order_status"]) == (
        "CANCELLATION_REQUEST_SUCCESS",
        "SELLER",
        "CANCELLED",
    )
    approvals = aftersale.sent_to("Approve Cancellation")
    assert [r.url.path for r in approvals] == [f"/return_refund/202309/cancellations/{request_id}/approve"] * 2
    assert [r.url.params["idempotency_key"] for r in approvals] == ["approve-1", "approve-1"]
    decided = _one_cancellation(aftersale, order_id)
    assert (decided.status, decided.needs_decision, decided.respond_by) == (AfterSaleStatus.APPROVED, False, None)

    # Another answer (another key) after the approval: decided already, read it again.
    with pytest.raises(PlatformError) as refused:
        aftersale.channel.cancellation_decide(
            request_id, approve=False, key="reject-1", reason_code="seller_reject_apply_product_has_been_packed"
        )
    assert (refused.value.code, refused.value.kind) == (25020010, ErrorKind.ALREADY_DONE)
    assert "answered already" in refused.value.fix
    with pytest.raises(PlatformError) as again:
        aftersale.channel.cancellation_decide(request_id, approve=True, key="approve-2")
    assert (again.value.code, again.value.kind) == (25011012, ErrorKind.ALREADY_DONE)


@pytest.mark.chaos
def test_a_lost_answer_to_a_decision_is_repeated_with_its_key_and_decides_once(aftersale: AfterSale) -> None:
    (order_id,) = aftersale.orders("AWAITING_SHIPMENT", seed=12)
    aftersale.event(order_id, "cancel_request")
    request_id = _one_cancellation(aftersale, order_id).request_id
    aftersale.faults(
        drop_response_after_commit=[{"api": "POST /return_refund/202309/cancellations/{cancel_id}/approve", "next": 1}]
    )

    aftersale.channel.cancellation_decide(request_id, approve=True, key="lost-1")  # no exception: retried, same key

    approvals = aftersale.sent_to("Approve Cancellation")
    assert [r.url.params["idempotency_key"] for r in approvals] == ["lost-1", "lost-1"]
    (record,) = aftersale.record(order_id)["cancellations"]
    assert (record["status"], record["decided_by"]) == ("CANCELLATION_REQUEST_SUCCESS", "SELLER")


def test_rejecting_takes_a_reason_from_the_platforms_list(aftersale: AfterSale) -> None:
    (order_id,) = aftersale.orders("AWAITING_SHIPMENT", seed=13)
    aftersale.event(order_id, "cancel_request")
    request_id = _one_cancellation(aftersale, order_id).request_id

    reasons = aftersale.channel.reject_reasons(request_id)

    assert {r.code: r.text for r in reasons} == US_SELLER_REJECT_CANCEL
    (asked,) = aftersale.sent_to("Get Reject Reasons")
    assert asked.url.params["return_or_cancel_id"] == request_id

    aftersale.channel.cancellation_decide(
        request_id, approve=False, key="reject-1", reason_code=reasons[-1].code, comment="Packed this morning"
    )
    aftersale.channel.cancellation_decide(
        request_id, approve=False, key="reject-1", reason_code=reasons[-1].code, comment="Packed this morning"
    )

    (record,) = aftersale.record(order_id)["cancellations"]
    assert (record["status"], record["reject_reason"], record["reject_comment"]) == (
        "CANCELLATION_REQUEST_CANCELLED",
        reasons[-1].code,
        "Packed this morning",
    )
    assert aftersale.record(order_id)["order_status"] == "AWAITING_SHIPMENT"
    (reject, _) = aftersale.sent_to("Reject Cancellation")
    assert reject.url.params["idempotency_key"] == "reject-1"
    assert json.loads(reject.content) == {"reject_reason": reasons[-1].code, "comment": "Packed this morning"}
    # TikTok has no "rejected" cancellation status: a rejected request closes like a withdrawn one.
    closed = _one_cancellation(aftersale, order_id)
    assert (closed.status, closed.platform_status, closed.needs_decision) == (
        AfterSaleStatus.WITHDRAWN,
        "CANCELLATION_REQUEST_CANCELLED",
        False,
    )


def test_a_rejection_needs_a_reason_and_a_reason_of_its_kind(aftersale: AfterSale) -> None:
    (order_id,) = aftersale.orders("AWAITING_SHIPMENT", seed=14)
    aftersale.event(order_id, "cancel_request")
    request_id = _one_cancellation(aftersale, order_id).request_id

    with pytest.raises(PlatformError) as no_reason:
        aftersale.channel.cancellation_decide(request_id, approve=False, key="k1")
    assert no_reason.value.kind is ErrorKind.INVALID
    assert no_reason.value.fix
    assert aftersale.sent_to("Reject Cancellation") == []  # refused before asking TikTok

    with pytest.raises(PlatformError) as wrong_kind:  # a seller-cancel reason is not a reject reason
        aftersale.channel.cancellation_decide(
            request_id, approve=False, key="k2", reason_code="seller_cancel_reason_out_of_stock"
        )
    assert (wrong_kind.value.code, wrong_kind.value.kind) == (25001016, ErrorKind.INVALID)
    assert "list of reasons" in wrong_kind.value.fix
    with pytest.raises(PlatformError) as unknown:
        aftersale.channel.cancellation_decide(request_id, approve=False, key="k3", reason_code="no_such_reason")
    assert (unknown.value.code, unknown.value.kind) == (25001014, ErrorKind.INVALID)

    with pytest.raises(ValueError, match="idempotency key"):
        aftersale.channel.cancellation_decide(request_id, approve=True, key="")
    assert _one_cancellation(aftersale, order_id).status is AfterSaleStatus.PENDING


def test_a_withdrawn_request_has_nothing_to_decide(aftersale: AfterSale) -> None:
    (order_id,) = aftersale.orders("AWAITING_SHIPMENT", seed=15)
    aftersale.event(order_id, "cancel_request")
    request_id = _one_cancellation(aftersale, order_id).request_id
    aftersale.event(order_id, "buyer_cancel_withdraw")

    withdrawn = _one_cancellation(aftersale, order_id)
    assert (withdrawn.status, withdrawn.needs_decision) == (AfterSaleStatus.WITHDRAWN, False)
    with pytest.raises(PlatformError) as refused:
        aftersale.channel.cancellation_decide(request_id, approve=True, key="late")
    assert (refused.value.code, refused.value.kind) == (25020009, ErrorKind.NOT_FOUND)
    assert "withdrew" in refused.value.fix


# --------------------------------------------------------------------------------------------- seller cancels
@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (OrderStatus.UNPAID, US_SELLER_CANCEL_UNPAID),
        (OrderStatus.ON_HOLD, US_SELLER_CANCEL_PAID),
        (OrderStatus.AWAITING_SHIPMENT, US_SELLER_CANCEL_PAID),
        (OrderStatus.AWAITING_COLLECTION, US_SELLER_CANCEL_PAID),
        (OrderStatus.PARTIALLY_SHIPPING, []),
        (OrderStatus.IN_TRANSIT, []),
        (OrderStatus.DELIVERED, []),
        (OrderStatus.COMPLETED, []),
        (OrderStatus.CANCELLED, []),
        (OrderStatus.UNKNOWN, []),
    ],
)
def test_seller_cancel_reasons_follow_the_us_appendix(status: OrderStatus, expected: list[str]) -> None:
    channel = TikTokSalesChannel(client=None)  # type: ignore[arg-type]  # a table: no call is made
    reasons = channel.seller_cancel_reasons(status)
    assert [r.code for r in reasons] == expected
    assert all(r.text for r in reasons)


def test_the_seller_cancels_an_order_with_the_refund_it_was_told(aftersale: AfterSale) -> None:
    (order_id,) = aftersale.orders("AWAITING_SHIPMENT", seed=16)
    reason = aftersale.channel.seller_cancel_reasons(OrderStatus.AWAITING_SHIPMENT)[0].code

    estimate = aftersale.channel.refund_estimate(order_id, reason_code=reason)
    cancel_id, status = aftersale.channel.order_cancel(order_id, reason_code=reason)

    record = aftersale.record(order_id)
    (platform,) = record["cancellations"]
    assert (cancel_id, status) == (platform["id"], AfterSaleStatus.APPROVED)
    assert (record["order_status"], platform["role"], platform["reason"]) == ("CANCELLED", "SELLER", reason)
    (calculate,) = aftersale.sent_to("Calculate Refund")
    assert json.loads(calculate.content) == {"order_id": order_id, "request_type": "CANCEL", "reason_name": reason}
    (cancel,) = aftersale.sent_to("Cancel Order")
    assert json.loads(cancel.content) == {"order_id": order_id, "cancel_reason": reason}
    cancellation = _one_cancellation(aftersale, order_id)
    assert (cancellation.request_id, cancellation.initiator) == (cancel_id, AfterSaleInitiator.SELLER)
    assert estimate is not None
    assert estimate == cancellation.refund
    assert estimate.amount > 0
    assert estimate.currency == "USD"


def test_a_reason_for_another_order_status_is_refused_with_a_fix(aftersale: AfterSale) -> None:
    (order_id,) = aftersale.orders("AWAITING_SHIPMENT", seed=17)
    unpaid_reason = US_SELLER_CANCEL_UNPAID[0]

    with pytest.raises(PlatformError) as refused:
        aftersale.channel.order_cancel(order_id, reason_code=unpaid_reason)

    assert (refused.value.code, refused.value.kind) == (25001021, ErrorKind.INVALID)
    assert "status" in refused.value.fix
    assert aftersale.record(order_id)["order_status"] == "AWAITING_SHIPMENT"
    with pytest.raises(PlatformError) as no_reason:
        aftersale.channel.order_cancel(order_id, reason_code="")
    assert no_reason.value.kind is ErrorKind.INVALID
    assert len(aftersale.sent_to("Cancel Order")) == 1


def test_cancelling_a_shipped_order_or_one_with_an_open_request_is_refused(aftersale: AfterSale) -> None:
    (shipped,) = aftersale.orders("IN_TRANSIT", seed=18)
    (requested,) = aftersale.orders("AWAITING_SHIPMENT", seed=19)
    aftersale.event(requested, "cancel_request")
    reason = US_SELLER_CANCEL_PAID[0]

    with pytest.raises(PlatformError) as on_its_way:
        aftersale.channel.order_cancel(shipped, reason_code=reason)
    with pytest.raises(PlatformError) as open_request:
        aftersale.channel.order_cancel(requested, reason_code=reason)

    assert (on_its_way.value.code, on_its_way.value.kind) == (25001045, ErrorKind.REFUSED)
    assert "shipped" in on_its_way.value.fix
    assert (open_request.value.code, open_request.value.kind) == (25001011, ErrorKind.REFUSED)
    assert "open cancellation" in open_request.value.fix


@pytest.mark.chaos
def test_a_lost_answer_to_cancel_order_is_outcome_unknown_and_cancels_once(aftersale: AfterSale) -> None:
    (order_id,) = aftersale.orders("AWAITING_SHIPMENT", seed=20)
    aftersale.faults(drop_response_after_commit=[{"api": "POST /return_refund/202309/cancellations", "next": 1}])

    with pytest.raises(PlatformOutcomeUnknown):
        aftersale.channel.order_cancel(order_id, reason_code=US_SELLER_CANCEL_PAID[0])

    assert len(aftersale.sent_to("Cancel Order")) == 1  # not repeated blindly
    # What the caller does next: read the order's cancellations, and find it done.
    cancellation = _one_cancellation(aftersale, order_id)
    assert (cancellation.initiator, cancellation.status) == (AfterSaleInitiator.SELLER, AfterSaleStatus.APPROVED)


def test_unknown_orders_are_not_found(aftersale: AfterSale) -> None:
    with pytest.raises(PlatformError) as estimate:
        aftersale.channel.refund_estimate("576400000000000001", reason_code=US_SELLER_CANCEL_PAID[0])
    assert (estimate.value.code, estimate.value.kind) == (25007006, ErrorKind.NOT_FOUND)
    with pytest.raises(PlatformError) as cancel:
        aftersale.channel.order_cancel("576400000000000001", reason_code=US_SELLER_CANCEL_PAID[0])
    assert (cancel.value.code, cancel.value.kind) == (25020005, ErrorKind.NOT_FOUND)
    assert cancel.value.fix


# --------------------------------------------------------------------------------------------------- returns
def test_a_return_request_is_read_as_the_platform_records_it(aftersale: AfterSale) -> None:
    order_id = _multi_unit_order(aftersale, "DELIVERED", seed=21)
    aftersale.event(order_id, "return_request", return_type="RETURN_AND_REFUND")

    request = _one_return(aftersale, order_id)

    (record,) = aftersale.record(order_id)["returns"]
    assert (request.request_id, request.order_id) == (record["id"], order_id)
    assert (request.kind, request.initiator) == (ReturnKind.RETURN_AND_REFUND, AfterSaleInitiator.BUYER)
    assert (request.status, request.platform_status) == (AfterSaleStatus.PENDING, "RETURN_OR_REFUND_REQUEST_PENDING")
    assert (request.reason.code, request.reason.text) == (record["reason"], record["reason_text"])
    assert request.decisions == (ReturnDecision.APPROVE_RETURN, ReturnDecision.REJECT_RETURN)
    assert request.respond_by == _at(record["deadline"])
    assert (request.created_at, request.updated_at) == (_at(record["create_time"]), _at(record["update_time"]))
    units = _units_by_sku(aftersale, order_id, record["line_item_ids"])
    assert {line.platform_sku_id: (line.order_line_id, line.quantity) for line in request.lines} == {
        sku: (ids[0], len(ids)) for sku, ids in units.items()
    }
    assert request.refund is not None
    assert request.refund.amount > 0
    assert (request.return_tracking_number, request.return_carrier) == ("", "")
    (search,) = aftersale.sent_to("Search Returns")
    assert json.loads(search.content) == {"order_ids": [order_id]}
    assert search.url.params["page_size"] == "50"


def test_a_return_is_answered_at_each_step(aftersale: AfterSale) -> None:
    (order_id,) = aftersale.orders("DELIVERED", seed=22)
    aftersale.event(order_id, "return_request", return_type="RETURN_AND_REFUND")
    request_id = _one_return(aftersale, order_id).request_id

    aftersale.channel.return_decide(request_id, ReturnDecision.APPROVE_RETURN, key="step-1")
    approved = _one_return(aftersale, order_id)
    assert (approved.status, approved.platform_status, approved.decisions) == (
        AfterSaleStatus.IN_PROGRESS,
        "AWAITING_BUYER_SHIP",
        (),
    )

    aftersale.event(order_id, "return_shipped", tracking_number="9400111899223197428490")
    shipped = _one_return(aftersale, order_id)
    (record,) = aftersale.record(order_id)["returns"]
    assert (shipped.status, shipped.decisions) == (AfterSaleStatus.IN_PROGRESS, ())
    assert (shipped.return_tracking_number, shipped.return_carrier) == (record["tracking_number"], "USPS")
    with pytest.raises(PlatformError) as too_early:  # the parcel is on its way: nothing to dispute yet
        aftersale.channel.return_decide(
            request_id, ReturnDecision.REJECT_RECEIVED, key="early", reason_code="reverse_reject_return_parcel_reason_1"
        )
    assert (too_early.value.code, too_early.value.kind) == (25011035, ErrorKind.NOT_READY)

    aftersale.event(order_id, "return_received")
    arrived = _one_return(aftersale, order_id)
    (record,) = aftersale.record(order_id)["returns"]
    assert (arrived.status, arrived.platform_status) == (AfterSaleStatus.PARCEL_RECEIVED, "BUYER_SHIPPED_ITEM")
    assert arrived.decisions == (ReturnDecision.APPROVE_RECEIVED, ReturnDecision.REJECT_RECEIVED)
    assert arrived.respond_by == _at(record["deadline"])

    aftersale.channel.return_decide(request_id, ReturnDecision.APPROVE_RECEIVED, key="step-2")
    done = _one_return(aftersale, order_id)
    (record,) = aftersale.record(order_id)["returns"]
    assert (done.status, done.platform_status, done.decisions) == (
        AfterSaleStatus.APPROVED,
        record["status"],
        (),
    )
    assert record["status"] == "RETURN_OR_REFUND_REQUEST_SUCCESS"
    decisions = [json.loads(r.content)["decision"] for r in aftersale.sent_to("Approve Return")]
    assert decisions == ["APPROVE_RETURN", "APPROVE_RECEIVED_PACKAGE"]

    history = aftersale.channel.return_history(request_id)
    assert [e.description.split(":")[0] for e in history] == [r["description"] for r in record["records"]]
    assert [e.at for e in history] == [_at(r["create_time"]) for r in record["records"]]
    assert history == sorted(history, key=lambda e: e.at or _at(0))
    assert {e.event for e in history} == {"ORDER_RETURN"}
    (asked,) = aftersale.sent_to("Get Return Records")
    assert asked.url.path == f"/return_refund/202309/returns/{request_id}/records"


def test_a_returned_parcel_can_be_disputed_with_its_own_reasons(aftersale: AfterSale) -> None:
    (order_id,) = aftersale.orders("DELIVERED", seed=23)
    aftersale.event(order_id, "return_request", return_type="RETURN_AND_REFUND")
    request_id = _one_return(aftersale, order_id).request_id
    aftersale.channel.return_decide(request_id, ReturnDecision.APPROVE_RETURN, key="a")
    aftersale.event(order_id, "return_shipped")
    aftersale.event(order_id, "return_received")

    reasons = aftersale.channel.reject_reasons(request_id)
    assert {r.code for r in reasons} == US_SELLER_REJECT_RECEIVED_PACKAGE
    aftersale.channel.return_decide(
        request_id, ReturnDecision.REJECT_RECEIVED, key="b", reason_code=reasons[0].code, comment="Wrong item inside"
    )

    disputed = _one_return(aftersale, order_id)
    assert (disputed.status, disputed.platform_status, disputed.decisions) == (
        AfterSaleStatus.REJECTED,
        "REJECT_RECEIVE_PACKAGE",
        (),
    )
    (reject,) = aftersale.sent_to("Reject Return")
    assert json.loads(reject.content) == {
        "decision": "REJECT_RECEIVED_PACKAGE",
        "reject_reason": reasons[0].code,
        "comment": "Wrong item inside",
    }
    last = aftersale.channel.return_history(request_id)[-1]
    assert (last.description, last.note) == (
        f"Seller rejected the returned package: {reasons[0].text}",
        "Wrong item inside",
    )


def test_a_refund_request_is_keyed_and_a_later_rejection_is_already_done(aftersale: AfterSale) -> None:
    (order_id,) = aftersale.orders("DELIVERED", seed=24)
    aftersale.event(order_id, "return_request", return_type="REFUND")
    request = _one_return(aftersale, order_id)
    assert (request.kind, request.decisions) == (
        ReturnKind.REFUND_ONLY,
        (ReturnDecision.APPROVE_REFUND, ReturnDecision.REJECT_REFUND),
    )

    aftersale.channel.return_decide(request.request_id, ReturnDecision.APPROVE_REFUND, key="refund-1")
    aftersale.channel.return_decide(request.request_id, ReturnDecision.APPROVE_REFUND, key="refund-1")

    (record,) = aftersale.record(order_id)["returns"]
    assert record["status"] == "RETURN_OR_REFUND_REQUEST_SUCCESS"
    assert sum(r["description"] == "Seller approved the refund request" for r in record["records"]) == 1
    assert [r.url.params["idempotency_key"] for r in aftersale.sent_to("Approve Return")] == ["refund-1"] * 2
    reason = "seller_reject_apply_item_is_correct"
    with pytest.raises(PlatformError) as refused:
        aftersale.channel.return_decide(request.request_id, ReturnDecision.REJECT_REFUND, key="r2", reason_code=reason)
    assert (refused.value.code, refused.value.kind) == (25020010, ErrorKind.ALREADY_DONE)
    assert _one_return(aftersale, order_id).status is AfterSaleStatus.APPROVED


def test_a_refund_request_is_rejected_with_a_reason_of_the_platforms_list(aftersale: AfterSale) -> None:
    (order_id,) = aftersale.orders("DELIVERED", seed=25)
    aftersale.event(order_id, "return_request", return_type="REFUND")
    request_id = _one_return(aftersale, order_id).request_id

    reasons = aftersale.channel.reject_reasons(request_id)

    assert [r.code for r in reasons] == US_SELLER_REJECT_REFUND

    aftersale.channel.return_decide(request_id, ReturnDecision.REJECT_REFUND, key="no", reason_code=reasons[0].code)

    rejected = _one_return(aftersale, order_id)
    assert (rejected.status, rejected.platform_status, rejected.decisions) == (
        AfterSaleStatus.REJECTED,
        "REFUND_OR_RETURN_REQUEST_REJECT",
        (),
    )


def test_a_replacement_is_answered_and_a_mismatched_answer_is_invalid(aftersale: AfterSale) -> None:
    (order_id,) = aftersale.orders("DELIVERED", seed=26)
    aftersale.event(order_id, "return_request", return_type="REPLACEMENT")
    request = _one_return(aftersale, order_id)
    assert (request.kind, request.status, request.platform_status) == (
        ReturnKind.REPLACEMENT,
        AfterSaleStatus.PENDING,
        "REPLACEMENT_REQUEST_PENDING",
    )
    assert request.decisions == (ReturnDecision.APPROVE_REPLACEMENT, ReturnDecision.REJECT_REPLACEMENT)

    with pytest.raises(PlatformError) as mismatch:
        aftersale.channel.return_decide(request.request_id, ReturnDecision.APPROVE_RETURN, key="wrong")
    assert (mismatch.value.code, mismatch.value.kind) == (25020004, ErrorKind.INVALID)

    aftersale.channel.return_decide(request.request_id, ReturnDecision.APPROVE_REPLACEMENT, key="swap")
    replaced = _one_return(aftersale, order_id)
    assert (replaced.status, replaced.platform_status) == (AfterSaleStatus.APPROVED, "REPLACEMENT_REQUEST_COMPLETE")


def test_a_withdrawn_return_has_nothing_to_answer(aftersale: AfterSale) -> None:
    (order_id,) = aftersale.orders("DELIVERED", seed=27)
    aftersale.event(order_id, "return_request", return_type="RETURN_AND_REFUND")
    request_id = _one_return(aftersale, order_id).request_id
    aftersale.event(order_id, "return_cancel")

    withdrawn = _one_return(aftersale, order_id)
    assert (withdrawn.status, withdrawn.decisions, withdrawn.respond_by) == (AfterSaleStatus.WITHDRAWN, (), None)
    with pytest.raises(PlatformError) as refused:
        aftersale.channel.return_decide(request_id, ReturnDecision.APPROVE_RETURN, key="late")
    assert (refused.value.code, refused.value.kind) == (25020009, ErrorKind.NOT_FOUND)


def test_returns_page_to_the_end_and_page_size_follows_the_spec(aftersale: AfterSale) -> None:
    order_ids = aftersale.orders("DELIVERED", 12, seed=28)
    for order_id in order_ids:
        aftersale.event(order_id, "return_request", return_type="REFUND")

    seen = [r.order_id for r in aftersale.client.iter_returns(page_size=10)]

    assert sorted(seen) == sorted(order_ids)
    searches = aftersale.sent_to("Search Returns")
    assert [r.url.params["page_size"] for r in searches] == ["10", "10"]
    assert searches[1].url.params["page_token"]
    with pytest.raises(ValueError, match="10-50"):
        aftersale.client.search_returns(page_size=5)  # Search Returns takes 10-50
    assert len(aftersale.sent_to("Search Returns")) == 2


# ------------------------------------------------------------------- translation of what the sandbox never says
# Statuses and shapes the sandbox does not produce (or not on demand): the spec's examples and enum lists.


@pytest.mark.parametrize(
    ("platform_status", "status"),
    [
        ("CANCELLATION_REQUEST_PENDING", AfterSaleStatus.PENDING),
        ("CANCELLATION_REQUEST_SUCCESS", AfterSaleStatus.APPROVED),
        ("CANCELLATION_REQUEST_CANCELLED", AfterSaleStatus.WITHDRAWN),
        ("CANCELLATION_REQUEST_CANCEL", AfterSaleStatus.WITHDRAWN),  # the request filter's / Cancel Order's spelling
        ("CANCELLATION_REQUEST_COMPLETE", AfterSaleStatus.APPROVED),
        ("CANCELLATION_REQUEST_SOMETHING_NEW", AfterSaleStatus.UNKNOWN),
    ],
)
def test_cancellation_statuses(platform_status: str, status: AfterSaleStatus) -> None:
    from integrations.tiktok import translate

    cancellation = translate.cancellation_from_json(
        {"cancel_id": "1", "cancel_status": platform_status, "role": "SYSTEM"}
    )
    assert (cancellation.status, cancellation.platform_status) == (status, platform_status)
    assert cancellation.initiator is AfterSaleInitiator.PLATFORM
    assert (cancellation.needs_decision, cancellation.lines, cancellation.refund) == (False, (), None)


@pytest.mark.parametrize(
    ("platform_status", "action", "status"),
    [
        ("RETURN_OR_REFUND_REQUEST_PENDING", "SELLER_RESPOND_RETURN", AfterSaleStatus.PENDING),
        ("REFUND_OR_RETURN_REQUEST_REJECT", "", AfterSaleStatus.REJECTED),
        ("AWAITING_BUYER_SHIP", "", AfterSaleStatus.IN_PROGRESS),
        ("BUYER_SHIPPED_ITEM", "", AfterSaleStatus.IN_PROGRESS),
        ("BUYER_SHIPPED_ITEM", "SELLER_RESPOND_RECEIVE_PACKAGE", AfterSaleStatus.PARCEL_RECEIVED),
        ("REJECT_RECEIVE_PACKAGE", "", AfterSaleStatus.REJECTED),
        ("RETURN_OR_REFUND_REQUEST_SUCCESS", "", AfterSaleStatus.APPROVED),
        ("RETURN_OR_REFUND_REQUEST_CANCEL", "", AfterSaleStatus.WITHDRAWN),
        ("RETURN_OR_REFUND_CANCEL", "", AfterSaleStatus.WITHDRAWN),  # the overview's spelling
        ("RETURN_OR_REFUND_REQUEST_COMPLETE", "", AfterSaleStatus.APPROVED),
        ("AWAITING_BUYER_RESPONSE", "", AfterSaleStatus.IN_PROGRESS),
        ("REPLACEMENT_REQUEST_PENDING", "SELLER_RESPOND_REPLACEMENT", AfterSaleStatus.PENDING),
        ("REPLACEMENT_REQUEST_REJECT", "", AfterSaleStatus.REJECTED),
        ("REPLACEMENT_REQUEST_REFUND_SUCCESS", "", AfterSaleStatus.APPROVED),
        ("REPLACEMENT_REQUEST_CANCEL", "", AfterSaleStatus.WITHDRAWN),
        ("REPLACEMENT_REQUEST_COMPLETE", "", AfterSaleStatus.APPROVED),
        ("RETURN_UNDER_ARBITRATION_SOMEDAY", "", AfterSaleStatus.UNKNOWN),
    ],
)
def test_return_statuses(platform_status: str, action: str, status: AfterSaleStatus) -> None:
    from integrations.tiktok import translate

    return_type = "REPLACEMENT" if platform_status.startswith("REPLACEMENT") else "RETURN_AND_REFUND"
    request = translate.return_from_json(
        {
            "return_id": "1",
            "return_status": platform_status,
            "return_type": return_type,
            "seller_next_action_response": [{"action": action, "deadline": 1690554680}] if action else [],
        }
    )
    assert (request.status, request.platform_status) == (status, platform_status)
    assert bool(request.decisions) == bool(action)
    assert request.respond_by == (_at(1690554680) if action else None)


def test_the_spec_example_of_search_returns() -> None:
    """The response_body example of search-returns.spec.json (trimmed to the fields Dropline reads)."""
    from integrations.tiktok import translate

    example = {
        "order_id": "577686530908261117",
        "return_id": "4035318504086604100",
        "return_type": "REFUND",
        "return_status": "RETURN_OR_REFUND_REQUEST_PENDING",
        "role": "BUYER",
        "return_reason": "ecom_order_to_ship_canceled_reason_created_by_mistakes",
        "return_reason_text": "Order created by mistake",
        "return_tracking_number": "213456789098765433456",
        "return_provider_name": "J&T Express",
        "update_time": 1690453136,
        "seller_next_action_response": [{"action": "SELLER_RESPOND_REFUND", "deadline": 1690554680}],
        "create_time": 1690451136,
        "return_line_items": [
            {
                "return_line_item_id": "4035227657962164811",
                "order_line_item_id": "576473917261451851",
                "sku_id": "2729382476852921560",
                "seller_sku": "PUTIH 1 TALI",
                "refund_amount": {"currency": "USD", "refund_total": "1.23"},
            }
        ],
        "refund_amount": {"currency": "USD", "refund_total": "1.23", "refund_subtotal": "1"},
    }
    request = translate.return_from_json(example)
    assert request.kind is ReturnKind.REFUND_ONLY
    assert request.decisions == (ReturnDecision.APPROVE_REFUND, ReturnDecision.REJECT_REFUND)
    assert (request.return_tracking_number, request.return_carrier) == ("213456789098765433456", "J&T Express")
    assert request.refund is not None
    assert (request.refund.amount, request.refund.currency) == (Decimal("1.23"), "USD")
    (line,) = request.lines
    assert (line.order_line_id, line.seller_sku, line.platform_sku_id, line.quantity) == (
        "576473917261451851",
        "PUTIH 1 TALI",
        "2729382476852921560",
        1,
    )
    # An action that does not answer this return type is not offered (TikTok would refuse it with 25020004).
    mismatched = translate.return_from_json(
        dict(example, seller_next_action_response=[{"action": "SELLER_RESPOND_REPLACEMENT", "deadline": 1}])
    )
    assert (mismatched.decisions, mismatched.respond_by) == ((), None)
    # Get Return Records' example spells the role "Buyer"; records come back oldest first.
    history = translate.return_records_from_json(
        {
            "records": [
                {
                    "event": "ORDER_RETURN",
                    "role": "Seller",
                    "description": "Seller rejected",
                    "create_time": 1690532300,
                },
                {
                    "event": "ORDER_RETURN",
                    "role": "Buyer",
                    "description": "Customer submitted a return request",
                    "reason_text": "Wrong product was sent",
                    "note": "Reach an agreement with the buyer",
                    "create_time": 1690532213,
                },
            ]
        }
    )
    assert [(e.at, e.description, e.note) for e in history] == [
        (
            _at(1690532213),
            "Customer submitted a return request: Wrong product was sent",
            "Reach an agreement with the buyer",
        ),
        (_at(1690532300), "Seller rejected", ""),
    ]
    assert translate.initiator("Buyer") is AfterSaleInitiator.BUYER
    assert translate.initiator("OPERATOR") is AfterSaleInitiator.PLATFORM
