"""Order forms: a seller-shipping order's carrier and tracking, and the CSV of many."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from integrations.interface import ShippingProvider


class SellerShipmentForm(forms.Form):
    carrier = forms.ChoiceField(label="Carrier", help_text="The carriers TikTok accepts for this order.")
    tracking_number = forms.CharField(label="Tracking number", max_length=64)

    def __init__(self, *args: Any, carriers: list[ShippingProvider], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["carrier"].choices = [("", "Choose…"), *((c.provider_id, c.name) for c in carriers)]


class SellerShipmentCsvForm(forms.Form):
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
            try:
                data["text"] = upload.read().decode("utf-8-sig")
            except UnicodeDecodeError:
                raise ValidationError(
                    "The file is not UTF-8 text. In Excel, save it as “CSV UTF-8 (Comma delimited)”."
                ) from None
        if not data.get("text"):
            raise ValidationError("Choose a CSV file.")
        return data
