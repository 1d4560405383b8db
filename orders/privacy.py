"""Privacy requests a platform forwards from a buyer or a shop (Shopify's mandatory compliance webhooks): what
Dropline holds about them, and erasing it. Every request is answered the same day and audited.

- CUSTOMER_DATA_REQUEST: the buyer asked the shop for their data. Dropline records, in the audit log of the store's
  organization, which of the named orders it holds and which personal fields it keeps for them, so the seller can
  answer the buyer (Dropline has no channel to the buyer itself).
- CUSTOMER_REDACT: erase the buyer's personal data from the named orders (name, phone, address, message). The orders
  stay (stock, money and shipping history are the seller's records); their address reads as withheld and is never
  printed.
- SHOP_REDACT: the shop uninstalled Dropline long enough ago; erase the personal data of every order of the store.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db.models import QuerySet
from django.utils import timezone

from erp.actors import Actor
from erp.services import audit_record
from integrations.interface import Address, WebhookEvent
from integrations.models import Store
from integrations.services import platform_name
from orders.models import Order
from orders.services import order_address_columns

PRIVACY_TOPICS = ("CUSTOMER_DATA_REQUEST", "CUSTOMER_REDACT", "SHOP_REDACT")
# The personal fields an order keeps about its buyer (what a data request lists and a redaction blanks).
PERSONAL_FIELDS = (*order_address_columns(Address()), "full_address", "buyer_message")


def _erased() -> dict[str, object]:
    return {
        **order_address_columns(Address()),
        "full_address": "",
        "buyer_message": "",
        "address_masked": True,
        "updated_at": timezone.now(),
    }


def orders_redact(*, store: Store, orders: QuerySet[Order]) -> int:
    """Blank the personal fields of these orders; returns how many were changed."""
    return orders.filter(store=store).update(**_erased())


def privacy_request_handle(store: Store, event: WebhookEvent) -> None:
    """`integrations.services.webhook_topics` handler for the privacy topics (runs in the notification's worker)."""
    actor = Actor.system(platform_name(store.platform))
    named: Sequence[str] = event.order_ids
    changes: dict[str, object] = {
        "request": event.request_id,
        "customer": event.customer_id,
        "email": event.customer_email,
    }
    if event.topic == "CUSTOMER_DATA_REQUEST":
        found = Order.objects.filter(store=store, external_id__in=list(named))
        held = list(found.values_list("external_id", flat=True))
        changes.update({"orders_held": held, "fields_held": list(PERSONAL_FIELDS) if held else []})
        action = "privacy.data_requested"
    elif event.topic == "CUSTOMER_REDACT":
        erased = orders_redact(store=store, orders=Order.objects.filter(external_id__in=list(named)))
        changes.update({"orders_named": list(named), "orders_redacted": erased})
        action = "privacy.customer_redacted"
    else:
        erased = orders_redact(store=store, orders=Order.objects.all())
        changes.update({"orders_redacted": erased})
        action = "privacy.shop_redacted"
    audit_record(organization=store.organization, actor=actor, action=action, target=store, changes=changes)
