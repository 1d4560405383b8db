from __future__ import annotations

from django import forms

from webhooks.events import ALL_EVENTS, EventType

EVENT_CHOICES = [(ALL_EVENTS, "Every event (*), including types added later"), *EventType.choices]


class EndpointForm(forms.Form):
    url = forms.CharField(
        label="Endpoint URL", max_length=2000, help_text="https:// on a public address; Dropline POSTs events here."
    )
    description = forms.CharField(max_length=200, required=False)
    events = forms.MultipleChoiceField(choices=EVENT_CHOICES, widget=forms.CheckboxSelectMultiple)
