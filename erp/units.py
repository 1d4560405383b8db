"""The units people type and read: one unit system per organization (Settings → Organization). US sellers default
to imperial (lb/oz and inches), everyone else may choose metric (g/kg and centimetres).

What is stored keeps one canonical unit whatever the setting (grams and centimetres in logistics rules, so changing
the setting never changes what a rule means); only what a form takes in and what a page shows are converted here."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db import models


class UnitSystem(models.TextChoices):
    IMPERIAL = "imperial", "US customary: lb, oz and inches"
    METRIC = "metric", "Metric: kg, g and centimetres"


GRAMS_PER_OUNCE = Decimal("28.349523125")
CM_PER_INCH = Decimal("2.54")
_SHOWN = Decimal("0.01")


def _exact(value: Decimal) -> Decimal:
    """Without trailing zeros or an exponent: `500`, not `5E+2` or `500.000`."""
    return Decimal(f"{value.normalize():f}") if value else Decimal(0)


def _plain(value: Decimal) -> str:
    """`16`, `2.5`, `0.35`: at most two decimals, no trailing zeros."""
    return f"{_exact(value.quantize(_SHOWN))}"


@dataclass(frozen=True)
class Units:
    """How one unit system reads weights and lengths. `weight` / `length` are the units a person types into a rule
    and reads back; `sku_weight` / `sku_length` are what a new SKU's units default to."""

    system: str
    weight: str
    length: str
    grams_per_weight: Decimal
    cm_per_length: Decimal
    sku_weight: str
    sku_length: str

    def to_grams(self, value: Decimal) -> Decimal:
        return _exact(Decimal(value) * self.grams_per_weight)

    def from_grams(self, grams: Decimal) -> Decimal:
        return _exact((Decimal(grams) / self.grams_per_weight).quantize(_SHOWN))

    def to_cm(self, value: Decimal) -> Decimal:
        return _exact(Decimal(value) * self.cm_per_length)

    def from_cm(self, cm: Decimal) -> Decimal:
        return _exact((Decimal(cm) / self.cm_per_length).quantize(_SHOWN))

    def weight_text(self, grams: Decimal) -> str:
        """`16 oz` | `453.59 g` for a stored weight in grams."""
        return f"{_plain(Decimal(grams) / self.grams_per_weight)} {self.weight}"

    def length_text(self, cm: Decimal) -> str:
        """`12 in` | `30.48 cm` for a stored length in centimetres."""
        return f"{_plain(Decimal(cm) / self.cm_per_length)} {self.length}"


UNITS = {
    UnitSystem.IMPERIAL: Units(UnitSystem.IMPERIAL, "oz", "in", GRAMS_PER_OUNCE, CM_PER_INCH, "oz", "in"),
    UnitSystem.METRIC: Units(UnitSystem.METRIC, "g", "cm", Decimal(1), Decimal(1), "g", "cm"),
}
CANONICAL = UNITS[UnitSystem.METRIC]  # what rules store: grams and centimetres


def units_of(organization: object | None) -> Units:
    """The organization's units (the canonical ones when there is none: code that runs outside a tenant)."""
    system = getattr(organization, "unit_system", "")
    return UNITS[UnitSystem(system)] if system in UnitSystem.values else CANONICAL
