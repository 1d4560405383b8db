"""Every tenant table has an index that starts with its organization and holds every row, and no index of the
organization alone beside one that starts with it: that one is redundant for lookups, costs every write, and the
planner, while a table has no statistics yet, ANDs it (every row of the tenant) with the selective index
(docs/adr/0036). Read from PostgreSQL's catalog, so it is what the migrations built."""

from __future__ import annotations

import pytest
from django.db import connection

from tests.tenantdata import tenant_models

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


def test_every_tenant_table_indexes_its_organization_without_a_redundant_index() -> None:
    tables = [model._meta.db_table for model in tenant_models()]
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT t.relname, count(i.indexrelid), count(i.indexrelid) FILTER (WHERE i.indnkeyatts = 1)
            FROM pg_class t
            LEFT JOIN pg_index i ON i.indrelid = t.oid AND i.indpred IS NULL AND i.indkey[0] = (
                SELECT attnum FROM pg_attribute WHERE attrelid = t.oid AND attname = 'organization_id'
            )
            WHERE t.relname = ANY(%s) AND t.relkind = 'r'
            GROUP BY t.relname
            """,
            [tables],
        )
        leading = {table: (count, alone) for table, count, alone in cursor.fetchall()}
    assert set(leading) == set(tables)
    assert [table for table, (count, _) in leading.items() if count == 0] == []
    assert [table for table, (count, alone) in leading.items() if count > 1 and alone] == []
