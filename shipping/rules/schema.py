"""The logistics rule's stored JSON: `Conditions` (when a rule applies) and `Actions` (what it does).

`Conditions.from_json` / `Actions.from_json` validate what a person or the API sends; their errors name the field and
say what to fix. `to_json` writes what `LogisticsRule` stores.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError

from erp.inputs import MAX_STOCK
from integrations.models import Platform

STRATEGIES = ("cheapest", "fastest", "cheapest_within_days", "provider")
HANDOVER_METHODS = ("PICKUP", "DROP_OFF")
MAX_AMOUNT = 10**9
HOURS_A_YEAR = 24 * 366  # a ship-by further out than this is no deadline a rule needs to tell apart


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
        if number >= MAX_AMOUNT:  # an order total, a weight in grams, a side in cm: none is this large
            self.error(field, f"Give a number below {MAX_AMOUNT:,}.")
            return None
        return number

    def integer(self, field: str, *, minimum: int = 0, maximum: int = MAX_STOCK) -> int | None:
        value = self.data.get(field)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            self.error(field, f"Give a whole number of {minimum} or more.")
            return None
        if value > maximum:
            self.error(field, f"Give a whole number of {maximum} or less.")
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
    channels: tuple[str, ...] | None = None  # sales channels (Platform values: "tiktok", "shopify", "manual")
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
            channels=r.strings("channels"),
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
            ship_within_hours=r.integer("ship_within_hours", minimum=1, maximum=HOURS_A_YEAR),
            has_buyer_message=r.boolean("has_buyer_message"),
        )
        for channel in conditions.channels or ():
            if channel not in Platform.values:
                r.error("channels", f"“{channel}” is not a sales channel ({', '.join(Platform.values)}).")
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
    # Ship the order with the buyer's other orders in one parcel when the platform allows it (shipping.combine).
    combine_when_possible: bool = False

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
            within_days=r.integer("within_days", minimum=1, maximum=366),
            provider_name=r.text("provider_name", max_length=100),
            handover_method=r.text("handover_method", max_length=16, choices=HANDOVER_METHODS),
            pickup_slot=r.text("pickup_slot", max_length=40),
            auto_buy=r.boolean("auto_buy"),
            hold_for_review=bool(r.boolean("hold_for_review")),
            tag=r.text("tag", max_length=40),
            combine_when_possible=bool(r.boolean("combine_when_possible")),
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
        if not self.combine_when_possible:
            data.pop("combine_when_possible")
        return data
