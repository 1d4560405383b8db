from typing import Any

from django import forms

from integrations.models import Store
from integrations.services import STORE_POLICY_FIELDS


class StorePolicyForm(forms.ModelForm):
    class Meta:
        model = Store
        fields = list(STORE_POLICY_FIELDS)
        widgets = {
            "joined_platform_on": forms.DateInput(attrs={"type": "date"}),
            "logistics_transition_from": forms.DateInput(attrs={"type": "date"}),
            "official_logistics_from": forms.DateInput(attrs={"type": "date"}),
        }
        labels = {
            "auto_buy_labels": "Buy labels automatically",
            "stock_push_enabled": "Push available stock to this store",
            "stock_push_buffer": "Stock buffer (units held back)",
            "stock_push_percentage": "Advertise % of available",
            "stock_push_max_quantity": "Advertise at most",
            "stock_push_zero_below": "Advertise 0 below",
            "backfill_days": "Import orders from the last N days when connecting",
            "joined_platform_on": "Opened on TikTok Shop",
            "logistics_transition_from": "Seller shipping phased out from",
            "official_logistics_from": "Official TikTok logistics required from",
        }

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        start, required = data.get("logistics_transition_from"), data.get("official_logistics_from")
        if start and required and start > required:
            self.add_error(
                "logistics_transition_from", "Start the phase-out on or before the day official logistics are required."
            )
        return data
