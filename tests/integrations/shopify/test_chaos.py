"""Failure injection for the Shopify channel (issue 15: "kill/duplicate tests as for TikTok"), each outcome counted
in the sandbox's own state (its orders, fulfillments, inventory change log, webhook log and call statistics), never
in Dropline's belief alone:

1. a real worker SIGKILLed while it pages through a shop's orders: another worker finishes; every order is imported
   once, at its latest version, and the cursor never passed an order it had not committed;
2. every webhook delivered twice with the same event id, one answered 500 by Dropline, one answered after the
   sandbox stopped waiting: one WebhookDelivery per event, each order fetched once per event; a tampered body 401;
3. a THROTTLED storm while orders are imported and stock is pushed: waited out, nothing lost, and never a THROTTLED
   answer the storm did not force;
4. a stock level changed between Dropline's read and its inventorySetQuantities (CHANGE_FROM_QUANTITY_STALE), and a
   lost answer of inventorySetQuantities: read again and set once, replayed under its key and applied once;
5. a fulfillment whose answer is lost, and a worker SIGKILLed between sending it and recording it: exactly one
   fulfillment with the tracking number, the SellerShipment SHIPPED with its id, and a repeat changes nothing.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
from django.db import OperationalError

from erp.tenancy import organization_scope
from integrations import services as integration_services
from integrations import tasks as integration_tasks
from integrations.models import DeliveryState, Store, WebhookDelivery
from integrations.shopify import client as shopify_client
from inventory import push
from inventory.services import stock_receive
from orders import seller_shipping
from orders.models import Order, OrderStatus, SellerShipment, SellerShipmentState
from orders.services import orders_fetch, store_sync
from tests.integrations.shopify.chaos_support import (
    ROBOT,
    Front,
    Stocked,
    cancel,
    connect_store,
    dropline_available,
    dropline_orders,
    flush_until_settled,
    fulfil_in_admin,
    numeric,
    open_orders,
    parallel,
    place_orders,
    set_quantity_changes,
    shop_available,
    shop_orders,
    stock_up,
    versions,
    worker_env,
)
from tests.integrations.shopify.conftest import SHOP, Sandbox
from tests.workers import REDIS_DB_URL, Workers, wait_for

pytestmark = [pytest.mark.chaos, pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db(transaction=True)]

TRACKING = "1Z999AA10123456784"
KEY = re.compile(r'@idempotent\(key: "([0-9a-f-]{36})"\)')


def stats(sandbox: Sandbox) -> dict[str, int]:
    """The sandbox's call counters for the shop."""
    counters: dict[str, int] = sandbox.control("GET", "/sandbox/stats")["shops"].get(SHOP, {})
    return counters


def field_calls(sandbox: Sandbox, root_field: str) -> int:
    return int(sandbox.control("GET", "/sandbox/stats")["fields"].get(root_field, 0))


def available_changes(group: dict[str, Any]) -> list[tuple[str, str, int]]:
    """(seller SKU, location id, available after) of one adjustment group (setting `available` moves `on_hand` by
    the same amount: that change is left out)."""
    return [
        (c["sku"], numeric(c["location_id"]), c["quantity_after"]) for c in group["changes"] if c["name"] == "available"
    ]


@contextmanager
def on_request(sandbox: Sandbox, hook: Callable[[httpx.Request], None]) -> Iterator[None]:
    """Run `hook` as each request of this process's Shopify client is about to leave (after Dropline decided to send
    it, before Shopify sees it)."""
    hooks = sandbox.http.event_hooks["request"]
    hooks.append(hook)
    try:
        yield
    finally:
        hooks.remove(hook)


def operation(request: httpx.Request) -> str:
    if not request.url.path.endswith("/graphql.json"):
        return ""
    return str(json.loads(request.content).get("operationName") or "")


def broker_settled(workers: Workers) -> bool:
    """Every message sent to these workers has been taken and acknowledged: none waits in their queue, and none is
    held unacknowledged (a dead worker's message stays there until the broker hands it to a live one, which
    acknowledges it when done)."""
    client = redis.Redis.from_url(workers.broker_url)
    try:
        held = [v for v in client.hvals("unacked") if workers.queue.encode() in v]
        return not held and client.llen(workers.queue) == 0
    finally:
        client.close()


