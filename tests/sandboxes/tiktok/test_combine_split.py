"""Combined and split packages: Search Combinable Packages, Combine Package, Uncombine Packages, Get Order Split
Attributes, Split Orders, and what labels, documents, order detail and cancellations do with them."""

from __future__ import annotations

import copy
from typing import Any

import httpx

from sandboxes.tiktok.state import Order
from tests.sandboxes.tiktok.conftest import Api

SEARCH = "/fulfillment/202309/combinable_packages/search"
COMBINE = "/fulfillment/202309/packages/combine"
PACKAGES = "/fulfillment/202309/packages"
SPLIT_ATTRS = "/fulfillment/202309/orders/split_attributes"


def _ready(api: Api, *, min_lines: int = 1, exclude: tuple[str, ...] = ()) -> list[Order]:
    """Awaiting-shipment TikTok Shipping orders of the current shop, nothing pending, light enough to label."""
    world = api.sb.world
    shop = world.shops_by_cipher[api.cipher or ""]
    return [
        o
        for o in sorted(world.orders.values(), key=lambda o: o.id)
        if o.shop_id == shop.id
        and o.id not in exclude
        and o.status == "AWAITING_SHIPMENT"
        and o.shipping_type == "TIKTOK"
        and o.fulfillment_type == "FULFILLMENT_BY_SELLER"
        and not o.is_buyer_request_cancel
        and not o.address.bad_reason
        and not o.package_ids
        and len(o.line_items) >= min_lines
        and sum(world.skus[li.sku_id].weight_lb for li in o.line_items) < 10
    ]


def _same_buyer(api: Api, n: int = 2) -> list[Order]:
    """n orders made one buyer's: same user, recipient, warehouse and delivery option as the first."""
    candidates = _ready(api)
    first = candidates[0]
    twins = [first]
    for o in candidates[1:]:
        if len(twins) == n:
            break
        if o.warehouse_id == first.warehouse_id and o.delivery_option_id == first.delivery_option_id:
            o.user_id = first.user_id
            o.address = copy.deepcopy(first.address)
            twins.append(o)
    assert len(twins) == n
    return twins


def _search_all(api: Api, page_size: int = 50) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    token = ""
    while True:
        q = {"page_size": str(page_size)}
        if token:
            q["page_token"] = token
        data = api.ok("GET", SEARCH, q)
        out += data["combinable_packages"]
        token = data["next_page_token"]
        if not token:
            return out


def _pre_package(api: Api, orders: list[Order]) -> dict[str, Any]:
    wanted = {o.id for o in orders}
    return next(p for p in _search_all(api) if set(p["order_ids"]) == wanted)


def _combine(api: Api, orders: list[Order]) -> dict[str, Any]:
    pre = _pre_package(api, orders)
    data = api.ok("POST", COMBINE, {}, {"combinable_packages": [{"id": pre["id"], "order_ids": pre["order_ids"]}]})
    assert data["errors"] == []
    return data["packages"][0]


def _detail(api: Api, order_id: str) -> dict[str, Any]:
    return api.ok("GET", "/order/202309/orders", {"ids": order_id})["orders"][0]


class Receiver:
    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []

    def handler(self, request: httpx.Request) -> httpx.Response:
        import json

        self.received.append(json.loads(request.read()))
        return httpx.Response(200)


def _package_updates(api: Api) -> Receiver:
    rx = Receiver()
    api.sb.webhook_transport = httpx.MockTransport(rx.handler)
    api.ok(
        "PUT", "/event/202309/webhooks", {}, {"address": "http://127.0.0.1:8000/hook/", "event_type": "PACKAGE_UPDATE"}
    )
    return rx


