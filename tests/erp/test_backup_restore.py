"""docs/backups.md, proved: the real `pg_dump` of a database holding a seeded organization, restored with
`pg_restore` into a fresh database, holds that organization whole (the same rows in every table, its label PDF's
storage key still resolving in media storage)."""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg2
import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection

from erp.tenancy import organization_scope
from shipping.models import LabelPurchase
from tests.conftest import Tenant
from tests.tenantdata import populate, row_counts

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        not shutil.which("pg_dump"), reason="pg_dump is not installed (apt-get install postgresql-client)"
    ),
]

LABEL = b"%PDF-1.4 the only copy of a bought label %%EOF"


def _pg_args(database: str) -> tuple[list[str], dict[str, str]]:
    """Connection options for PostgreSQL's own tools, from Django's settings (the password by environment)."""
    settings = connection.settings_dict
    args = ["--host", settings["HOST"] or "127.0.0.1", "--port", str(settings["PORT"] or 5432)]
    if settings["USER"]:
        args += ["--username", settings["USER"]]
    env = {**os.environ, "PGPASSWORD": settings["PASSWORD"] or ""}
    return [*args, "--dbname", database], env


def _run(command: list[str], env: dict[str, str]) -> None:
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, f"{command[0]} failed: {result.stderr}"


@pytest.fixture
def restore_database() -> Iterator[str]:
    """A fresh, empty database to restore into, dropped afterwards."""
    name = f"{connection.settings_dict['NAME']}_restore_{uuid.uuid4().hex[:8]}"
    args, env = _pg_args("postgres")
    _run(["createdb", *args[:-2], name], env)
    yield name
    _run(["dropdb", *args[:-2], "--if-exists", name], env)


@pytest.mark.django_db(transaction=True)
def test_a_dump_restored_into_a_fresh_database_holds_the_organization_whole(
    make_tenant: Any, restore_database: str, tmp_path: Path
) -> None:
    # Given an organization with a row in every tenant table and a stored label PDF, beside another organization
    seller: Tenant = make_tenant("Restored Goods")
    populate(seller)
    populate(make_tenant("Neighbour Supply"))
    with organization_scope(seller.organization):
        purchase = LabelPurchase.objects.order_by("pk").first()
        assert purchase is not None
        purchase.label_pdf.save("restored.pdf", ContentFile(LABEL), save=True)
    with connection.cursor() as cursor:
        before = row_counts(cursor, seller.organization.pk)
    assert all(before.values()), [table for table, count in before.items() if not count]

    # When the database is dumped and restored as docs/backups.md says (custom format, no owner in the archive,
    # the restoring role owning what it creates)
    dump = tmp_path / "dropline.dump"
    source_args, env = _pg_args(connection.settings_dict["NAME"])
    _run(["pg_dump", *source_args, "--format=custom", "--no-owner", "--file", str(dump)], env)
    target_args, env = _pg_args(restore_database)
    role = ["--role", connection.settings_dict["USER"]] if connection.settings_dict["USER"] else []
    _run(["pg_restore", *target_args, "--no-owner", *role, "--exit-on-error", str(dump)], env)

    # Then the restored database has the same rows of the organization in every table
    settings = connection.settings_dict
    restored = psycopg2.connect(
        host=settings["HOST"] or "127.0.0.1",
        port=settings["PORT"] or 5432,
        user=settings["USER"] or None,
        password=settings["PASSWORD"] or None,
        dbname=restore_database,
    )
    try:
        with restored.cursor() as cursor:
            after = row_counts(cursor, seller.organization.pk)
            cursor.execute("SELECT label_pdf FROM shipping_labelpurchase WHERE id = %s", [str(purchase.pk)])
            (label_key,) = cursor.fetchone()
            # the append-only audit log came back with its trigger
            cursor.execute("SELECT count(*) FROM pg_trigger WHERE tgname = 'erp_auditentry_no_update'")
            triggers = cursor.fetchone()[0]
    finally:
        restored.close()
    assert after == before
    assert triggers == 1
    # and the label's storage key still resolves in media storage (backed up with the database: docs/backups.md)
    assert label_key == purchase.label_pdf.name
    with default_storage.open(label_key, "rb") as stored:
        assert stored.read() == LABEL
