"""Logistics rules: conditions → actions, tried by priority, first match wins.

A rule's conditions are checked against `OrderFacts` (what an order is: where it goes, what it weighs, what it holds,
how soon it must ship); its actions say what to do (warehouse, package preset, how to pick the shipping service,
handover, auto-buy, hold, tag). Everything here explains itself: `matches` returns the reasons a person reads
("destination state TX is in [TX, OK]"), `choose_service` says why a service was chosen, and `decision_record` is the
decision log an order keeps. The JSON stored on `LogisticsRule` is validated by `Conditions.from_json` /
`Actions.from_json`, whose errors name the field and say what to fix.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from erp.actors import Actor
from erp.services import audit_record
from erp.tenancy import current_organization, organization_in_scope
from erp.units import CANONICAL, Units, units_of
from integrations.interface import ShippingServiceQuote
from integrations.models import Store
from inventory.models import Listing, Warehouse
from orders.models import OPEN_STATUSES, Order, OrderLine
from shipping.models import LogisticsRule

log = logging.getLogger(__name__)

STRATEGIES = ("cheapest", "fastest", "cheapest_within_days", "provider")
HANDOVER_METHODS = ("PICKUP", "DROP_OFF")
CM_PER = {"cm": Decimal(1), "in": Decimal("2.54")}
SINGLE_SERVICE = "the platform allocated a single service for this package"
TIE_BREAK = "broken by the platform’s default, then by service id"


# ------------------------------------------------------------------------------------------------ JSON parsing
class _Reader:
    """Reads one JSON object field by field, collecting plain-language errors under each field's name."""

    def __init__(self, data: object, known: Iterable[str], what: str) -> None:
        self.errors: dict[str, list[str]] = {}
        if not isinstance(data, dict):
            self.data: dict[str, Any] = {}
            self.error("__all__", f"The {what} must be a JSON object.")
            return
        self.data = data
        for key in data:
            if key not in known:
                self.error(str(key), f"“{key}” is not a {what[:-1] if what.endswith('s') else what} Dropline knows.")

    def error(self, field: str, message: str) -> None:
        self.errors.setdefault(field, []).append(message)

    def raise_if_invalid(self) -> None:
        if self.errors:
            raise ValidationError(self.errors)

    def strings(self, field: str, *, upper: bool = False, uuids: bool = False) -> tuple[str, ...] | None:
        value = self.data.get(field)
        if value is None:
            return None
        if not isinstance(value, list) or not value or not all(isinstance(v, str) and v.strip() for v in value):
            self.error(field, "Give a non-empty list of texts.")
            return None
        result = []
        for item in value:
            text = item.strip().upper() if upper else item.strip()
            if uuids:
                try:
                    text = str(uuid.UUID(text))
                except ValueError:
                    self.error(field, f"“{item}” is not an id.")
                    return None
            if text not in result:
                result.append(text)
        return tuple(result)

    def decimal(self, field: str, *, positive: bool = False) -> Decimal | None:
        value = self.data.get(field)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            self.error(field, "Give a number.")
            return None
        try:
            number = Decimal(str(value).strip())
        except InvalidOperation:
            self.error(field, f"“{value}” is not a number.")
            return None
        if not number.is_finite() or number < 0 or (positive and number == 0):
            self.error(field, "Give a number greater than zero." if positive else "Give a number of zero or more.")
            return None
        return number

    def integer(self, field: str, *, minimum: int = 0) -> int | None:
        value = self.data.get(field)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            self.error(field, f"Give a whole number of {minimum} or more.")
            return None
        return value

    def boolean(self, field: str) -> bool | None:
        value = self.data.get(field)
        if value is None:
            return None
        if not isinstance(value, bool):
            self.error(field, "Give true or false.")
            return None
        return value

    def text(self, field: str, *, max_length: int, choices: Sequence[str] | None = None) -> str | None:
        value = self.data.get(field)
        if value is None:
            return None
        if not isinstance(value, str) or not value.strip():
            self.error(field, "Give a non-empty text.")
            return None
        value = value.strip()
        if choices is not None and value not in choices:
            self.error(field, f"“{value}” is not one of: {', '.join(choices)}.")
            return None
        if len(value) > max_length:
            self.error(field, f"Keep it to {max_length} characters.")
            return None
        return value

    def range(self, low_field: str, low: Any, high_field: str, high: Any) -> None:
        if low is not None and high is not None and low > high:
            self.error(high_field, f"The maximum must not be below the minimum ({low_field}).")


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, tuple):
        return list(value)
    return value


