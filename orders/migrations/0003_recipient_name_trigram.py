"""Buyer-name search (`recipient_name__icontains`) on PostgreSQL: a trigram index on UPPER(recipient_name), the
expression Django's icontains compiles to. SQLite (the embedded default) keeps a plain scan."""

from django.db import migrations

CREATE = "CREATE INDEX IF NOT EXISTS order_recipient_trgm ON orders_order USING gin (UPPER(recipient_name) gin_trgm_ops)"
DROP = "DROP INDEX IF EXISTS order_recipient_trgm"


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        schema_editor.execute(CREATE)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("orders", "0002_list_indexes")]
    operations = [migrations.RunPython(forwards, backwards)]
