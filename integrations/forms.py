from typing import Any

from django import forms

from integrations.models import Platform, Store, TikTokShopSettings
from integrations.services import STORE_POLICY_FIELDS, TIKTOK_POLICY_FIELDS

TIKTOK_POLICY_LABELS = {
    "joined_platform_on": "Opened on TikTok Shop",
    "logistics_transition_from": "Seller shipping phased out from",
    "official_logistics_from": "Official TikTok logistics required from",
}


class StorePolicyForm(forms.ModelForm):
    """Every store's policy; a TikTok store's form adds its logistics-policy dates (kept in its TikTokShopSettings,
    saved by `store_policy_update` like the rest)."""

    class Meta:
        model = Store
        fields = list(STORE_POLICY_FIELDS)
        labels = {
            "auto_buy_labels": "Buy labels automatically",
            "stock_push_enabled": "Push available stock to this store",
            "stock_push_buffer": "Stock buffer (units held back)",
            "stock_push_percentage": "Advertise % of available",
            "stock_push_max_quantity": "Advertise at most",
            "stock_push_zero_below": "Advertise 0 below",
            "backfill_days": "Import orders from the last N days when connecting",
            "handling_days": "Handling time (days to ship an order whose channel sets no ship-by)",
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.platform != Platform.TIKTOK:
            return
        tiktok = TikTokShopSettings.of(self.instance)
        for name in TIKTOK_POLICY_FIELDS:
            self.fields[name] = TikTokShopSettings._meta.get_field(name).formfield(
                label=TIKTOK_POLICY_LABELS[name], widget=forms.DateInput(attrs={"type": "date"})
            )
            self.initial[name] = getattr(tiktok, name) if tiktok is not None else None

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        start, required = data.get("logistics_transition_from"), data.get("official_logistics_from")
        if start and required and start > required:
            self.add_error(
                "logistics_transition_from", "Start the phase-out on or before the day official logistics are required."
            )
        return data