def _to_json(instance: Any) -> dict[str, Any]:
    return {
        f.name: _plain(getattr(instance, f.name)) for f in fields(instance) if getattr(instance, f.name) is not None
    }


# -------------------------------------------------------------------------------------------------- conditions
@dataclass(frozen=True)
class Conditions:
    """All optional; a rule matches when every condition given holds. Lists match when any item matches."""

    store_ids: tuple[str, ...] | None = None
    countries: tuple[str, ...] | None = None  # ISO 3166-1 alpha-2
    states: tuple[str, ...] | None = None  # as the platform writes them ("TX", "California"); case ignored
    postal_prefixes: tuple[str, ...] | None = None
    total_min: Decimal | None = None
    total_max: Decimal | None = None
    weight_min_grams: Decimal | None = None
    weight_max_grams: Decimal | None = None
    max_side_cm: Decimal | None = None  # the package's longest side is at most this
    seller_skus_any: tuple[str, ...] | None = None
    product_ids_any: tuple[str, ...] | None = None
    tags_any: tuple[str, ...] | None = None  # tags on the order (set by rules or a person); case ignored
    line_count_min: int | None = None
    line_count_max: int | None = None
    delivery_option_names: tuple[str, ...] | None = None
    ship_within_hours: int | None = None  # the ship-by deadline is within this many hours from now
    has_buyer_message: bool | None = None

    @classmethod
    def from_json(cls, data: object) -> Conditions:
        r = _Reader(data, {f.name for f in fields(cls)}, "conditions")
        conditions = cls(
            store_ids=r.strings("store_ids", uuids=True),
            countries=r.strings("countries", upper=True),
            states=r.strings("states"),
            postal_prefixes=r.strings("postal_prefixes", upper=True),
            total_min=r.decimal("total_min"),
            total_max=r.decimal("total_max"),
            weight_min_grams=r.decimal("weight_min_grams"),
            weight_max_grams=r.decimal("weight_max_grams"),
            max_side_cm=r.decimal("max_side_cm", positive=True),
            seller_skus_any=r.strings("seller_skus_any"),
            product_ids_any=r.strings("product_ids_any"),
            tags_any=r.strings("tags_any"),
            line_count_min=r.integer("line_count_min"),
            line_count_max=r.integer("line_count_max"),
            delivery_option_names=r.strings("delivery_option_names"),
            ship_within_hours=r.integer("ship_within_hours", minimum=1),
            has_buyer_message=r.boolean("has_buyer_message"),
        )
        for country in conditions.countries or ():
            if len(country) != 2 or not country.isalpha():
                r.error("countries", f"“{country}” is not a two-letter country code (US, GB, ...).")
        r.range("total_min", conditions.total_min, "total_max", conditions.total_max)
        r.range("weight_min_grams", conditions.weight_min_grams, "weight_max_grams", conditions.weight_max_grams)
        r.range("line_count_min", conditions.line_count_min, "line_count_max", conditions.line_count_max)
        r.raise_if_invalid()
        return conditions

    def to_json(self) -> dict[str, Any]:
        return _to_json(self)