def forget_bucket(shop: str = SHOP) -> None:
    """Worker processes keep the shop's cost bucket in Redis: a copy left by an earlier run must not pace this one."""
    from django.conf import settings

    client = redis.Redis.from_url(REDIS_DB_URL)
    for key in client.scan_iter(f"*shopify:bucket:{settings.SHOPIFY_CLIENT_ID}:{shop}"):
        client.delete(key)
    client.close()


# ============================================================================================== 1. SIGKILLed sync
SYNC_LATENCY_MS = 120  # each orders page; ~25 pages take the first worker a few seconds: the kill lands mid-way


def test_a_sync_killed_mid_paging_is_finished_by_another_worker_with_every_order_once(
    tenant: Any, sandbox: Sandbox, tmp_path: Path
) -> None:
    store = connect_store(sandbox, tenant.organization)
    place_orders(sandbox, 140)  # with the seed's 24: about 24 pages of 7
    forget_bucket()
    # A Plus shop's bucket (1,000 points a second): at the default 100 an import of this size is paced for a minute.
    sandbox.control("POST", "/sandbox/rate-limit", json={"maximum_available": 2000, "restore_rate": 1000})
    sandbox.control("PUT", "/sandbox/faults", json={"latency": [{"api": "orders", "ms": SYNC_LATENCY_MS}]})
    workers = Workers(tmp_path, env={**worker_env(sandbox), "ORDER_SYNC_LEASE_SECONDS": "3"})
    task = {"organization_id": str(tenant.organization.pk), "store_id": str(store.pk)}

    def imported() -> int:
        return Order.unscoped.filter(store=store).count()

    try:
        first = workers.start()
        workers.send("orders.sync_store", **task)
        wait_for(lambda: imported() >= 7, 60, "the first page to be committed")
        # While it pages: orders it has imported change (they move behind its cursor), orders it has not reached
        # change too, and new orders come in.
        held = set(Order.unscoped.filter(store=store).values_list("external_id", flat=True))
        still_open = open_orders(sandbox)
        changed = [o for o in still_open if o in held][:2] + [o for o in still_open if o not in held][:2]
        assert len(changed) == 4
        cancel(sandbox, changed[0])
        cancel(sandbox, changed[1])
        fulfil_in_admin(sandbox, changed[2], tracking=f"1ZDURING{changed[2]}")
        fulfil_in_admin(sandbox, changed[3], tracking=f"1ZDURING{changed[3]}")
        place_orders(sandbox, 5)
        wait_for(lambda: imported() >= 42, 60, "the import to be well under way")
        workers.kill(first)

        at_kill = Store.unscoped.get(pk=store.pk)
        platform, ours = shop_orders(sandbox), dropline_orders(store)
        assert len(ours) < len(platform), "the import finished before the kill: nothing was tested"
        assert at_kill.sync_cursor is not None
        # The cursor never passed an order it had not committed: everything Shopify sorts before it is here, at the
        # version Shopify has.
        behind = {i: v for i, v in versions(platform).items() if v < at_kill.sync_cursor}
        assert behind, "the cursor had not moved"
        assert {i: ours[i].updated_at if i in ours else None for i in behind} == behind

        # While no worker runs: more changes, on both sides of the dead worker's cursor.
        still_open = open_orders(sandbox)
        changed = [o for o in still_open if o in ours][:2] + [o for o in still_open if o not in ours][:2]
        assert len(changed) == 4
        fulfil_in_admin(sandbox, changed[0], tracking=f"1ZAFTER{changed[0]}")
        fulfil_in_admin(sandbox, changed[1], tracking=f"1ZAFTER{changed[1]}")
        cancel(sandbox, changed[2])
        cancel(sandbox, changed[3])
        place_orders(sandbox, 5)
        sandbox.control("DELETE", "/sandbox/faults")

        workers.start()  # the dead worker's lease expires after 3 s; its message comes back after 4 s

        def caught_up() -> bool:  # what beat does: ask for a sync until the store is current
            workers.send("orders.sync_store", **task)
            time.sleep(1.0)
            return versions(dropline_orders(store)) == versions(shop_orders(sandbox))

        wait_for(caught_up, 60, "the second worker to finish the import")
    finally:
        workers.stop_all()

    platform, ours = shop_orders(sandbox), dropline_orders(store)
    assert ours == platform  # every order: same ids, versions, cancellations, units and shipped units per SKU
    assert Order.unscoped.filter(store=store).count() == len(platform)  # each once
    store.refresh_from_db()
    assert store.last_sync_error == ""
    assert store.sync_cursor == max(v.updated_at for v in platform.values())
    with organization_scope(store.organization):
        statuses = dict(Order.objects.filter(store=store).values_list("external_id", "status"))
    assert {i for i, v in platform.items() if v.cancelled} == {i for i, s in statuses.items() if s == "CANCELLED"}