# ---------------------------------------------------------------------- search
def test_search_lists_orders_of_one_buyer_and_address_as_one_pre_package(api: Api) -> None:
    a, b = _same_buyer(api)
    found = _search_all(api)
    pre = next(p for p in found if a.id in p["order_ids"])
    assert sorted(pre["order_ids"]) == sorted([a.id, b.id])
    assert pre["id"].isdigit()
    assert len(pre["id"]) >= 18
    # The same group keeps its pre-generated id across searches.
    assert _pre_package(api, [a, b])["id"] == pre["id"]
    # total_count counts orders ("The number of orders that meet the query conditions").
    data = api.ok("GET", SEARCH, {"page_size": "50"})
    assert data["total_count"] == sum(len(p["order_ids"]) for p in found)


def test_search_leaves_out_orders_that_differ_in_address_warehouse_or_status(api: Api) -> None:
    a, b, c = _same_buyer(api, 3)
    c.address.line1 = "1 Other Street"  # same buyer, another address: cannot share a parcel
    pre = _pre_package(api, [a, b])
    assert c.id not in pre["order_ids"]
    b.is_buyer_request_cancel = True  # pending after-sale request: not combinable
    assert not any(a.id in p["order_ids"] for p in _search_all(api))


def test_search_pages_with_opaque_tokens_and_checks_page_size(api: Api) -> None:
    orders = _ready(api)
    # Three buyers with two orders each.
    for i in range(3):
        x, y = orders[2 * i], orders[2 * i + 1]
        y.user_id, y.address = x.user_id, copy.deepcopy(x.address)
        y.warehouse_id, y.delivery_option_id = x.warehouse_id, x.delivery_option_id
    everything = _search_all(api, page_size=50)
    paged = _search_all(api, page_size=1)
    assert [p["id"] for p in paged] == [p["id"] for p in everything]
    assert len(everything) >= 3
    for bad in ("0", "51", "x"):
        assert api.call("GET", SEARCH, {"page_size": bad}).json()["code"] == 21011005
    assert api.call("GET", SEARCH).json()["code"] == 21011005
    assert api.call("GET", SEARCH, {"page_size": "5", "page_token": "bogus"}).json()["code"] == 21011005


# ---------------------------------------------------------------------- combine / uncombine
def test_combine_makes_one_package_for_both_orders(api: Api) -> None:
    rx = _package_updates(api)
    a, b = _same_buyer(api)
    pre = _pre_package(api, [a, b])
    data = api.ok("POST", COMBINE, {}, {"combinable_packages": [{"id": pre["id"], "order_ids": pre["order_ids"]}]})
    assert data["errors"] == []
    [pkg] = data["packages"]
    assert pkg["id"] != pre["id"]  # "The new package ID generated after the package has been successfully combined"
    assert sorted(pkg["order_ids"]) == sorted([a.id, b.id])
    for o in (a, b):
        view = _detail(api, o.id)
        assert view["packages"] == [{"id": pkg["id"]}]
        assert view["split_or_combine_tag"] == "COMBINED"
        assert {li["package_id"] for li in view["line_items"]} == {pkg["id"]}
        assert {li["package_status"] for li in view["line_items"]} == {"TO_FULFILL"}
        assert view["status"] == "AWAITING_SHIPMENT"
    detail = api.ok("GET", f"{PACKAGES}/{pkg['id']}")
    assert detail["split_and_combine_tag"] == "COMBINE"
    assert sorted(x["id"] for x in detail["orders"]) == sorted([a.id, b.id])
    assert sorted(detail["order_line_item_ids"]) == sorted(li.id for o in (a, b) for li in o.line_items)
    control = api.client.get(f"/sandbox/packages/{pkg['id']}").json()
    assert sorted(control["order_ids"]) == sorted([a.id, b.id])
    assert control["shipped"] is False
    # The pair is no longer offered.
    assert not any(a.id in p["order_ids"] for p in _search_all(api))
    api.client.post("/sandbox/webhooks/flush")
    [event] = [e for e in rx.received if e["type"] == 4]
    assert event["data"]["sc_type"] == "COMBINE"
    assert event["data"]["role_type"] == "ROLE_SELLER"
    assert event["data"]["package_list"] == [{"package_id": pkg["id"], "order_id_list": pkg["order_ids"]}]


