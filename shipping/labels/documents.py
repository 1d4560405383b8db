"""Label documents: the bought label's PDF, downloaded once and kept (reprints never buy again), read back through
the storage API, fetched again from the platform when its file is missing, and handed to the printouts with each
order's pick lines (docs/adr/0012-storage.md)."""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from uuid import UUID

from django.core.files.base import ContentFile
from django.db.models import QuerySet
from django.utils import timezone

from erp.storage import StorageUnavailable, storage_errors
from erp.tasks import wake_on_commit
from integrations.errors import ErrorKind, PlatformError
from integrations.services import platform_name, store_label_provider
from inventory.models import Reservation, StockLevel, Warehouse
from orders.models import OrderLine, OrderStatus
from shipping.documents.batch import BatchOrder, PickLine, picking_order
from shipping.models import HANDOFF_KINDS, LabelBatch, LabelPurchase, PurchaseState
from shipping.packages import contents_by_purchase, shipping_from, units_in

log = logging.getLogger(__name__)


def label_document_fetch(*, purchase_id: UUID | str) -> bool:
    """Download and keep the label PDF now (the platform's link expires in 24 h); reprints never buy again."""
    purchase = LabelPurchase.objects.select_related("order", "store__authorization").get(pk=purchase_id)
    if purchase.state != PurchaseState.PURCHASED or purchase.label_pdf:
        return bool(purchase.label_pdf)
    _label_download(purchase)
    return True


def _label_download(purchase: LabelPurchase) -> bytes:
    """Ask the platform for a fresh document link (each lasts 24 h), download the label and store it. Raises
    PlatformError when the platform will not give it (picked up, cancelled, unreachable)."""
    document = store_label_provider(purchase.store).get_document(purchase.package_id)
    pdf = document.pdf
    purchase.label_pdf.save(f"{purchase.order.external_id}-{purchase.package_id}.pdf", ContentFile(pdf), save=False)
    LabelPurchase.objects.filter(pk=purchase.pk).update(
        label_pdf=purchase.label_pdf.name,
        tracking_number=document.tracking_number or purchase.tracking_number,
        updated_at=timezone.now(),
    )
    return pdf


REFETCH_PER_PRINT = 25  # labels fetched again inline by one printout; more are fetched in the background


def label_document_stored(*, purchase: LabelPurchase) -> bytes | None:
    """The stored label PDF, read through the storage API (a volume or a bucket alike); None when there is none."""
    if not purchase.label_pdf:
        return None
    try:
        with purchase.label_pdf.open("rb") as handle:
            content: bytes = handle.read()
            return content
    except FileNotFoundError:
        log.warning("label file %s of order %s is missing", purchase.label_pdf.name, purchase.order.external_id)
        return None
    except storage_errors() as error:  # storage is down: no file is known to be missing, so nothing is fetched again
        raise StorageUnavailable(f"{type(error).__name__}: {error}") from error


def label_document_recover(*, purchase: LabelPurchase, now: bool = True) -> tuple[bytes, str]:
    """A bought label whose file is missing (a lost volume, a deleted object, or not stored yet): asked of the platform
    again and saved back, so the next print has it. (pdf, "") — or (b"", why it cannot be printed and what to do).
    With `now` False, the fetch is left to the documents worker (and beat, should its message be lost)."""
    if not now:
        from shipping.tasks import documents_fetch_label  # tasks import this module

        LabelPurchase.objects.filter(pk=purchase.pk).update(label_pdf="")  # what the fetch task and beat look for
        wake_on_commit(
            documents_fetch_label, organization_id=str(purchase.organization_id), purchase_id=str(purchase.pk)
        )
        name = platform_name(purchase.store.platform)
        return b"", f"The label file is missing and is being fetched again from {name}: print again in a minute."
    try:
        return _label_download(purchase), ""
    except PlatformError as error:
        log.warning("label of order %s could not be fetched again: %s", purchase.order.external_id, error)
        detail = f" ({error.message[:120]})" if error.kind == ErrorKind.REFUSED else ""
        return b"", f"The label file is missing{detail}. {error.fix or 'Print again in a few minutes.'}"


