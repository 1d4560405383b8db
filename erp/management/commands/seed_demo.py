from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from erp import services
from erp.demo import DEMO_EMAIL, DEMO_ORGANIZATIONS, DEMO_PASSWORD
from erp.models import User


class Command(BaseCommand):
    help = (
        "Create the demo user and two demo organizations, then queue their population (a connected sandbox shop, "
        "orders, stock, a bought batch) for the worker. Idempotent. Never run against production."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--no-populate", dest="populate", action="store_false", help="Only the user and its organizations."
        )

    def handle(self, *args: Any, populate: bool = True, **options: Any) -> None:
        user = User.objects.filter(email=DEMO_EMAIL).first()
        if user is None:
            user = services.user_sign_up(
                email=DEMO_EMAIL, password=DEMO_PASSWORD, full_name="Dana Demo", organization_name=DEMO_ORGANIZATIONS[0]
            )
            services.organization_create(name=DEMO_ORGANIZATIONS[1], owner=user)
        if populate:
            from erp.tasks import demo_seed

            # The sandbox's process may not be up yet: the worker does it, retrying until the sandbox answers.
            demo_seed.delay()
        self.stdout.write(self.style.SUCCESS(f"Demo login: {DEMO_EMAIL} / {DEMO_PASSWORD}"))