def test_combining_twice_is_refused_with_order_already_combined(api: Api) -> None:
    a, b = _same_buyer(api)
    pre = _pre_package(api, [a, b])
    api.ok("POST", COMBINE, {}, {"combinable_packages": [{"id": pre["id"]}]})
    again = api.ok("POST", COMBINE, {}, {"combinable_packages": [{"id": pre["id"]}]})
    assert again["packages"] == []
    [err] = again["errors"]
    assert err["code"] == 21011033
    assert err["message"].startswith("order already combined")
    assert err["detail"] == {"package_id": pre["id"]}


def test_combine_reports_each_bad_item_and_still_combines_the_good_one(api: Api) -> None:
    a, b, c, d = _ready(api)[:4]
    b.user_id, b.address, b.warehouse_id, b.delivery_option_id = (
        a.user_id,
        copy.deepcopy(a.address),
        a.warehouse_id,
        a.delivery_option_id,
    )
    d.user_id, d.address, d.warehouse_id, d.delivery_option_id = (
        c.user_id,
        copy.deepcopy(c.address),
        c.warehouse_id,
        c.delivery_option_id,
    )
    good, other = _pre_package(api, [a, b]), _pre_package(api, [c, d])
    d.is_buyer_request_cancel = True  # after-sale request arrived after the search
    data = api.ok(
        "POST",
        COMBINE,
        {},
        {
            "combinable_packages": [
                {"id": good["id"]},
                {"id": other["id"]},
                {"id": "1152321000000000001"},
                {"id": good["id"], "order_ids": [c.id]},
            ]
        },
    )
    assert [sorted(p["order_ids"]) for p in data["packages"]] == [sorted([a.id, b.id])]
    codes = [(e["code"], e["detail"]["package_id"]) for e in data["errors"]]
    assert codes == [(21011007, other["id"]), (21011028, "1152321000000000001"), (21011031, good["id"])]


def test_combine_needs_two_orders_and_a_well_formed_body(api: Api) -> None:
    a, b = _same_buyer(api)
    pre = _pre_package(api, [a, b])
    one = api.ok("POST", COMBINE, {}, {"combinable_packages": [{"id": pre["id"], "order_ids": [a.id]}]})
    assert one["errors"][0]["code"] == 10007014
    for body in ({}, {"combinable_packages": []}, {"combinable_packages": [{"order_ids": [a.id]}]}):
        assert api.call("POST", COMBINE, {}, body).json()["code"] == 21011005


def test_combine_in_another_shop_is_refused(api: Api) -> None:
    a, b = _same_buyer(api)
    pre = _pre_package(api, [a, b])
    api.authorize(seller_index=1)  # the UK seller's shop
    data = api.ok("POST", COMBINE, {}, {"combinable_packages": [{"id": pre["id"]}]})
    assert data["errors"][0]["code"] == 21011028


def test_uncombine_restores_one_package_per_order(api: Api) -> None:
    rx = _package_updates(api)
    a, b = _same_buyer(api)
    pkg = _combine(api, [a, b])
    data = api.ok("POST", f"{PACKAGES}/{pkg['id']}/uncombine", {}, {"order_ids": [a.id]})
    # Two orders, one removed: the other would be alone, so each order gets its own package.
    assert sorted(o for p in data["packages"] for o in p["order_ids"]) == sorted([a.id, b.id])
    assert all(len(p["order_ids"]) == 1 for p in data["packages"])
    for o in (a, b):
        view = _detail(api, o.id)
        [own] = view["packages"]
        assert own["id"] != pkg["id"]
        assert "split_or_combine_tag" not in view
        assert {li["package_id"] for li in view["line_items"]} == {own["id"]}
    # A label for one of them is for its own package now.
    own_a = _detail(api, a.id)["packages"][0]["id"]
    assert api.ok("POST", PACKAGES, {}, {"order_id": a.id})["package_id"] == own_a
    # The old combined package is gone.
    assert api.call("GET", f"{PACKAGES}/{pkg['id']}").json()["code"] == 21008111
    api.client.post("/sandbox/webhooks/flush")
    types = [e["data"]["sc_type"] for e in rx.received if e["type"] == 4]
    assert types == ["COMBINE", "CANCEL_COMBINE"]


