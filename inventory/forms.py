"""Dashboard forms of inventory. They validate what a person typed; quantities change only through the services,
whose own messages (not enough units, a reason is missing...) are put back on these forms by the views."""

from __future__ import annotations

import zoneinfo
from collections.abc import Mapping, Sequence
from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from erp.inputs import DayField, validate_units
from erp.tenancy import organization_in_scope
from erp.units import units_of
from integrations import registry
from integrations.base import Capability
from integrations.interface import Warehouse as PlatformWarehouse
from integrations.models import Store
from integrations.services import platform_address_line
from inventory import selectors
from inventory.csv_io import COLUMNS
from inventory.models import (
    SKU_EDITABLE_FIELDS,
    WAREHOUSE_EDITABLE_FIELDS,
    WAREHOUSE_KIND_ALIASES,
    MovementKind,
    Sku,
    SkuSupplier,
    Warehouse,
    WarehouseKind,
    WarehouseLink,
    warehouse_kind_read,
)

TIME_ZONES = sorted(zoneinfo.available_timezones() - {"localtime"})


def add_service_error(form: forms.Form, error: ValidationError) -> None:
    """Put a service's ValidationError on the form: each message on the field it names when the form has that
    field, otherwise at the top of the form."""
    if hasattr(error, "error_dict"):
        for name, messages in error.message_dict.items():
            for message in messages:
                form.add_error(name if name in form.fields else None, message)
    else:
        for message in error.messages:
            form.add_error(None, message)


# ------------------------------------------------------------------------------------------------------- SKUs
class SkuForm(forms.ModelForm):
    """A SKU's attributes, and which dropship suppliers supply it (a tick and the supplier's price per supplier)."""

    class Meta:
        model = Sku
        fields = list(SKU_EDITABLE_FIELDS)
        labels = {"code": "SKU code", "is_active": "Active (shown in lists and imports)", "cost": "Unit cost"}
        help_texts = {"low_stock_threshold": "LOW when available falls to this; 0 = off."}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        given = kwargs.get("initial") or {}
        super().__init__(*args, **kwargs)
        if self.instance._state.adding:  # a new SKU starts in the organization's units, not the model's defaults
            units = units_of(organization_in_scope())
            self.initial["weight_unit"] = given.get("weight_unit", units.sku_weight)
            self.initial["dimension_unit"] = given.get("dimension_unit", units.sku_length)
        linked = (
            {link.warehouse_id: link for link in SkuSupplier.objects.filter(sku=self.instance)}
            if self.instance.pk
            else {}
        )
        self.suppliers = list(Warehouse.objects.filter(kind=WarehouseKind.SUPPLIER, is_active=True))
        for warehouse in self.suppliers:
            link = linked.get(warehouse.pk)
            self.fields[f"supplies_{warehouse.pk}"] = forms.BooleanField(
                required=False, initial=link is not None, label=warehouse.name
            )
            self.fields[f"supplier_cost_{warehouse.pk}"] = forms.DecimalField(
                required=False,
                min_value=0,
                max_digits=12,
                decimal_places=2,
                initial=link.cost if link else None,
                label=f"{warehouse.name}'s price",
            )

    def supplier_rows(self) -> list[tuple[forms.BoundField, forms.BoundField, Warehouse]]:
        return [(self[f"supplies_{w.pk}"], self[f"supplier_cost_{w.pk}"], w) for w in self.suppliers]

    def model_fields(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in SKU_EDITABLE_FIELDS if name in self.cleaned_data}

    def supplier_links(self) -> dict[Warehouse, Any]:
        """Supplier → its price (or None), for every supplier ticked."""
        return {
            w: self.cleaned_data.get(f"supplier_cost_{w.pk}")
            for w in self.suppliers
            if self.cleaned_data.get(f"supplies_{w.pk}")
        }

    def clean_code(self) -> str:
        code = self.cleaned_data["code"].strip()
        others = Sku.objects.filter(code=code)
        if self.instance.pk:
            others = others.exclude(pk=self.instance.pk)
        if others.exists():
            raise ValidationError(f"Another SKU already has the code {code}.")
        return code


class SkuSearchForm(forms.Form):
    q = forms.CharField(required=False, label="Search")
    low = forms.BooleanField(required=False, label="Low stock only")
    inactive = forms.BooleanField(required=False, label="Include inactive")


# ---------------------------------------------------------------------------------------------- stock changes
def stock_warehouses() -> Any:
    """Where a person receives, adjusts and counts: active warehouses that track stock, except a platform's own
    (TikTok's FBT), which are read from the platform."""
    return Warehouse.objects.filter(is_active=True, tracks_stock=True).exclude(kind=WarehouseKind.PLATFORM)


