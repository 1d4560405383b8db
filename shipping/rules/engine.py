"""Matching: conditions against an order's facts, the first matching rule, the shipping service to buy.

Everything here explains itself: `matches` returns the reasons a person reads ("destination state TX is in [TX, OK]"),
`choose_service` says why a service was chosen, and `decision_record` is the decision log an order keeps. Rules are
tried by priority; the first match wins. `rule_test` runs the same matching over open orders without saving anything.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.utils import timezone

from erp.tenancy import organization_in_scope
from erp.units import CANONICAL, Units, units_of
from integrations.interface import ShippingServiceQuote
from integrations.models import Platform
from orders.models import OPEN_STATUSES, Order
from shipping.models import LogisticsRule
from shipping.rules.facts import OrderFacts, facts_for_orders
from shipping.rules.schema import Actions, Conditions

log = logging.getLogger(__name__)

SINGLE_SERVICE = "the platform allocated a single service for this package"
TIE_BREAK = "broken by the platform’s default, then by service id"


# ---------------------------------------------------------------------------------------------------- matching
def _listed(values: Iterable[str]) -> str:
    return "[" + ", ".join(values) + "]"


def _num(value: Decimal) -> str:
    return f"{value.normalize():f}" if value == value.to_integral() else f"{value.quantize(Decimal('0.01'))}"


def _in(label: str, value: str, allowed: tuple[str, ...], *, casefold: bool = False) -> tuple[bool, str]:
    ok = value.casefold() in {a.casefold() for a in allowed} if casefold else value in allowed
    shown = value or "(none)"
    return ok, f"{label} {shown} is {'' if ok else 'not '}in {_listed(allowed)}"


def _between(
    label: str,
    value: Decimal | int | None,
    low: Any,
    high: Any,
    unknown: str,
    shown: Callable[[Decimal], str] = _num,
) -> tuple[bool, str]:
    """Compared as stored (canonical units), written as the organization reads them (`shown`)."""
    wanted = " and ".join(
        part
        for part in (
            f"at least {shown(Decimal(low))}" if low is not None else "",
            f"at most {shown(Decimal(high))}" if high is not None else "",
        )
        if part
    )
    if value is None:
        return False, f"{label} is unknown ({unknown}), so “{wanted}” cannot be checked"
    ok = (low is None or value >= low) and (high is None or value <= high)
    return ok, f"{label} {shown(Decimal(value))} is {'' if ok else 'not '}{wanted}"


def _checks(c: Conditions, f: OrderFacts, now: datetime, units: Units) -> Iterable[tuple[bool, str]]:
    if c.store_ids is not None:  # by name, never by id: a person reads this
        ok = f.store_id in c.store_ids
        store = f"store {f.store_name}" if f.store_name else "the order's store"
        yield ok, f"{store} is {'' if ok else 'not '}one of the rule's stores"
    if c.channels is not None:
        names = [str(Platform(channel).label) for channel in c.channels]
        ok = f.channel in c.channels
        channel = Platform(f.channel).label if f.channel in Platform.values else "the order's channel"
        yield ok, f"{channel} is {'' if ok else 'not '}one of the rule's channels ({', '.join(names)})"
    if c.countries is not None:
        yield _in("destination country", f.country, c.countries)
    if c.states is not None:
        yield _in("destination state", f.state, c.states, casefold=True)
    if c.postal_prefixes is not None:
        hit = next((p for p in c.postal_prefixes if f.postal_code.startswith(p)), None)
        yield (
            hit is not None,
            f"postal code {f.postal_code or '(none)'} "
            + (f"starts with {hit}" if hit else f"starts with none of {_listed(c.postal_prefixes)}"),
        )
    if c.total_min is not None or c.total_max is not None:
        yield _between("order total", f.total, c.total_min, c.total_max, "the platform sent no total")
    if c.weight_min_grams is not None or c.weight_max_grams is not None:
        missing = f"no weight for SKU {', '.join(f.unknown_weight_skus) or '(no lines)'}"
        yield _between(
            "weight", f.weight_grams, c.weight_min_grams, c.weight_max_grams, missing, shown=units.weight_text
        )
    if c.max_side_cm is not None:
        missing = f"no dimensions for SKU {', '.join(f.unknown_size_skus) or '(no lines)'}"
        yield _between("longest side", f.max_side_cm, None, c.max_side_cm, missing, shown=units.length_text)
    if c.seller_skus_any is not None:
        hits = sorted(f.seller_skus & set(c.seller_skus_any))
        yield (
            bool(hits),
            (f"contains SKU {', '.join(hits)}" if hits else f"contains none of the SKUs {_listed(c.seller_skus_any)}"),
        )
    if c.product_ids_any is not None:
        hits = sorted(f.product_ids & set(c.product_ids_any))
        yield (
            bool(hits),
            (
                f"contains product {', '.join(hits)}"
                if hits
                else f"contains none of the products {_listed(c.product_ids_any)}"
            ),
        )
    if c.tags_any is not None:
        hits = sorted(t for t in c.tags_any if t.casefold() in f.tags)
        yield (
            bool(hits),
            f"tagged {', '.join(hits)}" if hits else f"tagged none of {_listed(c.tags_any)}",
        )
    if c.line_count_min is not None or c.line_count_max is not None:
        yield _between("line count", f.line_count, c.line_count_min, c.line_count_max, "")
    if c.delivery_option_names is not None:
        yield _in("delivery option", f.delivery_option_name, c.delivery_option_names, casefold=True)
    if c.ship_within_hours is not None:
        if f.ship_by is None:
            yield False, f"no ship-by deadline, so “ships within {c.ship_within_hours} h” cannot be checked"
        else:
            hours = Decimal((f.ship_by - now).total_seconds()) / 3600
            ok = f.ship_by - now <= timedelta(hours=c.ship_within_hours)
            yield ok, f"ship-by in {hours:.1f} h is {'' if ok else 'not '}within {c.ship_within_hours} h"
    if c.has_buyer_message is not None:
        ok = f.has_buyer_message == c.has_buyer_message
        yield ok, "the buyer left a message" if f.has_buyer_message else "the buyer left no message"


def matches(
    conditions: Conditions, facts: OrderFacts, now: datetime, units: Units = CANONICAL
) -> tuple[bool, list[str]]:
    """Whether every condition holds, and a sentence per condition saying why it does or does not (weights and
    lengths in `units`, the organization's)."""
    results = list(_checks(conditions, facts, now, units))
    if not results:
        return True, ["no conditions: matches every order"]
    return all(ok for ok, _ in results), [reason for _, reason in results]


@dataclass(frozen=True)
class Decision:
    rule: LogisticsRule
    actions: Actions
    reasons: list[str]


def first_match(rules: Iterable[LogisticsRule], facts: OrderFacts, now: datetime) -> Decision | None:
    """The first enabled rule, by priority, whose conditions all hold (None: no rule applies)."""
    units = units_of(organization_in_scope())
    for rule in sorted((r for r in rules if r.enabled), key=lambda r: (r.priority, r.created_at, str(r.pk))):
        try:
            conditions = Conditions.from_json(rule.conditions)
            actions = Actions.from_json(rule.actions)
        except ValidationError as error:  # stored through rule_save, so only after a schema change: say so, skip
            log.warning("logistics rule %s is invalid, skipped: %s", rule.pk, error.messages)
            continue
        ok, reasons = matches(conditions, facts, now, units)
        if ok:
            return Decision(rule=rule, actions=actions, reasons=reasons)
    return None


# ------------------------------------------------------------------------------------------- choosing a service
_NEVER = Decimal("Infinity")


def _price(s: ShippingServiceQuote) -> Decimal:
    return s.price.amount if s.price is not None else _NEVER


def _days(s: ShippingServiceQuote) -> Decimal:
    days = s.latest_delivery_days if s.latest_delivery_days is not None else s.earliest_delivery_days
    return Decimal(days) if days is not None else _NEVER


def _cheapest_key(s: ShippingServiceQuote) -> tuple[Any, ...]:
    return (_price(s), _days(s), not s.is_default, s.service_id, s.name)


def _fastest_key(s: ShippingServiceQuote) -> tuple[Any, ...]:
    earliest = Decimal(s.earliest_delivery_days) if s.earliest_delivery_days is not None else _NEVER
    return (_days(s), earliest, _price(s), not s.is_default, s.service_id, s.name)


def _describe(s: ShippingServiceQuote) -> str:
    price = f"{s.price.amount} {s.price.currency}" if s.price is not None else "no price quoted"
    days = (
        f"{s.earliest_delivery_days}–{s.latest_delivery_days} days"
        if s.earliest_delivery_days is not None and s.latest_delivery_days is not None
        else "delivery days not quoted"
    )
    return f"{s.display_name} ({price}, {days})"


def _tie_note(chosen: ShippingServiceQuote, pool: list[ShippingServiceQuote], key: Any, width: int) -> str:
    tied = [s for s in pool if s is not chosen and key(s)[:width] == key(chosen)[:width]]
    return f"; tied with {', '.join(s.name for s in tied)}, {TIE_BREAK}" if tied else ""


def _cheapest(services: Sequence[ShippingServiceQuote], of: str) -> tuple[ShippingServiceQuote, str]:
    priced = [s for s in services if s.price is not None]
    if not priced:
        chosen = min(services, key=_cheapest_key)
        which = "the platform’s default service" if chosen.is_default else "the first service by id"
        return chosen, f"no prices quoted: {which}, {_describe(chosen)}"
    chosen = min(priced, key=_cheapest_key)
    as_cheap = [s for s in priced if s is not chosen and _price(s) == _price(chosen)]
    identical = [s for s in as_cheap if _days(s) == _days(chosen)]
    note = ""
    if identical:
        note = f"; tied with {', '.join(s.name for s in identical)} on price and days, {TIE_BREAK}"
    elif as_cheap:
        note = f"; as cheap as {', '.join(s.name for s in as_cheap)}, chosen as the faster"
    return chosen, f"cheapest of {len(priced)} {of}: {_describe(chosen)}{note}"


def choose_service(
    services: Sequence[ShippingServiceQuote], actions: Actions | None
) -> tuple[ShippingServiceQuote | None, str]:
    """The service to buy under the rule's strategy (cheapest when no rule applies), and why, in one sentence.
    Ties are broken by price, then delivery days, then the platform's default, then service id: the same quotes
    always give the same choice."""
    if not services:
        return None, "no eligible shipping services were quoted"
    if len(services) == 1:
        return services[0], f"{SINGLE_SERVICE}: {_describe(services[0])}"
    strategy = actions.service_strategy if actions is not None else "cheapest"
    if strategy == "fastest":
        timed = [s for s in services if _days(s) != _NEVER]
        if timed:
            chosen = min(timed, key=_fastest_key)
            tie = _tie_note(chosen, timed, _fastest_key, 2)
            if not tie and any(_days(s) == _days(chosen) for s in timed if s is not chosen):
                tie = "; others arrive as soon, this one costs least"
            return chosen, f"fastest of {len(timed)} eligible services: {_describe(chosen)}{tie}"
        chosen, why = _cheapest(services, "eligible services")
        return chosen, f"no delivery days were quoted, so the fastest cannot be known; fell back to the {why}"
    if strategy == "cheapest_within_days" and actions is not None and actions.within_days is not None:
        days = actions.within_days
        fitting = [s for s in services if s.latest_delivery_days is not None and s.latest_delivery_days <= days]
        if fitting:
            return _cheapest(fitting, f"services arriving within {days} days")
        chosen, why = _cheapest(services, "eligible services")
        return chosen, f"no service is quoted to arrive within {days} days; fell back to the {why}"
    if strategy == "provider" and actions is not None and actions.provider_name:
        wanted = actions.provider_name.casefold()
        theirs = [s for s in services if wanted in {s.carrier_name.casefold(), s.name.casefold()}]
        if theirs:
            return _cheapest(theirs, f"services from {actions.provider_name}")
        chosen, why = _cheapest(services, "eligible services")
        return chosen, f"no quoted service is from {actions.provider_name}; fell back to the {why}"
    return _cheapest(services, "eligible services")


def decision_record(
    *,
    decision: Decision | None,
    services: Sequence[ShippingServiceQuote],
    chosen: ShippingServiceQuote | None,
    reason: str,
) -> dict[str, Any]:
    """The decision log an order keeps (JSON): which rule matched and why, every eligible service with its price and
    delivery days, which was chosen and why."""
    return {
        "rule": (
            {"id": str(decision.rule.pk), "name": decision.rule.name, "reasons": decision.reasons}
            if decision is not None
            else None
        ),
        "services": [
            {
                "id": s.service_id,
                "name": s.name,
                "carrier": s.carrier_name,
                "price": str(s.price.amount) if s.price is not None else None,
                "currency": s.price.currency if s.price is not None else "",
                "days": [s.earliest_delivery_days, s.latest_delivery_days],
                "default": s.is_default,
            }
            for s in services
        ],
        "chosen": chosen.service_id if chosen is not None else None,
        "reason": reason,
        "single_service": len(services) == 1,
    }


TEST_BATCH = 500


def rule_test(
    *,
    rule_or_conditions: LogisticsRule | Conditions | dict,
    limit: int = 50,
    now: datetime | None = None,
) -> list[tuple[Order, list[str]]]:
    """Open orders these conditions would match, with the reasons, without saving anything ("Test this rule").
    Orders are read by ship-by in batches, each batch's facts in a fixed number of queries."""
    if isinstance(rule_or_conditions, LogisticsRule):
        conditions = Conditions.from_json(rule_or_conditions.conditions)
    elif isinstance(rule_or_conditions, Conditions):
        conditions = rule_or_conditions
    else:
        conditions = Conditions.from_json(rule_or_conditions)
    now = now or timezone.now()
    units = units_of(organization_in_scope())
    orders = Order.objects.filter(status__in=OPEN_STATUSES).select_related("store")
    # What SQL can decide exactly, it decides: fewer orders to compute facts for.
    if conditions.store_ids is not None:
        orders = orders.filter(store_id__in=conditions.store_ids)
    if conditions.channels is not None:
        orders = orders.filter(store__platform__in=conditions.channels)
    if conditions.total_min is not None:
        orders = orders.filter(total__gte=conditions.total_min)
    if conditions.total_max is not None:
        orders = orders.filter(total__lte=conditions.total_max)
    orders = orders.order_by("ship_by", "id")
    found: list[tuple[Order, list[str]]] = []
    offset = 0
    while len(found) < limit:
        batch = list(orders[offset : offset + TEST_BATCH])
        if not batch:
            break
        facts = facts_for_orders(batch)
        for order in batch:
            ok, reasons = matches(conditions, facts[order.pk], now, units)
            if ok:
                found.append((order, reasons))
                if len(found) >= limit:
                    break
        offset += TEST_BATCH
    return found