def test_uncombined_orders_can_be_combined_again(api: Api) -> None:
    a, b = _same_buyer(api)
    pkg = _combine(api, [a, b])
    api.ok("POST", f"{PACKAGES}/{pkg['id']}/uncombine", {}, {})
    again = _combine(api, [a, b])
    assert sorted(again["order_ids"]) == sorted([a.id, b.id])


def test_us_seller_shipping_orders_are_neither_combined_nor_split(api: Api) -> None:
    world = api.sb.world
    shop = world.shops_by_cipher[api.cipher or ""]
    seller = [
        o
        for o in sorted(world.orders.values(), key=lambda o: o.id)
        if o.shop_id == shop.id and o.status == "AWAITING_SHIPMENT" and o.shipping_type == "SELLER"
    ]
    a = seller[0]
    b = next(o for o in seller[1:] if o.delivery_option_id == a.delivery_option_id)
    b.user_id, b.address, b.is_buyer_request_cancel, a.is_buyer_request_cancel = (
        a.user_id,
        copy.deepcopy(a.address),
        False,
        False,
    )
    assert not any(a.id in p["order_ids"] for p in _search_all(api))
    _add_line(api, a)
    [row] = api.ok("GET", SPLIT_ATTRS, {"order_ids": a.id})["split_attributes"]
    assert row["can_split"] is False
    assert "Mark Package As Shipped" in row["reason"]


def test_uncombine_one_of_three_keeps_the_other_two_combined(api: Api) -> None:
    a, b, c = _same_buyer(api, 3)
    pkg = _combine(api, [a, b, c])
    data = api.ok("POST", f"{PACKAGES}/{pkg['id']}/uncombine", {}, {"order_ids": [c.id]})
    by_id = {p["id"]: sorted(p["order_ids"]) for p in data["packages"]}
    assert by_id[pkg["id"]] == sorted([a.id, b.id])
    assert [c.id] in by_id.values()
    assert api.ok("GET", f"{PACKAGES}/{pkg['id']}")["split_and_combine_tag"] == "COMBINE"


def test_uncombine_refusals(api: Api) -> None:
    a, b, c = _same_buyer(api, 3)
    c.address.line1 = "9 Elsewhere Road"  # not in the group
    pkg = _combine(api, [a, b])
    url = f"{PACKAGES}/{pkg['id']}/uncombine"
    assert api.call("POST", url, {}, {"order_ids": [c.id]}).json()["code"] == 21011029
    assert api.call("POST", url, {}, {"order_ids": "x"}).json()["code"] == 21011005
    assert api.call("POST", f"{PACKAGES}/1152321000000000001/uncombine", {}, {}).json()["code"] == 21011028
    # A package that is not combined.
    single = api.ok("POST", url, {}, {})["packages"][0]["id"]
    assert api.call("POST", f"{PACKAGES}/{single}/uncombine", {}, {}).json()["code"] == 21011005


