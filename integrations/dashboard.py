from django.http import HttpRequest
from django.urls import reverse

from erp.dashboard import SetupStep
from integrations.models import Platform, Store


def setup_steps(request: HttpRequest) -> list[SetupStep]:
    connected = Store.objects.exclude(platform=Platform.MANUAL).exists()
    return [
        SetupStep(
            "Connect your TikTok Shop",
            "Dropline imports every order and keeps the ship-by deadlines in view.",
            reverse("stores_home"),
            "Connect",
            connected,
            order=10,
        )
    ]
