"""Seller-shipping tracking in bulk: a CSV of order id, carrier and tracking number, checked whole (a dry run shows
every problem and every change), applied only when every row is good, each row through the same service as the
order page (`seller_shipment_request`). Reads its file like the inventory imports (inventory.csv_io)."""

from __future__ import annotations

from collections.abc import Callable

from django.db import transaction
from django.db.models import QuerySet

from erp.actors import Actor
from integrations.errors import PlatformError
from integrations.interface import ShippingProvider
from integrations.services import platform_name
from inventory.csv_io import ImportReport, RowError, csv_rows
from orders.models import Order, SellerShipment, SellerShipmentState
from orders.seller_shipping import (
    SellerShippingRefused,
    carrier_find,
    clean_tracking_number,
    seller_shipment_check,
    seller_shipment_request,
    seller_shipping_carriers,
)

KIND = "seller_shipping"
COLUMNS = ("order_id", "carrier", "tracking_number")
REQUIRED = COLUMNS


def _carriers_for(order: Order, known: dict[tuple[object, str], list[ShippingProvider]]) -> list[ShippingProvider]:
    key = (order.store_id, order.delivery_option_id)
    if key not in known:
        known[key] = seller_shipping_carriers(order=order)
    return known[key]


def _plan(
    text: str, report: ImportReport, actor: Actor, orders: QuerySet[Order], source: str
) -> list[Callable[[], None]]:
    plan: list[Callable[[], None]] = []
    seen_orders: dict[str, int] = {}
    seen_tracking: dict[str, int] = {}
    carriers: dict[tuple[object, str], list[ShippingProvider]] = {}
    for line, row in csv_rows(text, columns=COLUMNS, required=REQUIRED, report=report):
        external_id = row.get("order_id", "")
        if external_id in seen_orders:
            first = seen_orders[external_id]
            report.errors.append(RowError(line, "order_id", f"{external_id} already appears on line {first}"))
            continue
        seen_orders[external_id] = line
        matches = list(orders.select_related("store__authorization").filter(external_id=external_id)[:2])
        if not matches:
            report.errors.append(RowError(line, "order_id", f"no order {external_id or '(blank)'}"))
            continue
        if len(matches) > 1:
            report.errors.append(RowError(line, "order_id", f"{external_id} is an order id in more than one store"))
            continue
        order = matches[0]
        sent = SellerShipment.objects.filter(order=order).exclude(state=SellerShipmentState.FAILED).first()
        if sent is not None:
            report.changes.append(
                f"line {line}: order {external_id} already sent to {platform_name(order.store.platform)} "
                f"({sent.get_state_display()}, "
                f"{sent.carrier_name} {sent.tracking_number}): left as it is"
            )
            continue
        try:
            seller_shipment_check(order=order)
            tracking = clean_tracking_number(row.get("tracking_number", ""))
            carrier = carrier_find(
                _carriers_for(order, carriers), row.get("carrier", ""), channel=platform_name(order.store.platform)
            )
        except SellerShippingRefused as refusal:
            report.errors.append(RowError(line, refusal.field or "order_id", str(refusal)))
            continue
        except PlatformError as error:
            channel = platform_name(order.store.platform)
            report.errors.append(RowError(line, "carrier", f"{channel} did not list the carriers ({error.code})"))
            continue
        if tracking in seen_tracking:
            report.errors.append(
                RowError(line, "tracking_number", f"{tracking} already appears on line {seen_tracking[tracking]}")
            )
            continue
        seen_tracking[tracking] = line
        report.changes.append(
            f"line {line}: order {external_id} → {carrier.name} {tracking}: mark shipped on "
            f"{platform_name(order.store.platform)}"
        )

        def apply(order: Order = order, carrier: ShippingProvider = carrier, tracking: str = tracking) -> None:
            seller_shipment_request(
                order=order,
                carrier=carrier.provider_id,
                tracking_number=tracking,
                actor=actor,
                source=source,
                carriers=[carrier],
            )

        plan.append(apply)
    return plan


def seller_shipments_import(
    *, text: str, actor: Actor, dry_run: bool, orders: QuerySet[Order] | None = None, source: str = "csv"
) -> ImportReport:
    """Validate the whole file; unless `dry_run`, and only if every row is valid, record every row (each is sent to
    its channel in the background, once). `orders` limits the rows to the orders the uploader may ship (a supplier's
    own): any other order id reads as unknown."""
    report = ImportReport(kind=KIND)
    with transaction.atomic():
        plan = _plan(text, report, actor, Order.objects.all() if orders is None else orders, source)
        if report.rows == 0 and not report.errors:
            report.errors.append(RowError(1, "", "the file has no rows"))
        if dry_run or not report.ok:
            return report
        for step in plan:
            step()
        report.applied = True
    return report
