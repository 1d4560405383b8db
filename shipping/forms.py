"""The shipping dashboard's forms: a logistics rule's structured form and the spend report's filter."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from erp.inputs import DayField
from erp.units import CANONICAL, Units
from integrations.models import Platform, Store
from inventory.models import Warehouse
from shipping import spend
from shipping.models import LogisticsRule

# ---------------------------------------------------------------------------------------------------- rules
YES_NO_ANY = [("", "Any"), ("yes", "Yes"), ("no", "No")]
STRATEGY_CHOICES = [
    ("cheapest", "Cheapest"),
    ("fastest", "Fastest"),
    ("cheapest_within_days", "Cheapest arriving within N days"),
    ("provider", "A named provider (carrier)"),
]
HANDOVER_CHOICES = [("", "Store default"), ("PICKUP", "Pickup by the carrier"), ("DROP_OFF", "Drop-off")]
AUTO_BUY_CHOICES = [("", "Store default"), ("yes", "Yes: buy the label at once"), ("no", "No: wait for a person")]

LIST_CONDITIONS = ("countries", "states", "postal_prefixes", "seller_skus_any", "tags_any", "delivery_option_names")
DECIMAL_CONDITIONS = ("total_min", "total_max", "weight_min_grams", "weight_max_grams", "max_side_cm")
INTEGER_CONDITIONS = ("line_count_min", "line_count_max", "ship_within_hours")
FORM_CONDITIONS = (
    "store_ids",
    "channels",
    *LIST_CONDITIONS,
    *DECIMAL_CONDITIONS,
    *INTEGER_CONDITIONS,
    "has_buyer_message",
)
DECIMAL_ACTIONS = ("package_length_cm", "package_width_cm", "package_height_cm", "package_weight_grams")
TEXT_ACTIONS = ("warehouse_id", "provider_name", "handover_method", "pickup_slot", "tag")
FORM_ACTIONS = (
    *DECIMAL_ACTIONS,
    *TEXT_ACTIONS,
    "service_strategy",
    "within_days",
    "auto_buy",
    "hold_for_review",
    "combine_when_possible",
)
# Stored in grams and centimetres (the JSON keys say so); typed and shown in the organization's units.
WEIGHT_FIELDS = ("weight_min_grams", "weight_max_grams", "package_weight_grams")
LENGTH_FIELDS = ("max_side_cm", "package_length_cm", "package_width_cm", "package_height_cm")


def _text(label: str, help_text: str = "") -> forms.CharField:
    return forms.CharField(label=label, required=False, help_text=help_text)


def _number(label: str) -> forms.DecimalField:
    return forms.DecimalField(label=label, required=False, widget=forms.NumberInput(attrs={"step": "any"}))


def _whole(label: str) -> forms.IntegerField:
    return forms.IntegerField(label=label, required=False)


def _split(value: str) -> list[str]:
    return [item.strip() for item in value.replace("\n", ",").split(",") if item.strip()]


def _yes_no(value: str) -> bool | None:
    return {"yes": True, "no": False}.get(value)


class RuleForm(forms.Form):
    """Field names are the JSON keys, so rule_save's "conditions.countries" lands on the countries field."""

    name = forms.CharField(label="Name", required=False, max_length=200)
    enabled = forms.BooleanField(label="Enabled", required=False, initial=True)
    # Conditions
    store_ids = forms.MultipleChoiceField(
        label="Stores", required=False, help_text="None selected: every store.", widget=forms.SelectMultiple
    )
    channels = forms.MultipleChoiceField(
        label="Sales channels",
        required=False,
        choices=Platform.choices,
        help_text="None selected: every channel.",
        widget=forms.SelectMultiple,
    )
    countries = _text("Countries", "Two-letter codes, comma-separated: US, CA.")
    states = _text("States", "As the platform writes them, comma-separated: TX, OK, California.")
    postal_prefixes = _text("Postal code prefixes", "Comma-separated: 750, 9.")
    total_min = _number("Order total at least")
    total_max = _number("Order total at most")
    weight_min_grams = _number("Weight at least")
    weight_max_grams = _number("Weight at most")
    max_side_cm = _number("Longest side at most")
    seller_skus_any = _text("Contains any of these seller SKUs", "Comma-separated.")
    tags_any = _text("Tagged with any of", "Comma-separated tags (a rule's “Tag the order”, or a person's).")
    line_count_min = _whole("Items at least")
    line_count_max = _whole("Items at most")
    delivery_option_names = _text("Delivery options", "Comma-separated: Standard shipping, Express.")
    ship_within_hours = _whole("Must ship within (hours)")
    has_buyer_message = forms.ChoiceField(label="Buyer left a message", required=False, choices=YES_NO_ANY)
    # Actions
    warehouse_id = forms.ChoiceField(label="Ship from warehouse", required=False)
    package_length_cm = _number("Package length")
    package_width_cm = _number("Package width")
    package_height_cm = _number("Package height")
    package_weight_grams = _number("Package weight")
    service_strategy = forms.ChoiceField(
        label="Shipping service", required=False, choices=STRATEGY_CHOICES, initial="cheapest"
    )
    within_days = _whole("Arriving within (days)")
    provider_name = _text("Provider name", "The carrier's name as TikTok quotes it.")
    handover_method = forms.ChoiceField(label="Handover", required=False, choices=HANDOVER_CHOICES)
    pickup_slot = _text("Pickup slot", "With pickup: morning, 14:00-17:00...")
    auto_buy = forms.ChoiceField(label="Buy the label automatically", required=False, choices=AUTO_BUY_CHOICES)
    hold_for_review = forms.BooleanField(label="Hold for review", required=False)
    combine_when_possible = forms.BooleanField(
        label="Combine when possible",
        required=False,
        help_text="Ship it with the buyer's other orders in one parcel (one label) when the platform allows it.",
    )
    tag = _text("Tag the order")

    def __init__(self, *args: Any, units: Units = CANONICAL, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.units = units
        for key in WEIGHT_FIELDS:
            self.fields[key].label = f"{self.fields[key].label} ({units.weight})"
        for key in LENGTH_FIELDS:
            self.fields[key].label = f"{self.fields[key].label} ({units.length})"
        self.fields["store_ids"].choices = [(str(s.pk), s.name) for s in Store.objects.order_by("name")]
        self.fields["warehouse_id"].choices = [("", "Keep the usual warehouse")] + [
            (str(w.pk), w.name) for w in Warehouse.objects.order_by("name")
        ]

    @classmethod
    def initial_from(cls, rule: LogisticsRule, units: Units = CANONICAL) -> dict[str, Any]:
        conditions, actions = rule.conditions or {}, rule.actions or {}
        initial: dict[str, Any] = {"name": rule.name, "enabled": rule.enabled}
        for key in FORM_CONDITIONS:
            value = conditions.get(key)
            if value is None:
                continue
            if key in LIST_CONDITIONS:
                value = ", ".join(value)
            elif key == "has_buyer_message":
                value = "yes" if value else "no"
            initial[key] = _shown(key, value, units)
        for key in FORM_ACTIONS:
            value = actions.get(key)
            if value is None:
                continue
            if key == "auto_buy":
                value = "yes" if value else "no"
            initial[key] = _shown(key, value, units)
        return initial

    def conditions(self) -> dict[str, Any]:
        data = self.cleaned_data
        result: dict[str, Any] = {}
        if data.get("store_ids"):
            result["store_ids"] = list(data["store_ids"])
        if data.get("channels"):
            result["channels"] = list(data["channels"])
        for key in LIST_CONDITIONS:
            if items := _split(data.get(key) or ""):
                result[key] = items
        for key in DECIMAL_CONDITIONS:
            if data.get(key) is not None:
                result[key] = str(self._stored(key, data[key]))
        for key in INTEGER_CONDITIONS:
            if data.get(key) is not None:
                result[key] = data[key]
        if (message := _yes_no(data.get("has_buyer_message") or "")) is not None:
            result["has_buyer_message"] = message
        return result

    def actions(self) -> dict[str, Any]:
        data = self.cleaned_data
        result: dict[str, Any] = {"service_strategy": data.get("service_strategy") or "cheapest"}
        for key in DECIMAL_ACTIONS:
            if data.get(key) is not None:
                result[key] = str(self._stored(key, data[key]))
        for key in TEXT_ACTIONS:
            if (value := (data.get(key) or "").strip()) != "":
                result[key] = value
        if data.get("within_days") is not None:
            result["within_days"] = data["within_days"]
        if (auto_buy := _yes_no(data.get("auto_buy") or "")) is not None:
            result["auto_buy"] = auto_buy
        if data.get("hold_for_review"):
            result["hold_for_review"] = True
        if data.get("combine_when_possible"):
            result["combine_when_possible"] = True
        return result

    def _stored(self, key: str, value: Decimal) -> Decimal:
        """A number as typed (the organization's units) → as stored (grams, centimetres)."""
        if key in WEIGHT_FIELDS:
            return self.units.to_grams(value)
        if key in LENGTH_FIELDS:
            return self.units.to_cm(value)
        return value

    def add_service_errors(self, error: ValidationError) -> None:
        """rule_save's errors, each next to its field: "conditions.countries" → countries, "name" → name."""
        for key, errors in error.message_dict.items():
            field = key.split(".", 1)[-1]
            if field in self.fields:
                self.add_error(field, errors)
            else:
                self.add_error(None, [f"{key}: {message}" for message in errors])


def _shown(key: str, value: Any, units: Units) -> Any:
    """A stored number (grams, centimetres) → as the organization types it."""
    if key in WEIGHT_FIELDS:
        return units.from_grams(Decimal(str(value)))
    if key in LENGTH_FIELDS:
        return units.from_cm(Decimal(str(value)))
    return value


def kept_outside_form(saved: dict[str, Any] | None, form_keys: tuple[str, ...]) -> dict[str, Any]:
    """What a rule holds that the form does not show (set through the API): kept as it is on save."""
    return {k: v for k, v in (saved or {}).items() if k not in form_keys}


# ---------------------------------------------------------------------------------------------------- spend
class SpendFilterForm(forms.Form):
    start = DayField(required=False, label="From")
    end = DayField(required=False, label="To")
    store = forms.UUIDField(required=False)
    group = forms.ChoiceField(required=False, choices=[(g.value, spend.GROUP_LABELS[g]) for g in spend.SpendGroup])

    def period(self) -> spend.SpendPeriod:
        data = self.cleaned_data if self.is_valid() else {}
        return spend.spend_period(first_day=data.get("start"), last_day=data.get("end"))

    def chosen_group(self) -> spend.SpendGroup:
        data = self.cleaned_data if self.is_valid() else {}
        return spend.SpendGroup(data.get("group") or spend.SpendGroup.STORE)
