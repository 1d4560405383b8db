from django.http import HttpRequest
from django.urls import reverse

from erp.dashboard import SetupStep
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
