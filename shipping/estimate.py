"""What a batch will cost, shown before any money is spent.

Each order is quoted the way its purchase will be (the same rule, the same package, Get Eligible Shipping Services,
the same choice of service), so the estimate is the price the purchase would pay now. Quoting calls the platform
once per order, so a page quotes only what it can in a few seconds; the rest is said to be unquoted, with the count,
and the batch page shows the real running total as labels are bought.
"""

from __future__ import annotations

import hashlib
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

from django.core import signing
from django.core.exceptions import ValidationError
from django.utils import timezone

from integrations.base import LabelProvider
from integrations.errors import ErrorKind, PlatformError
from integrations.interface import ShippingServiceQuote
from integrations.services import platform_name, store_label_provider
from orders.models import Order
from orders.selectors import platform_warehouse_mismatches
from shipping.labels.batches import BatchPlan
from shipping.labels.purchase import lines_to_ship, package_for
from shipping.models import LogisticsRule
from shipping.rules.engine import choose_service, first_match
from shipping.rules.facts import facts_for

QUOTE_LIMIT = 50  # orders quoted live, at most
QUOTE_SECONDS = 4.0  # and no longer than this: a person is waiting for the page


@dataclass
class Estimate:
    count: int  # labels the batch would buy
    skipped: dict[str, int]  # left out, and why
    quoted: int = 0
    totals: dict[str, Decimal] = field(default_factory=dict)  # currency → sum of the quoted prices
    not_quoted: dict[str, int] = field(default_factory=dict)  # why → how many orders have no price here
    warnings: dict[str, str] = field(default_factory=dict)  # order number → what is wrong before buying
    prices: dict[str, tuple[Decimal, str]] = field(default_factory=dict)  # order number → its label's quote

    @property
    def complete(self) -> bool:
        return self.quoted == self.count

    def as_record(self) -> dict[str, object]:
        """What the batch keeps of it (shown beside the final cost)."""
        return {
            "count": self.count,
            "quoted": self.quoted,
            "totals": {currency: str(total) for currency, total in self.totals.items()},
        }


def batch_estimate(plan: BatchPlan, *, limit: int = QUOTE_LIMIT, seconds: float = QUOTE_SECONDS) -> Estimate:
    estimate = Estimate(count=len(plan.orders), skipped=dict(plan.skipped))
    estimate.warnings = {
        order.external_id: message
        for order, message in zip(plan.orders, platform_warehouse_mismatches(plan.orders), strict=True)
        if message
    }
    not_quoted: dict[str, int] = defaultdict(int)
    rules = list(LogisticsRule.objects.filter(enabled=True))
    providers: dict[object, LabelProvider] = {}
    deadline = time.monotonic() + seconds
    for order in plan.orders:
        if estimate.quoted >= limit or time.monotonic() > deadline:
            not_quoted["not quoted: too many to quote before buying (the batch page shows the real total)"] += 1
            continue
        price = _quote(order, rules, providers, not_quoted)
        if price is not None:
            amount, currency = price
            estimate.prices[order.external_id] = price
            estimate.totals[currency] = estimate.totals.get(currency, Decimal(0)) + amount
            estimate.quoted += 1
    estimate.not_quoted = dict(not_quoted)
    return estimate


def _quote(
    order: Order, rules: list[LogisticsRule], providers: dict[object, LabelProvider], not_quoted: dict[str, int]
) -> tuple[Decimal, str] | None:
    service, why_not = order_quote(order, rules=rules, providers=providers)
    if service is None or service.price is None:
        not_quoted[why_not] += 1
        return None
    return service.price.amount, service.price.currency


def order_quote(
    order: Order, *, rules: list[LogisticsRule] | None = None, providers: dict[object, LabelProvider] | None = None
) -> tuple[ShippingServiceQuote | None, str]:
    """The service (with its price) the purchase would choose for this order now, the way a batch estimate quotes it;
    (None, why not) when there is none to quote."""
    name = platform_name(order.store.platform)
    providers = providers if providers is not None else {}
    rules = rules if rules is not None else list(LogisticsRule.objects.filter(enabled=True))
    try:
        provider = providers.get(order.store_id) or providers.setdefault(
            order.store_id, store_label_provider(order.store)
        )
    except PlatformError:
        return None, f"not quoted: {name} sells no labels here"
    if not provider.creates_packages:
        return None, f"not quoted: {name} prices the package it already created"
    order_facts = facts_for(order)
    decision = first_match(rules, order_facts, timezone.now())
    actions = decision.actions if decision else None
    if actions is not None and actions.hold_for_review:
        return None, "held for review by a rule: nothing will be bought"
    weight, dimensions = package_for(order_facts, actions)
    try:
        options = provider.quote(order.external_id, line_ids=lines_to_ship(order), weight=weight, dimensions=dimensions)
    except PlatformError as error:
        if error.kind == ErrorKind.NO_SERVICE:
            return None, "not quoted: no eligible service with a price"
        return None, f"not quoted: {name} answered {error.code}"
    service, _ = choose_service(options.services, actions)
    if service is None or service.price is None:
        return None, "not quoted: no eligible service with a price"
    return service, ""


# An estimate handed to a partner system travels as a signed token, like the dashboard keeps it in the session between
# the confirmation page and "Buy": the batch then keeps the estimate that was shown, not numbers a client sent.
_ESTIMATE_SALT = "shipping.label-batch-estimate"
ESTIMATE_MAX_AGE = timedelta(hours=1)


def _orders_key(order_ids: Iterable[object]) -> str:
    return hashlib.sha256(",".join(sorted(str(pk) for pk in order_ids)).encode()).hexdigest()


def estimate_token(estimate: Estimate, *, order_ids: Iterable[object]) -> str:
    """A token standing for this estimate of these orders, for `estimate_from_token` within ESTIMATE_MAX_AGE."""
    return signing.dumps({"record": estimate.as_record(), "orders": _orders_key(order_ids)}, salt=_ESTIMATE_SALT)


def estimate_from_token(token: str, *, order_ids: Iterable[object]) -> dict[str, object]:
    """The estimate record a token stands for. ValidationError (keyed `estimate`) when it was tampered with, has
    expired, or was made for other orders."""
    try:
        data = signing.loads(token, salt=_ESTIMATE_SALT, max_age=ESTIMATE_MAX_AGE)
    except signing.BadSignature:  # SignatureExpired is one
        message = "This estimate has expired or is not Dropline's: ask for a new one."
        raise ValidationError({"estimate": [message]}) from None
    if not isinstance(data, dict) or data.get("orders") != _orders_key(order_ids):
        raise ValidationError({"estimate": ["This estimate was made for other orders: ask for one of these."]})
    record: dict[str, object] = data["record"]
    return record
