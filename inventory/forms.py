"""Dashboard forms of inventory. They validate what a person typed; quantities change only through the services,
whose own messages (not enough units, a reason is missing...) are put back on these forms by the views."""

from __future__ import annotations

import zoneinfo
from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from erp.tenancy import organization_in_scope
from erp.units import units_of
from integrations.models import Store
from inventory import selectors
from inventory.csv_io import COLUMNS
from inventory.models import (
    SKU_EDITABLE_FIELDS,
    WAREHOUSE_EDITABLE_FIELDS,
    MovementKind,
    Sku,
    Warehouse,
    WarehouseKind,
    WarehouseLink,
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
    """Where a person receives, adjusts and counts: active warehouses that track stock, except TikTok's own (FBT),
    which are read from TikTok."""
    return Warehouse.objects.filter(is_active=True, tracks_stock=True).exclude(kind=WarehouseKind.FBT)


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
    quantity = forms.IntegerField(label="Units received", widget=forms.NumberInput(attrs={"min": 1}))
    reference = forms.CharField(
        required=False, max_length=100, label="Reference", help_text="Purchase order, ASN or delivery note number."
    )
    reason = forms.CharField(required=False, max_length=300, label="Note")


class AdjustForm(_StockForm):
    prefix = "adjust"
    delta = forms.IntegerField(
        label="Change (+ to add, - to remove)", help_text="e.g. -2 for two damaged units, 3 for three found."
    )
    # Required by the service (its message is shown); the browser asks for it first.
    reason = forms.CharField(
        required=False, max_length=300, label="Reason", widget=forms.TextInput(attrs={"required": True})
    )


class CountForm(_StockForm):
    prefix = "count"
    counted = forms.IntegerField(
        label="Units counted on the shelf",
        help_text="On hand becomes this number; the difference is written to the ledger.",
        widget=forms.NumberInput(attrs={"min": 0}),
    )
    reference = forms.CharField(required=False, max_length=100, label="Count sheet / reference")


# ------------------------------------------------------------------------------------------------- the ledger
class LedgerFilterForm(forms.Form):
    sku = forms.CharField(required=False, label="SKU code")
    warehouse = forms.ModelChoiceField(queryset=Warehouse.objects.none(), required=False, empty_label="All warehouses")
    kind = forms.ChoiceField(required=False, choices=[("", "Any change"), *MovementKind.choices], label="Kind")
    since = forms.DateField(required=False, label="From", widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(required=False, label="To", widget=forms.DateInput(attrs={"type": "date"}))

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


class WarehouseForm(forms.ModelForm):
    time_zone = forms.ChoiceField(choices=[(tz, tz) for tz in TIME_ZONES])
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

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk and not self.is_bound:
            self.initial["working_days"] = list(self.instance.working_days)


class WarehouseLinkForm(forms.ModelForm):
    store = forms.ModelChoiceField(queryset=Store.objects.none(), empty_label=None)

    class Meta:
        model = WarehouseLink
        fields = ["store", "platform_warehouse_id", "platform_name"]
        labels = {"platform_warehouse_id": "TikTok warehouse id", "platform_name": "Name on TikTok (optional)"}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["store"].queryset = Store.objects.all()

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        store, platform_id = data.get("store"), (data.get("platform_warehouse_id") or "").strip()
        if store and platform_id:
            taken = WarehouseLink.objects.filter(store=store, platform_warehouse_id=platform_id).select_related(
                "warehouse"
            )
            existing = taken.first()
            if existing is not None:
                raise ValidationError(
                    f"{store.name}'s warehouse {platform_id} is already linked to {existing.warehouse.name}."
                )
            data["platform_warehouse_id"] = platform_id
        return data


# ---------------------------------------------------------------------------------------------- import/export
class CsvImportForm(forms.Form):
    MAX_BYTES = 5 * 1024 * 1024
    KINDS = [("skus", "SKUs"), ("listings", "Listing mappings"), ("stock", "Stock counts")]

    kind = forms.ChoiceField(choices=KINDS, label="What the file contains")
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

    @staticmethod
    def columns(kind: str) -> tuple[str, ...]:
        return COLUMNS[kind]