# ----------------------------------------------------------------------------------------------------- actions
@dataclass(frozen=True)
class Actions:
    warehouse_id: str | None = None
    package_length_cm: Decimal | None = None
    package_width_cm: Decimal | None = None
    package_height_cm: Decimal | None = None
    package_weight_grams: Decimal | None = None  # overrides the weight computed from SKU weights
    service_strategy: str = "cheapest"
    within_days: int | None = None  # with "cheapest_within_days"
    provider_name: str | None = None  # with "provider": a carrier's name as the platform quotes it
    handover_method: str | None = None  # PICKUP | DROP_OFF
    pickup_slot: str | None = None  # preferred pickup slot, with PICKUP ("morning", "14:00-17:00", ...)
    auto_buy: bool | None = None  # None: the store's setting decides
    hold_for_review: bool = False
    tag: str | None = None

    @classmethod
    def from_json(cls, data: object) -> Actions:
        r = _Reader(data, {f.name for f in fields(cls)}, "actions")
        warehouse_id = r.text("warehouse_id", max_length=64)
        if warehouse_id is not None:
            try:
                warehouse_id = str(uuid.UUID(warehouse_id))
            except ValueError:
                r.error("warehouse_id", f"“{warehouse_id}” is not a warehouse id.")
                warehouse_id = None
        actions = cls(
            warehouse_id=warehouse_id,
            package_length_cm=r.decimal("package_length_cm", positive=True),
            package_width_cm=r.decimal("package_width_cm", positive=True),
            package_height_cm=r.decimal("package_height_cm", positive=True),
            package_weight_grams=r.decimal("package_weight_grams", positive=True),
            service_strategy=r.text("service_strategy", max_length=40, choices=STRATEGIES) or "cheapest",
            within_days=r.integer("within_days", minimum=1),
            provider_name=r.text("provider_name", max_length=100),
            handover_method=r.text("handover_method", max_length=16, choices=HANDOVER_METHODS),
            pickup_slot=r.text("pickup_slot", max_length=40),
            auto_buy=r.boolean("auto_buy"),
            hold_for_review=bool(r.boolean("hold_for_review")),
            tag=r.text("tag", max_length=40),
        )
        sides = (actions.package_length_cm, actions.package_width_cm, actions.package_height_cm)
        if any(s is not None for s in sides) and any(s is None for s in sides):
            for name, side in zip(("package_length_cm", "package_width_cm", "package_height_cm"), sides, strict=True):
                if side is None:
                    r.error(name, "A package preset needs length, width and height: give all three.")
        if actions.service_strategy == "cheapest_within_days" and actions.within_days is None:
            r.error("within_days", "Say within how many days the parcel must arrive.")
        if actions.within_days is not None and actions.service_strategy != "cheapest_within_days":
            r.error("within_days", "Only used with the “cheapest arriving within N days” strategy.")
        if actions.service_strategy == "provider" and actions.provider_name is None:
            r.error("provider_name", "Name the provider (carrier) to ship with.")
        if actions.provider_name is not None and actions.service_strategy != "provider":
            r.error("provider_name", "Only used with the “named provider” strategy.")
        if actions.pickup_slot is not None and actions.handover_method != "PICKUP":
            r.error("pickup_slot", "A pickup slot needs the PICKUP handover method.")
        r.raise_if_invalid()
        return actions

    def to_json(self) -> dict[str, Any]:
        data = _to_json(self)
        if not self.hold_for_review:
            data.pop("hold_for_review")
        return data


# ------------------------------------------------------------------------------------------------------- facts
@dataclass(frozen=True)
class OrderFacts:
    """What rules look at. `weight_grams` / `max_side_cm` are None when a SKU's weight / dimensions are unknown
    (`unknown_weight_skus` / `unknown_size_skus` say which)."""

    store_id: str
    country: str
    state: str
    postal_code: str
    total: Decimal | None
    weight_grams: Decimal | None
    max_side_cm: Decimal | None
    seller_skus: frozenset[str]
    product_ids: frozenset[str]
    line_count: int
    delivery_option_name: str
    ship_by: datetime | None
    has_buyer_message: bool
    tags: frozenset[str] = frozenset()
    store_name: str = ""  # for the reasons a person reads (empty when the order's store was not loaded with it)
    unknown_weight_skus: tuple[str, ...] = ()
    unknown_size_skus: tuple[str, ...] = ()


