# Existing keys keep what they could do (docs/adr/0021-partner-api-semantics.md): "read" → every family's read but
# the audit log's (no key could read it); "write" → that, plus write on the families whose permissions the write
# key held. The lists are frozen here, as they were on the day of the change.

from django.db import migrations

FAMILIES = [
    "organization", "stores", "orders", "catalog", "inventory", "rules", "labels", "handoffs", "aftersales",
    "reports", "webhooks",
]  # every family but "audit"
WRITABLE = {"orders", "catalog", "inventory", "labels", "handoffs", "aftersales"}

SCOPES = {
    "read": [f"{family}:read" for family in FAMILIES],
    "write": [f"{family}:{'write' if family in WRITABLE else 'read'}" for family in FAMILIES],
}


def forwards(apps, schema_editor):
    APIKey = apps.get_model("erp", "APIKey")
    for scope, scopes in SCOPES.items():
        APIKey._base_manager.filter(scope=scope).update(scopes=scopes)


def backwards(apps, schema_editor):
    APIKey = apps.get_model("erp", "APIKey")
    for api_key in APIKey._base_manager.all():
        writes = any(name.endswith(":write") for name in api_key.scopes)
        api_key.scope = "write" if writes else "read"
        api_key.save(update_fields=["scope"])


class Migration(migrations.Migration):

    dependencies = [('erp', '0007_api_key_scopes_and_warehouse')]

    operations = [migrations.RunPython(forwards, backwards)]
