from django.http import HttpRequest
from django.urls import reverse

from erp import dashboard
from erp.dashboard import Card, SetupStep
from shipping.models import LogisticsRule


def setup_steps(request: HttpRequest) -> list[SetupStep]:
    return [
        SetupStep(
            "Set logistics rules",
            "Pick the warehouse, package and the right TikTok Shipping service by itself.",
            reverse("shipping_rules"),
            "Rules",
            LogisticsRule.objects.exists(),
            order=30,
        )
    ]


@dashboard.register
def at_risk_cards(request: HttpRequest) -> list[Card]:
    """Orders that will miss their deadline unless someone acts: how many, and the worst few by name."""
    from shipping.at_risk import orders_at_risk

    if request.organization is None:
        return []
    at_risk = orders_at_risk(organization=request.organization)
    late = sum(1 for a in at_risk if a.late)
    worst = ", ".join(f"{a.external_id} ({a.short_text})" for a in at_risk[:2])
    return [
        Card(
            "At risk of shipping late",
            str(len(at_risk)),
            (f"{late} already late. " if late else "")
            + (f"Most urgent: {worst}" if worst else "Every open order can make its deadline"),
            reverse("shipping_at_risk"),
            tone="bad" if late else ("warn" if at_risk else "ok"),
            order=35,
        )
    ]


@dashboard.register
def compliance_cards(request: HttpRequest) -> list[Card]:
    """Am I compliant: the share of the last 30 days' shipped orders on official TikTok logistics, and violations."""
    from shipping.compliance import compliance_summary

    if request.organization is None:
        return []
    share, violations = compliance_summary()
    if share is None:
        hint, tone = "Nothing shipped in the last 30 days", ""
    elif violations:
        hint, tone = f"{violations} seller-shipped after the cut-off: policy violations", "bad"
    else:
        hint, tone = "Shipped in the last 30 days; no policy violations", "ok"
        if share < 100:
            hint, tone = "No violations yet: move the rest off seller shipping before the cut-off", "warn"
    return [
        Card(
            "On official TikTok logistics",
            f"{share}%" if share is not None else "—",
            hint,
            reverse("shipping_compliance"),
            tone=tone,
            order=40,
        )
    ]