FactLine = tuple[str, str, str, int]  # platform SKU id, seller SKU, product id, quantity


def facts_for_orders(orders: Iterable[Order]) -> dict[Any, OrderFacts]:
    """Facts of many orders, keyed by order id, in two queries (lines; listings with their SKUs) whatever their
    number. Cancelled lines do not count; a line's units count by its quantity (facts are about units)."""
    orders = list(orders)
    lines_by_order: dict[Any, list[FactLine]] = {o.pk: [] for o in orders}
    for order_id, sku_id, seller_sku, product_id, quantity in OrderLine.objects.filter(
        order_id__in=list(lines_by_order), is_cancelled=False
    ).values_list("order_id", "sku_id", "seller_sku", "product_id", "quantity"):
        lines_by_order[order_id].append((sku_id, seller_sku, product_id, quantity))
    platform_skus = {line[0] for lines in lines_by_order.values() for line in lines}
    listings = {
        (listing.store_id, listing.platform_sku_id): listing
        for listing in Listing.objects.filter(
            store_id__in={o.store_id for o in orders}, platform_sku_id__in=platform_skus
        ).select_related("sku")
    }
    return {order.pk: _facts(order, lines_by_order[order.pk], listings) for order in orders}


def facts_for(order: Order) -> OrderFacts:
    return facts_for_orders([order])[order.pk]


def _facts(order: Order, lines: list[FactLine], listings: dict[tuple[Any, str], Listing]) -> OrderFacts:
    weight: Decimal | None = Decimal(0)
    side: Decimal | None = Decimal(0)
    unknown_weight: list[str] = []
    unknown_size: list[str] = []
    for sku_id, seller_sku, _, quantity in lines:
        listing = listings.get((order.store_id, sku_id))
        sku = listing.sku if listing is not None else None
        label = seller_sku or sku_id
        grams = sku.weight_grams if sku is not None else None
        if grams is None:
            unknown_weight.append(label)
        elif weight is not None:
            weight += grams * quantity
        dims = (sku.length, sku.width, sku.height) if sku is not None else (None,)
        if any(d is None for d in dims):
            unknown_size.append(label)
        elif side is not None:
            side = max(side, max(d for d in dims if d is not None) * CM_PER[sku.dimension_unit])  # type: ignore[union-attr]
    return OrderFacts(
        store_id=str(order.store_id),
        country=(order.country_code or "").upper(),
        state=order.state or "",
        postal_code=(order.postal_code or "").replace(" ", "").upper(),
        total=order.total,
        weight_grams=None if unknown_weight else weight,
        max_side_cm=None if unknown_size or not lines else side,
        seller_skus=frozenset(line[1] for line in lines if line[1]),
        product_ids=frozenset(line[2] for line in lines if line[2]),
        line_count=sum(line[3] for line in lines),
        delivery_option_name=order.delivery_option_name or "",
        ship_by=order.ship_by,
        has_buyer_message=bool((order.buyer_message or "").strip()),
        tags=frozenset(tag.casefold() for tag in order.tags or ()),
        store_name=order.store.name if Order.store.is_cached(order) else "",
        unknown_weight_skus=tuple(sorted(set(unknown_weight))),
        unknown_size_skus=tuple(sorted(set(unknown_size))),
    )


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