# ============================================================================================== 2. duplicate webhooks
def test_duplicate_and_retried_webhooks_are_recorded_once_and_each_order_fetched_once_per_event(
    tenant: Any, sandbox: Sandbox, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    front = Front(hold_seconds=1.5).start()
    try:
        _duplicate_webhooks(tenant, sandbox, settings, monkeypatch, front)
    finally:
        front.stop()


def _duplicate_webhooks(
    tenant: Any, sandbox: Sandbox, settings: Any, monkeypatch: pytest.MonkeyPatch, front: Front
) -> None:
    settings.DROPLINE_PUBLIC_URL = front.url  # the webhook address Dropline subscribes
    sandbox.sb.config.redirect_uris = []
    sandbox.sb.config.webhook_timeout = 1.0  # the sandbox's patience for an answer (Shopify's: 5 s)
    store = connect_store(sandbox, tenant.organization)
    subscribed = sandbox.control("GET", "/sandbox/webhook-subscriptions", params={"shop": SHOP})["subscriptions"]
    assert {s["uri"] for s in subscribed} == {f"{front.url}/webhooks/shopify/"}
    with organization_scope(tenant.organization):
        store_sync(store=store)
    cancelled = open_orders(sandbox)[0]

    # The web process records and wakes a worker; the wake-ups are kept here and delivered below.
    woken: list[str] = []
    monkeypatch.setattr(integration_services, "_wake_webhook_worker", lambda delivery: woken.append(str(delivery.pk)))
    # Dropline's database fails while recording the first orders/cancelled delivery: Shopify gets a 500.
    summary = integration_services._delivery_summary
    failed: list[str] = []

    def database_fails_once(event: Any) -> Any:
        if event is not None and event.order_id == cancelled and not failed:
            failed.append(event.notification_id)
            raise OperationalError("server closed the connection unexpectedly")
        return summary(event)

    monkeypatch.setattr(integration_services, "_delivery_summary", database_fails_once)
    # Dropline records the first orders/create but answers after the sandbox has stopped waiting.
    front.slow = lambda got: got.topic == "orders/create"
    sandbox.control("POST", "/sandbox/faults", json={"webhook_duplicates": 2})  # every delivery sent twice
    sandbox.sb.stats.reset()
    sandbox.recorder.clear()

    placed = place_orders(sandbox, 2)
    cancel(sandbox, cancelled)
    fulfil_in_admin(sandbox, placed[0], tracking="1ZWEBHOOK0001")
    log = flush_until_settled(sandbox)
    copied = sandbox.control("POST", f"/sandbox/webhooks/{log[-1]['id']}/duplicate", json={"copies": 2})
    log = sandbox.control("GET", "/sandbox/webhooks")["deliveries"]

    # What Shopify did: 5 events (2 creates, the cancellation's orders/cancelled and orders/updated, the fulfilment's
    # orders/updated), every one delivered, each at least twice; one refused by a 500, one timed out and retried.
    events = {d["event_id"]: d for d in log}
    assert sorted(d["topic"] for d in log) == sorted(
        ["orders/create", "orders/create", "orders/cancelled", "orders/updated", "orders/updated"]
    )
    assert {d["state"] for d in log} == {"delivered"}
    attempts = [a for d in log for a in d["attempts"]]
    assert [a["status_code"] for a in attempts].count(500) == 1
    assert sum(1 for a in attempts if a["status_code"] is None and "timed out" in a["error"]) == 1
    assert all(sum(a["status_code"] == 200 for a in d["attempts"]) >= 2 for d in log)
    assert sum(a["kind"] == "duplicate" for a in copied["attempts"]) == 3  # webhook_duplicates' copy and 2 more
    per_event = Counter(got.event_id for got in front.received)
    assert per_event == Counter({e: len(d["attempts"]) for e, d in events.items()})
    assert len({got.headers["x-shopify-webhook-id"] for got in front.received}) > len(events)  # new ids per copy

    # What Dropline recorded: one row per event, one wake-up per row, nothing for the failed attempt.
    rows = list(WebhookDelivery.unscoped.filter(store=store).values_list("notification_id", "pk"))
    assert Counter(n for n, _ in rows) == Counter(set(events))
    assert sorted(woken) == sorted(str(pk) for _, pk in rows)
    assert len(failed) == 1
    assert failed[0] in events  # the event whose first delivery got the 500 was recorded from its retry

    # The workers: each wake-up delivered twice at the same moment (a broker redelivers; a sweep races the worker).
    organization_id = str(tenant.organization.pk)
    for delivery_id in woken:
        outcomes = parallel(
            [lambda d=delivery_id: integration_tasks.webhook_process(organization_id=organization_id, delivery_id=d)]
            * 2
        )
        assert sorted(outcomes)[1] == "not due, or taken by another worker"
        assert sorted(outcomes)[0].startswith("ORDER_STATUS_CHANGE: ")
    assert integration_tasks.webhooks_process_due(grace_seconds=0) == 0
    assert set(WebhookDelivery.unscoped.filter(store=store).values_list("state", "attempts")) == {
        (DeliveryState.PROCESSED, 1)
    }

    # Each order fetched once per event about it, and stored once at Shopify's version.
    fetched = Counter(numeric(body["variables"]["id"]) for body in sandbox.recorder.graphql("DroplineOrder"))
    assert fetched == Counter(str(d["payload"]["id"]) for d in log)
    assert fetched == Counter({placed[0]: 2, placed[1]: 1, cancelled: 2})
    platform, ours = shop_orders(sandbox), dropline_orders(store)
    assert {i: ours[i] for i in fetched} == {i: platform[i] for i in fetched}
    assert Order.unscoped.filter(store=store, external_id__in=list(fetched)).count() == 3

    # A body changed on the way (another order id under the original signature) is refused and records nothing, even
    # as a new event; the genuine delivery replayed is acknowledged and records nothing either.
    genuine = next(got for got in front.received if got.topic == "orders/cancelled" and got.status == 200)
    tampered = genuine.body.replace(f'"id":{cancelled},'.encode(), f'"id":{placed[1]},'.encode(), 1)
    assert tampered != genuine.body
    forged = {**genuine.headers, "x-shopify-event-id": str(uuid.uuid4()), "x-shopify-webhook-id": str(uuid.uuid4())}
    forged = {k: v for k, v in forged.items() if k not in ("host", "content-length")}
    before = WebhookDelivery.unscoped.count()
    assert front.post(forged, tampered) == 401
    assert front.post({**forged, "x-shopify-event-id": genuine.event_id}, tampered) == 401
    assert front.post({k: v for k, v in genuine.headers.items() if k != "content-length"}, genuine.body) == 200
    assert WebhookDelivery.unscoped.count() == before
    assert not WebhookDelivery.unscoped.filter(notification_id=forged["x-shopify-event-id"]).exists()
    assert len(woken) == len(events)


# ============================================================================================== stock set-up
@pytest.fixture
def stocked(tenant: Any, sandbox: Sandbox) -> Stocked:
    """The demo shop connected, its orders imported, its catalogue mapped to our SKUs with stock in two warehouses
    linked to its two locations, and everything pushed once: Shopify advertises exactly our stock."""
    store = connect_store(sandbox, tenant.organization)
    with organization_scope(tenant.organization):
        store_sync(store=store)
    result = stock_up(store, sandbox)
    with organization_scope(tenant.organization):
        pushed = push.store_push(store=store)
    assert (pushed.pushed, pushed.failed, pushed.rejected) == (len(result.listings), 0, 0)
    assert_consistent(sandbox, result)
    sandbox.recorder.clear()
    sandbox.sb.stats.reset()
    return result


def assert_consistent(sandbox: Sandbox, stocked: Stocked) -> None:
    """Shopify advertises, at each location, what Dropline can ship from the warehouse linked to it; every listing's
    advertised quantity is what Dropline can ship, and none carries an error."""
    shown = shop_available(sandbox)
    ours = dropline_available(stocked)
    assert shown == {key: ours[key] for key in shown}
    for code, listing in stocked.listings.items():
        listing.refresh_from_db()
        assert (listing.push_error, listing.push_requested_at) == ("", None), code
        assert listing.advertised_quantity == sum(n for (c, _), n in shown.items() if c == code), code


# ============================================================================================== 3. THROTTLED storm
STORM_RESTORE_RATE = 2000  # points a second: a drained bucket covers an orders page (~926) again in half a second
STORM_EVERY = 3  # the bucket is emptied just before every third request Dropline sends


def test_a_throttled_storm_is_waited_out_with_no_order_lost_and_every_push_landed(
    tenant: Any, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = connect_store(sandbox, tenant.organization)
    place_orders(sandbox, 20)
    stocked = stock_up(store, sandbox)  # listings marked for a push; no order imported yet
    sandbox.control("POST", "/sandbox/rate-limit", json={"maximum_available": 1000, "restore_rate": STORM_RESTORE_RATE})
    monkeypatch.setattr(shopify_client, "_expected_cost", {})  # as in a fresh worker: no operation's cost known yet
    sandbox.sb.stats.reset()
    sandbox.recorder.clear()

    # The storm: another app of the shop empties its bucket (the control API's drain: the real bucket, real THROTTLED
    # answers) just before every third request Dropline sends. When each request left, each drain started and each
    # answer came are kept.
    sent: list[tuple[float, httpx.Request]] = []
    drained: dict[int, float] = {}
    answered: dict[int, float] = {}

    def storm(request: httpx.Request) -> None:
        if not operation(request):
            return
        sent.append((time.monotonic(), request))
        if len(sent) % STORM_EVERY == 0:
            drained[len(sent) - 1] = time.monotonic()  # before the drain: the bucket was empty no earlier than this
            sandbox.control("POST", "/sandbox/rate-limit/drain", json={"shop": SHOP, "available": 0})

    def answer(response: httpx.Response) -> None:
        answered[id(response.request)] = time.monotonic()

    sandbox.http.event_hooks["response"].append(answer)
    try:
        with on_request(sandbox, storm), organization_scope(tenant.organization):
            first = push.store_push(store=store)  # what we received
            synced = store_sync(store=store)  # the orders reserve stock ...
            push.changed_stock_mark()  # ... and beat's sweep marks their listings again
            pushes = [first, push.store_push(store=store)]
    finally:
        sandbox.http.event_hooks["response"].remove(answer)

    # Nothing surfaced as an error, nothing was lost, every push landed.
    assert synced.finished
    assert synced.pages >= 6
    store.refresh_from_db()
    assert store.last_sync_error == ""
    assert [(p.failed, p.rejected) for p in pushes] == [(0, 0), (0, 0)]
    assert pushes[0].pushed == len(stocked.listings)
    assert pushes[1].pushed > 0
    assert dropline_orders(store) == shop_orders(sandbox)
    assert_consistent(sandbox, stocked)

    # The sandbox's own counts: every call answered or throttled, nothing else, and as many as Dropline sent.
    counted = stats(sandbox)
    assert counted["calls"] == len(sent) == counted["ok"] + counted["throttled"]
    assert (counted["errors"], counted["injected_errors"], counted["max_cost_exceeded"]) == (0, 0, 0)
    answers = {id(request): response for request, response in sandbox.recorder.exchanges}
    assert len(answers) == len(sent)

    def cost(index: int) -> dict[str, Any]:
        found: dict[str, Any] = answers[id(sent[index][1])].json()["extensions"]["cost"]
        return found

    throttled = [i for i, (_, request) in enumerate(sent) if "THROTTLED" in answers[id(request)].text]
    assert counted["throttled"] == len(throttled) >= 10
    # Never a THROTTLED answer the storm did not force. Refused were requests sent into a bucket just emptied, and
    # the first request of an operation whose cost the process had not learned yet, sent without waiting (as
    # documented) into a bucket the storm had left low. A request whose cost Dropline knew, sent with no drain just
    # before it, was never refused: it waited for what the last answer said was left.
    first_use = {i for i, (_, r) in enumerate(sent) if all(operation(q) != operation(r) for _, q in sent[:i])}
    assert set(throttled) <= set(drained) | first_use
    for index in set(throttled) - set(drained):
        assert cost(index - 1)["throttleStatus"]["currentlyAvailable"] < cost(index)["requestedQueryCost"]
    # A drained request that went through found the bucket refilled by the time Shopify looked (its restore never
    # stops: a cheap request, or a stall between the drain and the request); by Shopify's own numbers.
    for index in set(drained) - set(throttled):
        refilled = (answered[id(sent[index][1])] - drained[index]) * STORM_RESTORE_RATE
        assert refilled >= cost(index)["requestedQueryCost"], (index, cost(index))
    # After each THROTTLED answer (which says how empty the bucket is) Dropline sent the same bytes again only once
    # the bucket had refilled enough by Shopify's numbers, and that was answered (or drained again).
    for index in throttled:
        status = cost(index)["throttleStatus"]
        need = (cost(index)["requestedQueryCost"] - status["currentlyAvailable"]) / status["restoreRate"]
        again_at, again = sent[index + 1]
        assert again.content == sent[index][1].content
        assert again_at - answered[id(sent[index][1])] >= need * 0.95
        assert index + 1 not in throttled or index + 1 in drained  # unless the storm struck again


# ============================================================================================== 4. stale compare
def test_a_level_changed_between_read_and_set_is_read_again_and_set_once_to_our_quantity(
    tenant: Any, sandbox: Sandbox, stocked: Stocked
) -> None:
    store = stocked.store
    main = next(location for location, w in stocked.warehouses.items() if "Main" in w.name)
    with organization_scope(tenant.organization):
        stock_receive(sku=stocked.listings["YOGA-PUR"].sku, warehouse=stocked.warehouses[main], quantity=5, actor=ROBOT)
    push.changed_stock_mark()  # beat's sweep
    before = len(set_quantity_changes(sandbox))
    sale: dict[str, Any] = {}

    def buyer_buys_first(request: httpx.Request) -> None:
        # Dropline has read Shopify's quantity and is sending its set: a buyer takes 2 units at Main just before.
        if operation(request) == "DroplineInventorySet" and not sale:
            sale.update(
                sandbox.control(
                    "POST",
                    "/sandbox/orders",
                    json={"shop": SHOP, "lines": [{"sku": "YOGA-PUR", "quantity": 2, "location": main}]},
                )
            )

    with on_request(sandbox, buyer_buys_first), organization_scope(tenant.organization):
        result = push.store_push(store=store)

    assert (result.pushed, result.failed, result.rejected) == (1, 0, 0)
    # Read (the push's look at Shopify's locations), read and set, refused as stale, read again, set again.
    assert [body["operationName"] for body in sandbox.recorder.graphql()] == [
        "DroplineVariantStock1",
        "DroplineVariantStock1",
        "DroplineInventorySet",
        "DroplineVariantStock1",
        "DroplineInventorySet",
    ]
    ours = dropline_available(stocked)
    first, second = sandbox.recorder.graphql("DroplineInventorySet")
    (stale,) = sandbox.recorder.answers("DroplineInventorySet")[0].json()["data"]["inventorySetQuantities"][
        "userErrors"
    ]
    assert stale["code"] == "CHANGE_FROM_QUANTITY_STALE"
    by_location = {numeric(q["locationId"]): q for q in first["variables"]["input"]["quantities"]}
    (resent,) = second["variables"]["input"]["quantities"]  # read again: only Main differs from ours
    assert numeric(resent["locationId"]) == main
    assert resent["changeFromQuantity"] == by_location[main]["changeFromQuantity"] - 2  # the sale, read back
    assert resent["quantity"] == ours[("YOGA-PUR", main)]
    assert KEY.search(first["query"]).group(1) != KEY.search(second["query"]).group(1)  # type: ignore[union-attr]
    # Shopify's log: the stale request applied nothing; the second one set Main once, to our quantity.
    (applied,) = set_quantity_changes(sandbox)[before:]
    assert available_changes(applied) == [("YOGA-PUR", main, ours[("YOGA-PUR", main)])]
    assert_consistent(sandbox, stocked)

    # The sale is imported: Dropline reserves its units, and the next push advertises what is left.
    with organization_scope(tenant.organization):
        orders_fetch(store=store, order_ids=[numeric(sale["id"])])
        push.changed_stock_mark()  # beat's sweep
        again = push.store_push(store=store)
    assert (again.pushed, again.failed) == (1, 0)
    assert (
        sum(dropline_available(stocked)[("YOGA-PUR", loc)] for loc in stocked.warehouses)
        == sum(ours[("YOGA-PUR", loc)] for loc in stocked.warehouses) - 2
    )
    assert_consistent(sandbox, stocked)


def test_a_lost_answer_of_a_stock_set_is_replayed_under_its_key_and_applied_once(
    tenant: Any, sandbox: Sandbox, stocked: Stocked
) -> None:
    west = next(location for location, w in stocked.warehouses.items() if "West" in w.name)
    with organization_scope(tenant.organization):
        stock_receive(sku=stocked.listings["LED-WHT"].sku, warehouse=stocked.warehouses[west], quantity=3, actor=ROBOT)
    push.changed_stock_mark()  # beat's sweep
    before = len(set_quantity_changes(sandbox))
    sandbox.control(
        "POST", "/sandbox/faults", json={"drop_response_after_commit": [{"api": "inventorySetQuantities", "next": 1}]}
    )

    with organization_scope(tenant.organization):
        result = push.store_push(store=stocked.store)

    assert (result.pushed, result.failed, result.rejected) == (1, 0, 0)
    sent = [r.content for r in sandbox.recorder.requests if b'"operationName":"DroplineInventorySet"' in r.content]
    assert len(sent) == 2
    assert sent[0] == sent[1]  # the same bytes, so the same key
    assert len(sandbox.recorder.answers("DroplineInventorySet")) == 1  # the first answer never came
    key = KEY.search(json.loads(sent[0])["query"]).group(1)  # type: ignore[union-attr]
    assert stats(sandbox)["dropped"] == 1
    applied = set_quantity_changes(sandbox)[before:]
    assert [g["reference_document_uri"] for g in applied] == [f"gid://dropline/StockPush/{key}"]
    ours = dropline_available(stocked)
    assert available_changes(applied[0]) == [("LED-WHT", west, ours[("LED-WHT", west)])]
    assert_consistent(sandbox, stocked)


# ============================================================================================== 5. fulfillment once
def shippable_order(tenant: Any, sandbox: Sandbox, store: Store) -> Order:
    """A buyer's order of two lines at one location, imported."""
    placed = sandbox.control(
        "POST",
        "/sandbox/orders",
        json={
            "shop": SHOP,
            "lines": [{"sku": "CAST-12IN", "quantity": 2}, {"sku": "LED-WHT"}],
            "location": "Main Warehouse",
        },
    )
    with organization_scope(tenant.organization):
        orders_fetch(store=store, order_ids=[numeric(placed["id"])])
        order = Order.objects.get(store=store, external_id=numeric(placed["id"]))
    assert order.status == OrderStatus.AWAITING_SHIPMENT
    return order


def fulfillments(sandbox: Sandbox, order: Order, tracking: str | None = None) -> list[dict[str, Any]]:
    params = {"tracking_number": tracking} if tracking else {}
    return sandbox.control("GET", f"/sandbox/orders/{order.external_id}/fulfillments", params=params)["fulfillments"]


def assert_shipped_once(sandbox: Sandbox, order: Order, *, adopted: bool) -> SellerShipment:
    (made,) = fulfillments(sandbox, order)
    assert [t["number"] for t in made["tracking"]] == [TRACKING]
    assert len(fulfillments(sandbox, order, TRACKING)) == 1
    shipment = SellerShipment.unscoped.get(order=order)
    assert (shipment.state, shipment.package_id, shipment.adopted) == (
        SellerShipmentState.SHIPPED,
        numeric(made["id"]),
        adopted,
    )
    order.refresh_from_db()
    assert (order.status, order.tracking_number) == (OrderStatus.IN_TRANSIT, TRACKING)
    return shipment


def assert_repeat_changes_nothing(sandbox: Sandbox, tenant: Any, order: Order, shipment: SellerShipment) -> None:
    creates = field_calls(sandbox, "fulfillmentCreate")
    with organization_scope(tenant.organization):
        assert seller_shipping.seller_shipment_send(shipment_id=shipment.pk) == seller_shipping.SendOutcome.DONE
        assert seller_shipping.seller_shipment_reconcile(shipment_id=shipment.pk) == seller_shipping.SendOutcome.DONE
        again = seller_shipping.seller_shipment_request(
            order=order, carrier="UPS", tracking_number=TRACKING, actor=ROBOT
        )
    assert again.pk == shipment.pk
    assert field_calls(sandbox, "fulfillmentCreate") == creates
    assert len(fulfillments(sandbox, order)) == 1
    assert SellerShipment.unscoped.get(pk=shipment.pk).state == SellerShipmentState.SHIPPED


def test_a_lost_fulfillment_answer_is_adopted_never_sent_twice(tenant: Any, sandbox: Sandbox) -> None:
    store = connect_store(sandbox, tenant.organization)
    order = shippable_order(tenant, sandbox, store)
    sandbox.control(
        "POST", "/sandbox/faults", json={"drop_response_after_commit": [{"api": "fulfillmentCreate", "next": 1}]}
    )
    sandbox.sb.stats.reset()

    # The request path: recorded, then sent (the task runs at once here); the answer is lost after Shopify made the
    # fulfillment, the row stays SUBMITTING and the reconcile that follows looks, finds it and adopts it.
    with organization_scope(tenant.organization):
        shipment = seller_shipping.seller_shipment_request(
            order=order, carrier="UPS", tracking_number=TRACKING, actor=ROBOT
        )

    assert stats(sandbox)["dropped"] == 1
    assert field_calls(sandbox, "fulfillmentCreate") == 1
    shipment = assert_shipped_once(sandbox, order, adopted=True)
    assert_repeat_changes_nothing(sandbox, tenant, order, shipment)


@pytest.mark.parametrize("shopify_has_it", [True, False], ids=["killed-after-sending", "killed-before-sending"])
def test_a_worker_killed_between_sending_and_recording_a_fulfillment_leaves_exactly_one(
    tenant: Any, sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, shopify_has_it: bool
) -> None:
    store = connect_store(sandbox, tenant.organization)
    order = shippable_order(tenant, sandbox, store)
    forget_bucket()
    monkeypatch.setattr(seller_shipping, "wake_on_commit", lambda *args, **kwargs: None)  # sent to the worker below
    with organization_scope(tenant.organization):
        shipment = seller_shipping.seller_shipment_request(
            order=order, carrier="UPS", tracking_number=TRACKING, actor=ROBOT
        )
    assert shipment.state == SellerShipmentState.PENDING
    sandbox.sb.stats.reset()
    if shopify_has_it:
        # Shopify holds the fulfillmentCreate, then makes the fulfillment after the worker that sent it is dead.
        sandbox.control(
            "PUT", "/sandbox/faults", json={"timeouts": [{"api": "fulfillmentCreate", "hold_ms": 1500, "next": 1}]}
        )
        reached = "fulfillmentCreate"
    else:
        # The worker dies while it reads the fulfillment orders, before it ever asks to fulfil.
        sandbox.control("PUT", "/sandbox/faults", json={"latency": [{"api": "order", "ms": 1500}]})
        reached = "order"
    workers = Workers(tmp_path, env=worker_env(sandbox))
    task = {"organization_id": str(tenant.organization.pk), "shipment_id": str(shipment.pk)}
    try:
        first = workers.start()
        workers.send("orders.seller_shipment_send", **task)
        wait_for(lambda: field_calls(sandbox, reached) >= 1, 60, f"the worker's {reached} to reach Shopify")
        workers.kill(first)
        sandbox.control("DELETE", "/sandbox/faults")
        assert not broker_settled(workers)  # the dead worker's message is held by the broker, unacknowledged
        assert SellerShipment.unscoped.get(pk=shipment.pk).state == SellerShipmentState.SUBMITTING
        if shopify_has_it:
            wait_for(lambda: len(fulfillments(sandbox, order)) == 1, 10, "Shopify to fulfil what the dead worker sent")
        else:
            time.sleep(1.6)  # the dead worker's read is answered to nobody
        assert field_calls(sandbox, "fulfillmentCreate") == (1 if shopify_has_it else 0)
        assert len(fulfillments(sandbox, order)) == (1 if shopify_has_it else 0)

        workers.start()  # the broker hands the send back: the row is SUBMITTING, so it must not send blindly
        workers.send("orders.seller_shipment_reconcile", **task)  # what beat does for a stale row

        def settled() -> bool:
            return SellerShipment.unscoped.get(pk=shipment.pk).state == SellerShipmentState.SHIPPED

        wait_for(settled, 60, "the reconcile to settle the shipment")
        # The dead worker's message comes back (visibility timeout 4 s) and is acknowledged by the live worker, which
        # found the row taken or shipped.
        wait_for(lambda: broker_settled(workers), 30, "the dead worker's send to be redelivered and done")
    finally:
        workers.stop_all()

    assert field_calls(sandbox, "fulfillmentCreate") == 1
    shipment = assert_shipped_once(sandbox, order, adopted=shopify_has_it)
    assert_repeat_changes_nothing(sandbox, tenant, order, shipment)
