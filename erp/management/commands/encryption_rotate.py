from typing import Any

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import transaction

from erp.crypto import EncryptedTextField


class Command(BaseCommand):
    help = "Re-encrypt every encrypted column with the first key of FIELD_ENCRYPTION_KEY (after adding a new key)."

    def handle(self, *args: Any, **options: Any) -> None:
        for model in apps.get_models():
            fields = [f.attname for f in model._meta.concrete_fields if isinstance(f, EncryptedTextField)]
            if not fields:
                continue
            manager = getattr(model, "unscoped", model._base_manager)  # every organization's rows, by design
            count = 0
            with transaction.atomic():
                # Reading decrypts with whichever key matches; update() encrypts again with the first key.
                for pk, *values in manager.select_for_update().values_list("pk", *fields).iterator():
                    manager.filter(pk=pk).update(**dict(zip(fields, values, strict=True)))
                    count += 1
            self.stdout.write(f"{model._meta.label}: {count} rows re-encrypted with the current key")
