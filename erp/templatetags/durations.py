"""`{{ moment|since }}` and `{{ moment|until }}`: how long ago or how long from now, in the words of erp.durations
(`5 min`, `2 h 3 min`, `under a minute`), instead of Django's timesince/timeuntil ("0 minutes")."""

from __future__ import annotations

from datetime import datetime

from django import template
from django.utils import timezone

from erp.durations import duration_text

register = template.Library()


@register.filter
def since(moment: datetime | None) -> str:
    return "" if moment is None else duration_text(timezone.now() - moment)


@register.filter
def until(moment: datetime | None) -> str:
    return "" if moment is None else duration_text(moment - timezone.now())