# ------------------------------------------------------------------------------------------ batch documents
def batch_documents_input(batch: LabelBatch, *, warehouse: Warehouse | None) -> list[BatchOrder]:
    """The bought labels of a batch whose orders ship from one own `warehouse` (None: orders routed to no warehouse),
    as the printing functions take them. Documents are per warehouse: one pick list never mixes two. A supplier or
    3PL warehouse's labels are printed from its handoff only (`purchases_documents_input` over the handoff's items):
    asking for them here is a programming error, so no seller-side printout can ever hold them."""
    if warehouse is not None and warehouse.kind in HANDOFF_KINDS:
        raise ValueError(f"{warehouse.name} works through handoffs: its labels print from its handoff only")
    # Each package where it ships from: a split order's package in its source's documents only.
    return purchases_documents_input(shipping_from(batch.purchases.all(), warehouse.pk if warehouse else None))


def purchases_documents_input(purchases: QuerySet[LabelPurchase]) -> list[BatchOrder]:
    """Bought labels as the printing functions take them, in picking order: the stored label PDF (never bought again
    for a reprint), lines grouped by SKU with the bin at the warehouse each order is reserved at, the buyer's message
    and whether it is a gift. A label whose file is missing is fetched again from the platform (`REFETCH_PER_PRINT`
    inline, the rest by the documents worker); one that cannot be had carries why in `missing` (a placeholder page).
    A label whose order was cancelled is left out of every printout (shipping.cancelled)."""
    bought = list(
        purchases.filter(state=PurchaseState.PURCHASED, order_cancelled_at__isnull=True)
        .exclude(order__status=OrderStatus.CANCELLED)  # cancelled after its label was bought: never printed again
        .select_related("order", "store__authorization")
    )
    contents = contents_by_purchase(bought)  # a combined parcel carries several orders, a split one some lines
    order_ids = {carried.order.pk for carried_list in contents.values() for carried in carried_list}
    order_lines: defaultdict[UUID, list[tuple[str, str, str, bool, list[str], int]]] = defaultdict(list)
    for order_id, seller_sku, sku_id, name, is_gift, line_ids, quantity in OrderLine.objects.filter(
        order_id__in=order_ids, is_cancelled=False
    ).values_list("order_id", "seller_sku", "sku_id", "product_name", "is_gift", "platform_line_ids", "quantity"):
        order_lines[order_id].append((seller_sku or sku_id, name, sku_id, is_gift, line_ids, quantity))
    reserved_at = dict(Reservation.objects.filter(order_id__in=order_ids).values_list("order_id", "warehouse_id"))
    bins: dict[tuple[UUID | None, str], str] = {
        (warehouse_id, code): bin_location
        for warehouse_id, code, bin_location in StockLevel.objects.filter(
            warehouse_id__in={*reserved_at.values(), *(p.warehouse_id for p in bought if p.warehouse_id)}
        ).values_list("warehouse_id", "sku__code", "bin_location")
    }
    result = []
    recovered = 0
    for purchase in bought:
        order = purchase.order
        pdf, missing = label_document_stored(purchase=purchase), ""
        if pdf is None:  # one missing file never stops the print: fetched again, or a placeholder page says why
            pdf, missing = label_document_recover(purchase=purchase, now=recovered < REFETCH_PER_PRINT)
            recovered += 1
        picks: list[PickLine] = []
        gift = False
        for carried in contents[purchase.pk]:
            units: Counter[str] = Counter()
            names: dict[str, str] = {}
            for code, name, _sku_id, is_gift, line_ids, quantity in order_lines[carried.order.pk]:
                count = units_in(line_ids, carried.line_ids, quantity)
                if count:
                    units[code] += count
                    names[code] = name
                    gift = gift or is_gift
            source = purchase.warehouse_id or reserved_at.get(carried.order.pk)
            picks.extend(
                PickLine(
                    order_ref=carried.order.external_id,
                    seller_sku=code,
                    name=names[code],
                    quantity=quantity,
                    bin_location=bins.get((source, code), ""),
                )
                for code, quantity in sorted(units.items())
            )
        result.append(
            BatchOrder(
                order_ref=order.external_id,
                label_pdf=pdf,
                missing=missing,
                lines=tuple(picks),
                recipient_name=order.recipient_name,
                ship_by=min((c.order.ship_by for c in contents[purchase.pk] if c.order.ship_by), default=None),
                tracking_number=purchase.tracking_number,
                buyer_message="\n".join(
                    dict.fromkeys(
                        c.order.buyer_message.strip() for c in contents[purchase.pk] if c.order.buyer_message.strip()
                    )
                ),
                is_gift=gift,
                combined_with=tuple(c.order.external_id for c in contents[purchase.pk][1:] if c.order.pk != order.pk),
            )
        )
    return picking_order(result, sort="bin")