# ---------------------------------------------------------------------- labels for combined packages
def test_a_combined_package_gets_one_label_for_both_orders(any_api: Api) -> None:
    api = any_api  # in-process and over a real socket
    a, b = _same_buyer(api)
    pkg = _combine(api, [a, b])
    all_lines = sorted(li.id for o in (a, b) for li in o.line_items)
    quote = api.ok("POST", f"/fulfillment/202309/orders/{a.id}/shipping_services/query", {}, {})
    assert sorted(quote["order_line_id"]) == all_lines  # the quote is for the whole parcel
    before = len(api.sb.world.labels)
    created = api.ok("POST", PACKAGES, {}, {"order_id": a.id})
    assert created["package_id"] == pkg["id"]
    assert sorted(created["order_line_item_ids"]) == all_lines
    assert len(api.sb.world.labels) == before + 1
    # The ledger shows the one label under either order.
    for o in (a, b):
        [label] = api.client.get("/sandbox/labels", params={"order_id": o.id}).json()["labels"]
        assert label["package_id"] == pkg["id"]
        assert sorted(label["order_ids"]) == sorted([a.id, b.id])
    tracking = {li["tracking_number"] for o in (a, b) for li in _detail(api, o.id)["line_items"]}
    assert len(tracking) == 1
    assert tracking.pop()
    assert {_detail(api, o.id)["status"] for o in (a, b)} == {"AWAITING_COLLECTION"}
    # Buying again through the other order is the documented "already purchased".
    assert api.call("POST", PACKAGES, {}, {"order_id": b.id}).json()["code"] == 21022025
    # Too late to uncombine.
    assert api.call("POST", f"{PACKAGES}/{pkg['id']}/uncombine", {}, {}).json()["code"] == 21022025
    control = api.client.get(f"/sandbox/packages/{pkg['id']}").json()
    assert control["shipped"] is True
    assert len(control["labels"]) == 1
    doc = api.ok(
        "GET", f"{PACKAGES}/{pkg['id']}/shipping_documents", {"document_type": "SHIPPING_LABEL_AND_PACKING_SLIP"}
    )
    assert doc["tracking_number"] == control["tracking_number"]
    searched = api.ok("POST", f"{PACKAGES}/search", {"page_size": "50"}, {})["packages"]
    assert sorted(o["id"] for o in next(p for p in searched if p["id"] == pkg["id"])["orders"]) == sorted([a.id, b.id])


def test_part_of_a_combined_order_cannot_be_labelled_alone(api: Api) -> None:
    a, b = _same_buyer(api)
    _add_line(api, a)
    _combine(api, [a, b])
    code = api.call("POST", PACKAGES, {}, {"order_id": a.id, "order_line_item_ids": [b.line_items[0].id]}).json()
    assert code["code"] == 21011029  # b's line is not a's
    part = api.call("POST", PACKAGES, {}, {"order_id": a.id, "order_line_item_ids": [a.line_items[0].id]})
    assert part.json()["code"] == 21011046
    b.is_buyer_request_cancel = True  # an after-sale request on any order of the parcel blocks the label
    assert api.call("POST", PACKAGES, {}, {"order_id": a.id}).json()["code"] == 21011007


def test_cancelling_one_order_takes_it_out_of_the_combined_package(api: Api) -> None:
    rx = _package_updates(api)
    a, b, c = _same_buyer(api, 3)
    pkg = _combine(api, [a, b, c])
    api.client.post(f"/sandbox/orders/{c.id}/events", json={"type": "cancel", "initiator": "BUYER", "reason": "x"})
    detail = api.ok("GET", f"{PACKAGES}/{pkg['id']}")
    assert sorted(o["id"] for o in detail["orders"]) == sorted([a.id, b.id])
    assert detail["split_and_combine_tag"] == "COMBINE"
    assert detail["package_status"] == "PROCESSING"
    view = _detail(api, c.id)
    assert view["status"] == "CANCELLED"
    assert view["packages"] == []
    # The label bought now covers the two orders left.
    created = api.ok("POST", PACKAGES, {}, {"order_id": a.id})
    assert created["package_id"] == pkg["id"]
    assert sorted(created["order_line_item_ids"]) == sorted(li.id for o in (a, b) for li in o.line_items)
    # Cancel one of the last two: the package is a plain one-order package again.
    api.client.post(f"/sandbox/orders/{b.id}/events", json={"type": "cancel", "initiator": "SELLER"})
    assert api.ok("GET", f"{PACKAGES}/{pkg['id']}")["split_and_combine_tag"] == "DEFAULT"
    api.client.post("/sandbox/webhooks/flush")
    updates = [e["data"] for e in rx.received if e["type"] == 4]
    assert [(u["sc_type"], u["role_type"]) for u in updates] == [
        ("COMBINE", "ROLE_SELLER"),
        ("FULFILL_UNCOMBINE", "ROLE_USER"),
        ("FULFILL_UNCOMBINE", "ROLE_SELLER"),
    ]
    assert sorted(updates[1]["package_list"][0]["order_id_list"]) == sorted([a.id, b.id])


