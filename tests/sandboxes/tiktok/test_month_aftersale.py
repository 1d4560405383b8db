"""The month scenario's cancellations, returns and address changes: present in several states, searchable through
the API, coherent with the orders' own times, and seeded without a single webhook."""

from __future__ import annotations

from sandboxes.tiktok import aftersale as A
from tests.sandboxes.tiktok.aftersale_support import RR
from tests.sandboxes.tiktok.conftest import Api


def test_the_month_holds_after_sale_work_in_several_states(api: Api) -> None:
    sb = api.sb
    sb.clock.freeze()
    pushes_before = len(sb.webhooks.deliveries) + len(sb.webhooks.undeliverable)
    month = api.client.post("/sandbox/scenarios/month", json={"seed": 7}).json()
    assert len(sb.webhooks.deliveries) + len(sb.webhooks.undeliverable) == pushes_before
    now = sb.clock.now()
    book = sb.world.aftersale
    returns = [r for r in book.returns.values() if r.shop_id == month["shop_id"]]
    cancels = [c for c in book.cancellations.values() if c.shop_id == month["shop_id"]]
    assert {r.return_type for r in returns} == {"REFUND", "RETURN_AND_REFUND", "REPLACEMENT"}
    assert len({r.status for r in returns}) >= 6
    assert any(r.received_time and r.status == A.R_SHIPPED for r in returns)  # a parcel waiting for inspection
    pending = [c for c in cancels if c.status == A.CANCEL_PENDING]
    assert pending
    assert all(now < c.deadline <= now + A.SELLER_RESPONSE_SECONDS for c in pending)
    assert any(c.deadline - now <= 8 * 3600 for c in pending)  # one close to its deadline
    assert {c.status for c in cancels} >= {A.CANCEL_PENDING, A.CANCEL_COMPLETE, A.CANCEL_CANCELLED}
    for r in returns:
        o = sb.world.orders[r.order_id]
        assert (o.delivery_time or o.collection_time) < r.create_time <= r.update_time <= now
        assert r.deadline == 0 or r.deadline > now or r.status in A.FINAL_RETURN
    assert len([e for e in book.address_changes if e["shop_id"] == month["shop_id"]]) >= 1
    assert month["aftersale"]["returns"]
    assert sb.world.tick(now) == 0  # nothing left over from the past


def test_the_month_is_readable_through_the_return_and_refund_apis(api: Api) -> None:
    month = api.client.post("/sandbox/scenarios/month", json={"name": "Dropline Month US", "seed": 7}).json()
    seller_id = month["seller_id"]
    api.authorize(list(api.sb.world.sellers).index(seller_id))
    returns = api.ok("POST", f"{RR}/returns/search", {"page_size": "50"}, {})
    assert returns["total_count"] >= 8
    cancels = api.ok(
        "POST", f"{RR}/cancellations/search", {"page_size": "50"}, {"cancel_status": ["CANCELLATION_REQUEST_PENDING"]}
    )
    assert cancels["total_count"] >= 1
    assert all(c["seller_next_action_response"] for c in cancels["cancellations"])
