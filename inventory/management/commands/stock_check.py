from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from erp.models import Organization
from erp.tenancy import organization_scope
from inventory.selectors import ledger_mismatches


class Command(BaseCommand):
    help = "Prove that every stock level equals the sum of its ledger and its open reservations (exit 1 if not)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--organization", help="an organization id (default: all)")

    def handle(self, *args: Any, organization: str | None = None, **options: Any) -> None:
        organizations = Organization.objects.filter(pk=organization) if organization else Organization.objects.all()
        problems = 0
        for org in organizations:
            with organization_scope(org):
                for mismatch in ledger_mismatches():
                    problems += 1
                    self.stderr.write(f"{org.name}: {mismatch}")
        if problems:
            raise CommandError(f"{problems} stock level(s) disagree with the ledger")
        self.stdout.write(
            self.style.SUCCESS(f"Stock levels equal the ledger in {organizations.count()} organization(s).")
        )
