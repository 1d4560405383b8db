"""Routing: what the logistics rules decide for an order as soon as it is ready to ship, before any label.

The first matching rule may send the order to a warehouse (its reservation moves there, all or nothing), tag it,
and buy its label straight away (the rule's auto-buy, else the store's setting). A rule that holds orders for review
never auto-buys; the purchase itself then refuses until a person changes the rule (see labels.purchase._held_by_rule).
The service choice is made later, at purchase time, from the platform's live quotes.

An order is routed once (`Order.routed_at`): a person who later moves it or removes a tag is not overruled. Routing
runs right after an import commits (the orders_imported event) and from beat for anything a lost message left behind.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from erp.actors import Actor
from erp.services import audit_record
from erp.tasks import wake_on_commit
from erp.tenancy import current_organization
from integrations.interface import FulfilledBy, LabelSource
from inventory.models import Warehouse, WarehouseKind
from orders.models import OPEN_STATUSES, Order, OrderStatus, WarehouseChoice
from orders.stock import RerouteRefused, order_reroute, orders_held_for_stock, orders_waiting_for_stock
from shipping.labels.batches import MAX_BATCH, label_batch_create
from shipping.models import LabelPurchase, LogisticsRule, PurchaseState
from shipping.rules.engine import first_match
from shipping.rules.facts import facts_for_orders

log = logging.getLogger(__name__)
ROUTER = Actor.system("Logistics rules")
AUTO_BUY = Actor.system("Auto-buy")
CHUNK = 500  # orders locked and routed per transaction


@dataclass
class RoutingResult:
    routed: int = 0
    moved: int = 0
    tagged: int = 0
    auto_buy: int = 0
    not_moved: dict[str, str] = field(default_factory=dict)  # order number → why it stayed where it was
    batches: list[str] = field(default_factory=list)


def _routing_applies(orders: QuerySet[Order]) -> QuerySet[Order]:
    """Awaiting shipment, not held, not fulfilled by the platform: on an official label (TikTok Shipping) or on the
    seller's own (a Shopify order), which rules send to a warehouse and tag alike. Only the first kind is bought."""
    return orders.filter(
        status=OrderStatus.AWAITING_SHIPMENT,
        is_held=False,
        label_source__in=[LabelSource.PLATFORM, LabelSource.SELLER],
    ).exclude(fulfilled_by=FulfilledBy.PLATFORM)


def _ready_to_route(orders: QuerySet[Order]) -> QuerySet[Order]:
    return _routing_applies(orders).filter(routed_at__isnull=True)


def _routable(order_ids: Sequence[object] | None) -> QuerySet[Order]:
    orders = _ready_to_route(Order.objects.all())
    return orders.filter(pk__in=list(order_ids)) if order_ids is not None else orders


def orders_route(*, order_ids: Sequence[object] | None = None, now: datetime | None = None) -> RoutingResult:
    """Route these orders (None: every unrouted one of the organization in scope). Safe to run twice, and
    concurrently: rows are locked with SKIP LOCKED and marked routed in the same transaction."""
    now = now or timezone.now()
    result = RoutingResult()
    if not _routable(order_ids).exists():
        return result
    rules = list(LogisticsRule.objects.filter(enabled=True))
    while True:
        with transaction.atomic():
            orders = list(
                _routable(order_ids)
                .select_related("store")
                .select_for_update(skip_locked=True, of=("self",))
                .order_by("ship_by", "pk")[:CHUNK]
            )
            if not orders:
                return result
            _route_chunk(orders, rules, now, result)


def _route_chunk(orders: list[Order], rules: list[LogisticsRule], now: datetime, result: RoutingResult) -> None:
    facts = facts_for_orders(orders) if rules else {}
    to_buy: list[Order] = []
    for order in orders:
        decision = first_match(rules, facts[order.pk], now) if rules else None
        actions = decision.actions if decision else None
        done: dict[str, object] = {}
        if actions and actions.warehouse_id:
            try:
                order_reroute(
                    order=order,
                    warehouse_id=actions.warehouse_id,
                    actor=ROUTER,
                    chosen_by=WarehouseChoice.RULE,
                    reason=f"Rule “{decision.rule.name}” sends it here.",
                )
                done["warehouse"] = actions.warehouse_id
                result.moved += 1
            except RerouteRefused as refused:
                result.not_moved[order.external_id] = str(refused)
                done["warehouse_refused"] = str(refused)
        if actions and actions.tag and actions.tag not in order.tags:
            order.tags = [*order.tags, actions.tag]
            done["tag"] = actions.tag
            result.tagged += 1
        wants_auto_buy = actions.auto_buy if actions and actions.auto_buy is not None else order.store.auto_buy_labels
        official = order.label_source == LabelSource.PLATFORM  # an own-label order has no label to buy here
        if official and wants_auto_buy and not (actions and actions.hold_for_review):
            to_buy.append(order)
            done["auto_buy"] = True
        if "tag" in done:
            Order.objects.filter(pk=order.pk).update(tags=order.tags)
        result.routed += 1
        if decision is not None and done:
            audit_record(
                organization=current_organization(),
                actor=ROUTER,
                action="order.routed",
                target=order,
                changes={"rule": decision.rule.name, **done},
            )
    Order.objects.filter(pk__in=[order.pk for order in orders]).update(routed_at=now)
    already = set(LabelPurchase.objects.filter(order__in=to_buy).values_list("order_id", flat=True))
    to_buy = [order for order in to_buy if order.pk not in already]
    for start in range(0, len(to_buy), MAX_BATCH):
        batch = label_batch_create(actor=AUTO_BUY, orders=to_buy[start : start + MAX_BATCH])
        result.batches.append(batch.reference)
    result.auto_buy += len(to_buy)


