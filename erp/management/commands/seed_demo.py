from typing import Any

from django.core.management.base import BaseCommand

from erp import services
from erp.models import User

DEMO_EMAIL = "demo@dropline.local"
DEMO_PASSWORD = "dropline-demo"  # noqa: S105  (a published demo login for the local quick start only)
DEMO_ORGANIZATIONS = ("Demo Outfitters", "Demo Print Shop")


class Command(BaseCommand):
    help = "Create the demo user and two demo organizations (idempotent). Never run against production."

    def handle(self, *args: Any, **options: Any) -> None:
        user = User.objects.filter(email=DEMO_EMAIL).first()
        if user is None:
            user = services.user_sign_up(
                email=DEMO_EMAIL, password=DEMO_PASSWORD, full_name="Dana Demo", organization_name=DEMO_ORGANIZATIONS[0]
            )
            services.organization_create(name=DEMO_ORGANIZATIONS[1], owner=user)
        self.stdout.write(self.style.SUCCESS(f"Demo login: {DEMO_EMAIL} / {DEMO_PASSWORD}"))