# ---------------------------------------------------------------------------------------------------- services
def _validated(name: str, conditions: dict, actions: dict) -> tuple[str, Conditions | None, Actions | None]:
    errors: dict[str, list[str]] = {}
    name = (name or "").strip()
    if not name:
        errors["name"] = ["Give the rule a name."]
    elif len(name) > 120:
        errors["name"] = ["Keep the name to 120 characters."]
    parsed_conditions = parsed_actions = None
    try:
        parsed_conditions = Conditions.from_json(conditions)
    except ValidationError as error:
        errors.update({f"conditions.{k}": v for k, v in error.message_dict.items()})
    try:
        parsed_actions = Actions.from_json(actions)
    except ValidationError as error:
        errors.update({f"actions.{k}": v for k, v in error.message_dict.items()})
    if parsed_conditions is not None and parsed_conditions.store_ids:
        found = {
            str(pk) for pk in Store.objects.filter(pk__in=parsed_conditions.store_ids).values_list("pk", flat=True)
        }
        if missing := [s for s in parsed_conditions.store_ids if s not in found]:
            errors["conditions.store_ids"] = [f"No store with id {', '.join(missing)} in your organization."]
    warehouse_id = parsed_actions.warehouse_id if parsed_actions is not None else None
    if warehouse_id and not Warehouse.objects.filter(pk=warehouse_id).exists():
        errors["actions.warehouse_id"] = ["No warehouse with this id in your organization."]
    if errors:
        raise ValidationError(errors)
    return name, parsed_conditions, parsed_actions


@transaction.atomic
def rule_save(
    *,
    actor: Actor,
    name: str,
    conditions: dict,
    actions: dict,
    enabled: bool = True,
    rule: LogisticsRule | None = None,
) -> LogisticsRule:
    """Create a rule (it goes last) or update one. Raises ValidationError keyed by field ("conditions.countries")."""
    name, parsed_conditions, parsed_actions = _validated(name, conditions, actions)
    assert parsed_conditions is not None
    assert parsed_actions is not None
    values = {
        "name": name,
        "enabled": enabled,
        "conditions": parsed_conditions.to_json(),
        "actions": parsed_actions.to_json(),
    }
    if rule is None:
        last = LogisticsRule.objects.aggregate(last=Max("priority"))["last"]
        rule = LogisticsRule.objects.create(priority=(last or 0) + 10, **values)
        audit_record(
            organization=current_organization(),
            actor=actor,
            action="logistics_rule.created",
            target=rule,
            changes=values,
        )
        return rule
    changes = {k: [getattr(rule, k), v] for k, v in values.items() if getattr(rule, k) != v}
    if changes:
        for key, value in values.items():
            setattr(rule, key, value)
        rule.updated_at = timezone.now()
        rule.save(update_fields=[*values, "updated_at"])
        audit_record(
            organization=current_organization(),
            actor=actor,
            action="logistics_rule.updated",
            target=rule,
            changes=changes,
        )
    return rule


@transaction.atomic
def rules_reorder(*, actor: Actor, ordered_ids: list) -> list[LogisticsRule]:
    """Put the rules in this order (priorities 10, 20, 30...). Rules not listed keep their order, after these."""
    wanted = [str(i) for i in ordered_ids]
    if len(set(wanted)) != len(wanted):
        raise ValidationError({"ordered_ids": "A rule is listed twice."})
    rules = list(LogisticsRule.objects.select_for_update().order_by("pk"))
    by_id = {str(r.pk): r for r in rules}
    if unknown := [i for i in wanted if i not in by_id]:
        raise ValidationError({"ordered_ids": f"No rule with id {', '.join(unknown)} in your organization."})
    rest = sorted((r for r in rules if str(r.pk) not in set(wanted)), key=lambda r: (r.priority, r.created_at, r.pk))
    ordered = [by_id[i] for i in wanted] + rest
    now = timezone.now()
    for position, rule in enumerate(ordered, start=1):
        rule.priority = position * 10
        rule.updated_at = now
    LogisticsRule.objects.bulk_update(ordered, ["priority", "updated_at"])
    audit_record(
        organization=current_organization(),
        actor=actor,
        action="logistics_rules.reordered",
        changes={"order": [str(r.pk) for r in ordered]},
    )
    return ordered


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