# ----------------------------------------------------------------------------------------------- triggers
def on_orders_imported(order_ids: list[object]) -> None:
    """`orders.services.orders_imported` receiver: route what the import wrote, once it is committed."""
    if not order_ids:
        return
    from shipping.tasks import orders_route_task  # tasks import this module

    wake_on_commit(  # swept by shipping.orders_route_pending
        orders_route_task, organization_id=str(current_organization().pk), order_ids=[str(pk) for pk in order_ids]
    )


def on_stock_freed(sku_ids: list[object], freed: bool) -> None:
    """`inventory.services.stock_changed` receiver (after the change committed): stock arrived or was freed, so
    orders held for it, and orders allocation left waiting at a make-to-order supplier, get another chance —
    except orders whose label is bought or being bought (they stay where their label says)."""
    if not freed:
        return
    from orders.tasks import reallocate

    held = orders_held_for_stock(sku_ids)
    waiting = orders_waiting_for_stock(sku_ids).exclude(pk__in=LabelPurchase.objects.values("order_id"))
    order_ids = list(dict.fromkeys([*held, *waiting.values_list("pk", flat=True)]))
    if order_ids:
        reallocate.delay_on_commit(
            organization_id=str(current_organization().pk), order_ids=[str(pk) for pk in order_ids]
        )


def organizations_with_unrouted_orders() -> list[object]:
    """For beat (all tenants): organizations with an order ready to route that no task has routed (a lost message,
    or an order released from a hold since)."""
    return list(_ready_to_route(Order.unscoped.all()).values_list("organization_id", flat=True).distinct())


def orders_route_again(*, actor: Actor) -> RoutingResult:
    """A person asks: apply the rules as they are now to every open order that has no label yet (rules changed
    after those orders were routed). Orders with a label, held or shipped are left alone."""
    again = _routing_applies(Order.objects.all()).exclude(pk__in=LabelPurchase.objects.values("order_id"))
    with transaction.atomic():
        reset = again.filter(routed_at__isnull=False).update(routed_at=None)
        audit_record(
            organization=current_organization(), actor=actor, action="rules.applied", changes={"orders": reset}
        )
    return orders_route()


def order_move(*, order: Order, warehouse: Warehouse, actor: Actor, reason: str = "") -> None:
    """A person (or a partner's system) sends an open order to another warehouse or supplier: its reservation moves
    there, all or nothing. An order not routed yet counts as routed from then on, so the rules (their warehouse, tag
    and auto-buy) never overrule the person's choice. Refused (RerouteRefused, nothing changed) once a
    label is bought or being bought (it ships from where its label says), for an order that is not open or that the
    platform ships, and where the warehouse cannot ship all of it."""
    if order.status not in OPEN_STATUSES or order.fulfilled_by == FulfilledBy.PLATFORM:
        raise RerouteRefused("Only an open order that you ship can be sent to another warehouse.")
    if not warehouse.is_active or warehouse.kind == WarehouseKind.PLATFORM:
        raise RerouteRefused(f"{warehouse.name} cannot ship orders (inactive, or the platform's own warehouse).")
    if LabelPurchase.objects.filter(order=order).exclude(state=PurchaseState.FAILED).exists():
        raise RerouteRefused("Its label is bought or being bought: it ships from where its label says.")
    before = order.warehouse_id
    with transaction.atomic():
        order_reroute(
            order=order,
            warehouse_id=warehouse.pk,
            actor=actor,
            chosen_by=WarehouseChoice.PERSON,
            reason=reason or f"Sent here by {actor.label}.",
        )
        Order.objects.filter(pk=order.pk, routed_at__isnull=True).update(routed_at=timezone.now())
        if str(before) != str(warehouse.pk):
            audit_record(
                organization=order.organization,
                actor=actor,
                action="order.rerouted",
                target=order,
                changes={"warehouse": warehouse.name, "reason": reason},
            )
