"""On PostgreSQL, reject every UPDATE of an audit entry at the database, whatever code (or person) tries it.

Deletes stay possible only because an organization's rows go with it (ON DELETE CASCADE); the ORM refuses them.
"""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION erp_auditentry_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'the audit log is append-only (UPDATE of erp_auditentry refused)';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER erp_auditentry_no_update BEFORE UPDATE ON erp_auditentry
    FOR EACH ROW EXECUTE FUNCTION erp_auditentry_append_only();
"""
DROP = """
DROP TRIGGER IF EXISTS erp_auditentry_no_update ON erp_auditentry;
DROP FUNCTION IF EXISTS erp_auditentry_append_only();
"""


def create_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def drop_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("erp", "0001_initial")]
    operations = [migrations.RunPython(create_trigger, drop_trigger)]
