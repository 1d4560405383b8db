"""Order forms: a seller-shipping order's carrier and tracking, and the CSV of many."""

from __future__ import annotations

from typing import Any

from django import forms

from integrations.interface import ShippingProvider
from inventory.forms import CsvUploadForm


class SellerShipmentForm(forms.Form):
    carrier = forms.ChoiceField(label="Carrier", help_text="The carriers TikTok accepts for this order.")
    tracking_number = forms.CharField(label="Tracking number", max_length=64)

    def __init__(self, *args: Any, carriers: list[ShippingProvider], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["carrier"].choices = [("", "Choose…"), *((c.provider_id, c.name) for c in carriers)]


class SellerShipmentCsvForm(CsvUploadForm):
    """order_id, carrier, tracking_number: checked, then applied (orders.seller_shipping_csv)."""
