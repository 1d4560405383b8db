from typing import Any

from django.core.management.base import BaseCommand

from erp.roles import roles_markdown_table


class Command(BaseCommand):
    help = "Print the role → permission table (Markdown) that docs/roles.md must contain."

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(roles_markdown_table())