def test_uk_combined_package_ships_both_orders_with_ship_package(api: Api) -> None:
    api.authorize(seller_index=1)
    world = api.sb.world
    shop = world.shops_by_cipher[api.cipher or ""]
    ready = [
        o
        for o in sorted(world.orders.values(), key=lambda o: o.id)
        if o.shop_id == shop.id
        and o.status == "AWAITING_SHIPMENT"
        and o.shipping_type == "TIKTOK"
        and not o.is_buyer_request_cancel
    ]
    a = ready[0]
    b = next(o for o in ready[1:] if o.delivery_option_id == a.delivery_option_id)
    b.user_id, b.address = a.user_id, copy.deepcopy(a.address)
    old = [a.package_ids[0], b.package_ids[0]]  # non-US packages exist from payment
    pkg = _combine(api, [a, b])
    assert pkg["id"] not in old
    assert api.call("GET", f"{PACKAGES}/{old[0]}").json()["code"] == 21008111
    api.ok("POST", f"{PACKAGES}/{pkg['id']}/ship", {}, {"handover_method": "DROP_OFF"})
    assert a.status == b.status == "AWAITING_COLLECTION"
    assert {li.tracking_number for o in (a, b) for li in o.line_items} == {world.packages[pkg["id"]].tracking_number}


# ---------------------------------------------------------------------- split
def test_split_attributes_say_which_orders_may_split_and_why_not(api: Api) -> None:
    world = api.sb.world
    shop = world.shops_by_cipher[api.cipher or ""]
    multi = _ready(api, min_lines=2)[0]
    single = next(o for o in _ready(api) if len(o.line_items) == 1)
    cancelled = next(o for o in world.orders.values() if o.shop_id == shop.id and o.status == "CANCELLED")
    shipped = next(o for o in world.orders.values() if o.shop_id == shop.id and o.status == "IN_TRANSIT")
    ids = [multi.id, single.id, cancelled.id, shipped.id, "576461000000000001"]
    rows = {r["order_id"]: r for r in api.ok("GET", SPLIT_ATTRS, {"order_ids": ",".join(ids)})["split_attributes"]}
    assert rows[multi.id] == {"order_id": multi.id, "can_split": True, "must_split": False}
    assert rows[single.id]["can_split"] is False
    assert rows[single.id]["reason"] == "Order has only one item"
    assert rows[cancelled.id]["reason"] == "Order has been canceled"
    assert rows[shipped.id]["reason"] == "Order has been shipped"
    assert rows["576461000000000001"]["can_split"] is False
    assert api.call("GET", SPLIT_ATTRS).json()["code"] == 21011005
    # JSON-array form of the query parameter is read too.
    again = api.ok("GET", SPLIT_ATTRS, {"order_ids": f'["{multi.id}"]'})["split_attributes"]
    assert again[0]["can_split"] is True


def test_split_attributes_must_split_an_order_over_the_item_limit(api: Api) -> None:
    o = _ready(api, min_lines=2)[0]
    template = o.line_items[0]
    world = api.sb.world
    while len(o.line_items) <= 20:
        li = copy.deepcopy(template)
        li.id = world.ids.next("line")
        o.line_items.append(li)
    [row] = api.ok("GET", SPLIT_ATTRS, {"order_ids": o.id})["split_attributes"]
    assert row["can_split"] is True
    assert row["must_split"] is True
    assert row["must_split_reasons"] == [{"type": "TOTAL_COUNT_LIMITATION", "max_count": "20"}]


def _split_in_two(api: Api, o: Order) -> list[dict[str, Any]]:
    ids = [li.id for li in o.line_items]
    body = {
        "splittable_groups": [
            {"id": "first", "order_line_item_ids": ids[:1]},
            {"id": "rest", "order_line_item_ids": ids[1:]},
        ]
    }
    return api.ok("POST", f"/fulfillment/202309/orders/{o.id}/split", {}, body)["packages"]