class _StockForm(forms.Form):
    # No default warehouse unless there is only one: a count recorded at the wrong warehouse is worse than a click.
    warehouse = forms.ModelChoiceField(queryset=Warehouse.objects.none(), empty_label="Choose a warehouse…")

    def __init__(self, *args: Any, warehouses: list[Warehouse] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["warehouse"]
        field.queryset = stock_warehouses()
        if warehouses is not None and len(warehouses) == 1:
            field.empty_label = None


class ReceiveForm(_StockForm):
    prefix = "receive"
    quantity = forms.IntegerField(
        label="Units received", validators=[validate_units], widget=forms.NumberInput(attrs={"min": 1})
    )
    reference = forms.CharField(
        required=False, max_length=100, label="Reference", help_text="Purchase order, ASN or delivery note number."
    )
    reason = forms.CharField(required=False, max_length=300, label="Note")


class AdjustForm(_StockForm):
    prefix = "adjust"
    delta = forms.IntegerField(
        label="Change (+ to add, - to remove)",
        validators=[validate_units],
        help_text="e.g. -2 for two damaged units, 3 for three found.",
    )
    # Required by the service (its message is shown); the browser asks for it first.
    reason = forms.CharField(
        required=False, max_length=300, label="Reason", widget=forms.TextInput(attrs={"required": True})
    )


class CountForm(_StockForm):
    prefix = "count"
    counted = forms.IntegerField(
        label="Units counted on the shelf",
        validators=[validate_units],
        help_text="On hand becomes this number; the difference is written to the ledger.",
        widget=forms.NumberInput(attrs={"min": 0}),
    )
    reference = forms.CharField(required=False, max_length=100, label="Count sheet / reference")


# ------------------------------------------------------------------------------------------------- the ledger
class LedgerFilterForm(forms.Form):
    sku = forms.CharField(required=False, label="SKU code")
    warehouse = forms.ModelChoiceField(queryset=Warehouse.objects.none(), required=False, empty_label="All warehouses")
    kind = forms.ChoiceField(required=False, choices=[("", "Any change"), *MovementKind.choices], label="Kind")
    since = DayField(required=False, label="From", widget=forms.DateInput(attrs={"type": "date"}))
    until = DayField(required=False, label="To", widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["warehouse"].queryset = Warehouse.objects.all()


class StockFilterForm(forms.Form):
    q = forms.CharField(required=False, label="SKU")
    warehouse = forms.ModelChoiceField(queryset=Warehouse.objects.none(), required=False, empty_label="All warehouses")
    in_stock = forms.BooleanField(required=False, label="Only with units on hand")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["warehouse"].queryset = Warehouse.objects.all()


# --------------------------------------------------------------------------------------------------- listings
class ListingFilterForm(forms.Form):
    q = forms.CharField(required=False, label="Search")
    store = forms.ModelChoiceField(queryset=Store.objects.none(), required=False, empty_label="All stores")
    mapped = forms.ChoiceField(required=False, choices=[("", "All"), ("no", "Unmapped"), ("yes", "Mapped")])

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["store"].queryset = Store.objects.all()


class ListingMapForm(forms.Form):
    sku = forms.CharField(max_length=100, label="Our SKU")

    def clean_sku(self) -> Sku:
        value = self.cleaned_data["sku"].strip()
        sku = selectors.sku_by_code_or_id(value)
        if sku is None:
            raise ValidationError(f"No SKU with the code {value}. Create it first, or pick one from the list.")
        return sku


# ------------------------------------------------------------------------------------------------- warehouses
WEEKDAYS = [("1", "Mon"), ("2", "Tue"), ("3", "Wed"), ("4", "Thu"), ("5", "Fri"), ("6", "Sat"), ("7", "Sun")]


class WarehouseKindField(forms.ChoiceField):
    """A warehouse's kind, a platform's own warehouse being one choice per platform. The aliases of
    WAREHOUSE_KIND_ALIASES ("fbt") are taken, never offered."""

    def valid_value(self, value: Any) -> bool:
        return value in WAREHOUSE_KIND_ALIASES or super().valid_value(value)


class WarehouseForm(forms.ModelForm):
    kind = WarehouseKindField(label="Kind")
    time_zone = forms.ChoiceField(
        choices=[("", "From the address"), *((tz, tz) for tz in TIME_ZONES)],
        required=False,
        label="Time zone",
        help_text="Cut-off, working hours and pickup slots are in this zone. “From the address”: the zone of the "
        "US state or territory, the Canadian province or the country (where it has one zone), else the "
        "organization's zone. Changing the address moves a zone that was its old address's default.",
    )
    working_days = forms.MultipleChoiceField(
        choices=WEEKDAYS,
        widget=forms.CheckboxSelectMultiple(attrs={"class": "inline-choices"}),
        label="Ships on",
        initial=["1", "2", "3", "4", "5"],
        help_text="Deadlines count only these days.",
    )

    class Meta:
        model = Warehouse
        fields = list(WAREHOUSE_EDITABLE_FIELDS)
        labels = {
            "tracks_stock": "Tracks stock",
            "is_active": "Active",
            "cutoff_time": "Cut-off time",
            "daily_capacity": "Packages per day",
            "collections_by_tiktok": "Collections by TikTok (TikTok picks up here)",
            "address_line1": "Address",
            "address_line2": "Address (line 2)",
            "country_code": "Country (2-letter code)",
        }
        widgets = {
            "cutoff_time": forms.TimeInput(
                attrs={"type": "time", "style": "width:100%;min-height:40px;font:inherit;padding:6px 10px"},
                format="%H:%M",
            )
        }

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        others = Warehouse.objects.filter(name=name)
        if self.instance.pk:
            others = others.exclude(pk=self.instance.pk)
        if others.exists():
            raise ValidationError(f"Another warehouse is already named {name}.")
        return name

    def clean_country_code(self) -> str:
        return self.cleaned_data["country_code"].strip().upper()

    def clean_working_days(self) -> str:
        return "".join(sorted(set(self.cleaned_data["working_days"])))

    def clean(self) -> dict[str, Any]:
        """`kind` names a platform too ("platform:tiktok", or "fbt" as before): split into kind and platform."""
        data = super().clean()
        if data.get("kind"):
            data["kind"], data["platform"] = warehouse_kind_read(data["kind"])
        return data

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk and not self.is_bound:
            self.initial["working_days"] = list(self.instance.working_days)
        # A platform's own warehouse is one choice per platform that fulfils, in its words ("Fulfilled by TikTok
        # (FBT)"); "fbt", the value TikTok's had, is still taken.
        platforms = registry.platforms_with(Capability.PLATFORM_FULFILMENT)
        if self.instance.is_platform_fulfilment and self.instance.platform not in platforms:
            platforms.append(self.instance.platform)
        self.fields["kind"].choices = [
            *((k.value, k.label) for k in WarehouseKind if k != WarehouseKind.PLATFORM),
            *((f"{WarehouseKind.PLATFORM}:{p}", str(registry.fulfilment_program(p))) for p in platforms),
        ]
        if self.instance.is_platform_fulfilment and not self.is_bound:
            self.initial["kind"] = f"{WarehouseKind.PLATFORM}:{self.instance.platform}"


class WarehouseLinkForm(forms.Form):
    """Which of a store's TikTok warehouses this warehouse is, chosen from the shop's own list with its address
    (TikTok prints that address as the sender on the labels of the orders it assigns there)."""

    tiktok_warehouse = forms.ChoiceField(label="TikTok warehouse")

    def __init__(
        self, *args: Any, platform_warehouses: Mapping[Store, Sequence[PlatformWarehouse]], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        linked = set(WarehouseLink.objects.values_list("store_id", "platform_warehouse_id"))
        self.options = {
            f"{store.pk}|{w.warehouse_id}": (store, w)
            for store, warehouses in platform_warehouses.items()
            for w in warehouses
            if (store.pk, w.warehouse_id) not in linked
        }
        self.fields["tiktok_warehouse"].choices = [
            (
                store.name,
                [
                    (
                        f"{store.pk}|{w.warehouse_id}",
                        f"{w.name} — {platform_address_line(w.address) or 'no address'}"
                        + (" (the shop's default)" if w.is_default else ""),
                    )
                    for w in warehouses
                    if f"{store.pk}|{w.warehouse_id}" in self.options
                ],
            )
            for store, warehouses in platform_warehouses.items()
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        choice = self.options.get(data.get("tiktok_warehouse") or "")
        if choice is None:
            raise ValidationError("Choose one of the stores' TikTok warehouses that is not linked yet.")
        store, warehouse = choice
        data.update(
            store=store,
            platform_warehouse_id=warehouse.warehouse_id,
            platform_name=warehouse.name,
            platform_address=platform_address_line(warehouse.address),
        )
        return data


# ---------------------------------------------------------------------------------------------- import/export
class CsvUploadForm(forms.Form):
    """A CSV file checked first (a dry run) and then applied: the checked text rides along in a hidden field, so
    "Apply" applies exactly what was checked. Every CSV import of the dashboard uses it."""

    MAX_BYTES = 5 * 1024 * 1024

    file = forms.FileField(required=False, label="CSV file")
    text = forms.CharField(required=False, widget=forms.HiddenInput)  # the checked file, carried to "Apply"
    filename = forms.CharField(required=False, max_length=255, widget=forms.HiddenInput)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        upload = data.get("file")
        if upload:
            if upload.size > self.MAX_BYTES:
                raise ValidationError("The file is larger than 5 MB: split it into smaller files.")
            data["filename"] = upload.name
            raw = upload.read()
            try:
                data["text"] = raw.decode("utf-8-sig")
            except UnicodeDecodeError:
                raise ValidationError(
                    "The file is not UTF-8 text. In Excel, save it as “CSV UTF-8 (Comma delimited)”."
                ) from None
        if not data.get("text"):
            raise ValidationError("Choose a CSV file.")
        return data


class CsvImportForm(CsvUploadForm):
    KINDS = [("skus", "SKUs"), ("listings", "Listing mappings"), ("stock", "Stock counts")]

    kind = forms.ChoiceField(choices=KINDS, label="What the file contains")
    field_order = ["kind", "file", "text", "filename"]

    @staticmethod
    def columns(kind: str) -> tuple[str, ...]:
        return COLUMNS[kind]
