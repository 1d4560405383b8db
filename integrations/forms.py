from django import forms

from integrations.models import Store


class StorePolicyForm(forms.ModelForm):
    class Meta:
        model = Store
        fields = [
            "auto_buy_labels",
            "stock_push_enabled",
            "stock_push_buffer",
            "stock_push_percentage",
            "stock_push_max_quantity",
            "stock_push_zero_below",
            "backfill_days",
        ]
        labels = {
            "auto_buy_labels": "Buy labels automatically",
            "stock_push_enabled": "Push available stock to this store",
            "stock_push_buffer": "Stock buffer (units held back)",
            "stock_push_percentage": "Advertise % of available",
            "stock_push_max_quantity": "Advertise at most",
            "stock_push_zero_below": "Advertise 0 below",
            "backfill_days": "Import orders from the last N days when connecting",
        }