def test_split_gives_one_package_per_group_then_one_label_each(api: Api) -> None:
    rx = _package_updates(api)
    o = _ready(api, min_lines=2)[0]
    packages = _split_in_two(api, o)
    assert [p["splittable_group_id"] for p in packages] == ["first", "rest"]
    first, rest = packages[0]["id"], packages[1]["id"]
    view = _detail(api, o.id)
    assert sorted(p["id"] for p in view["packages"]) == sorted([first, rest])
    assert view["split_or_combine_tag"] == "SPLIT"
    assert view["line_items"][0]["package_id"] == first
    assert api.ok("GET", f"{PACKAGES}/{first}")["split_and_combine_tag"] == "SPLIT"
    # Which package? The order has two: say which lines.
    assert api.call("POST", PACKAGES, {}, {"order_id": o.id}).json()["code"] == 21011048
    crossing = [o.line_items[0].id, o.line_items[1].id]
    assert (
        api.call("POST", PACKAGES, {}, {"order_id": o.id, "order_line_item_ids": crossing}).json()["code"] == 21011035
    )
    one = api.ok("POST", PACKAGES, {}, {"order_id": o.id, "order_line_item_ids": [o.line_items[0].id]})
    assert one["package_id"] == first
    assert _detail(api, o.id)["status"] == "PARTIALLY_SHIPPING"
    two = api.ok("POST", PACKAGES, {}, {"order_id": o.id, "order_line_item_ids": [li.id for li in o.line_items[1:]]})
    assert two["package_id"] == rest
    assert _detail(api, o.id)["status"] == "AWAITING_COLLECTION"
    labels = api.client.get("/sandbox/labels", params={"order_id": o.id}).json()["labels"]
    assert sorted(lb["package_id"] for lb in labels) == sorted([first, rest])
    assert len({lb["tracking_number"] for lb in labels}) == 2
    api.client.post("/sandbox/webhooks/flush")
    [event] = [e["data"] for e in rx.received if e["type"] == 4]
    assert event["sc_type"] == "SPLIT"
    assert sorted(p["package_id"] for p in event["package_list"]) == sorted([first, rest])


def test_splitting_twice_or_a_combined_order_is_refused(api: Api) -> None:
    o = _ready(api, min_lines=2)[0]
    _split_in_two(api, o)
    again = api.call(
        "POST",
        f"/fulfillment/202309/orders/{o.id}/split",
        {},
        {
            "splittable_groups": [
                {"id": "1", "order_line_item_ids": [o.line_items[0].id]},
                {"id": "2", "order_line_item_ids": [li.id for li in o.line_items[1:]]},
            ]
        },
    ).json()
    assert again["code"] == 21011035
    assert again["message"].startswith("split order not allowed")
    # A combined order: 21011046.
    a = _ready(api, min_lines=2, exclude=(o.id,))[0]
    b = next(x for x in _ready(api, exclude=(o.id, a.id)) if x.delivery_option_id == a.delivery_option_id)
    b.user_id, b.address, b.warehouse_id = a.user_id, copy.deepcopy(a.address), a.warehouse_id
    _combine(api, [a, b])
    [row] = api.ok("GET", SPLIT_ATTRS, {"order_ids": a.id})["split_attributes"]
    assert row["can_split"] is False
    body = {
        "splittable_groups": [
            {"id": "1", "order_line_item_ids": [a.line_items[0].id]},
            {"id": "2", "order_line_item_ids": [li.id for li in a.line_items[1:]]},
        ]
    }
    assert api.call("POST", f"/fulfillment/202309/orders/{a.id}/split", {}, body).json()["code"] == 21011046


def test_split_refusals_for_bad_groups_and_after_sale_requests(api: Api) -> None:
    o = next(x for x in _ready(api, min_lines=2) if len(x.line_items) == 2)
    url = f"/fulfillment/202309/orders/{o.id}/split"
    ids = [li.id for li in o.line_items]
    bad_bodies = [
        {},
        {"splittable_groups": [{"id": "1", "order_line_item_ids": ids}]},  # one group is no split
        {
            "splittable_groups": [
                {"id": "1", "order_line_item_ids": ids[:1]},
                {"id": "1", "order_line_item_ids": ids[1:]},
            ]
        },
        {
            "splittable_groups": [
                {"id": "1", "order_line_item_ids": ids[:1]},
                {"id": "2", "order_line_item_ids": ids[:1]},
            ]
        },
        {"splittable_groups": [{"id": "1", "order_line_item_ids": ids[:1]}, {"id": "2", "order_line_item_ids": ["9"]}]},
    ]
    for body in bad_bodies:
        assert api.call("POST", url, {}, body).json()["code"] == 21011005, body
    good = {
        "splittable_groups": [{"id": "1", "order_line_item_ids": ids[:1]}, {"id": "2", "order_line_item_ids": ids[1:]}]
    }
    o.is_buyer_request_cancel = True
    assert api.call("POST", url, {}, good).json()["code"] == 21011007
    assert api.call("POST", "/fulfillment/202309/orders/576461000000000001/split", {}, good).json()["code"] == 21011029
    o.is_buyer_request_cancel = False
    o.line_items[1].package_status = "CANCELLED"  # one live item left: nothing to split
    assert api.call("POST", url, {}, good).json()["code"] == 21011035


def test_a_split_order_is_not_offered_for_combining(api: Api) -> None:
    a, b = _same_buyer(api)
    _add_line(api, a)
    assert any(a.id in p["order_ids"] for p in _search_all(api))
    _split_in_two(api, a)
    found = _search_all(api)
    assert not any(a.id in p["order_ids"] or b.id in p["order_ids"] for p in found)


def _add_line(api: Api, o: Order) -> None:
    """One more unit of the order's first SKU (line items are single units)."""
    li = copy.deepcopy(o.line_items[0])
    li.id = api.sb.world.ids.next("line")
    o.line_items.append(li)


# ---------------------------------------------------------------------- month scenario
def test_month_scenario_has_combinable_buyers_and_splittable_orders(api: Api) -> None:
    month = api.client.post("/sandbox/scenarios/month", json={"name": "Combine Month", "orders": 120, "seed": 3}).json()
    assert len(month["combinable_groups"]) >= 2
    assert len(month["splittable_orders"]) >= 2
    seller_index = list(api.sb.world.sellers).index(month["seller_id"])
    api.authorize(seller_index=seller_index)
    offered = {tuple(sorted(p["order_ids"])) for p in _search_all(api)}
    for group in month["combinable_groups"]:
        assert tuple(sorted(group)) in offered
    rows = api.ok("GET", SPLIT_ATTRS, {"order_ids": ",".join(month["splittable_orders"])})["split_attributes"]
    assert all(r["can_split"] for r in rows)
    # One of the buyers ships on one label.
    group = month["combinable_groups"][0]
    orders = [api.sb.world.orders[x] for x in group]
    pkg = _combine(api, orders)
    created = api.ok("POST", PACKAGES, {}, {"order_id": group[0]})
    assert created["package_id"] == pkg["id"]
    labels = api.client.get("/sandbox/labels", params={"shop_id": month["shop_id"]}).json()["labels"]
    assert [sorted(lb["order_ids"]) for lb in labels] == [sorted(group)]


def test_a_snapshot_keeps_combined_packages_and_their_label(api: Api, tmp_path: Any) -> None:
    a, b = _same_buyer(api)
    pkg = _combine(api, [a, b])
    api.ok("POST", PACKAGES, {}, {"order_id": b.id})
    path = str(tmp_path / "world.pkl")
    api.sb.save_snapshot(path)
    api.sb.load_snapshot(path)
    control = api.client.get(f"/sandbox/packages/{pkg['id']}").json()
    assert sorted(control["order_ids"]) == sorted([a.id, b.id])
    assert [sorted(lb["order_ids"]) for lb in control["labels"]] == [sorted([a.id, b.id])]
