"""Organization deletion removes every row and every file of the organization, and nothing of another.

Rows are counted per table from the database's own catalogue (information_schema), not from the models, so a table
the deletion does not know about still counts. A table without an `organization_id` column must be one of the known
global tables below: a new table that holds an organization's data some other way fails here until it is handled.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection
from django.urls import reverse

from erp.actors import Actor
from erp.deletion import deletion_order, organization_delete
from erp.exports import organization_files, tenant_models
from erp.models import Organization, OrganizationDeletion
from erp.roles import Role
from erp.tenancy import TenantModel, organization_scope
from shipping.models import LabelPurchase
from tests.conftest import Tenant
from tests.tenantdata import populate, tables_by_tenancy
from tests.tenantdata import row_counts as tenant_row_counts

# Tables that hold no organization's rows: accounts (a person may belong to several organizations), Django's own,
# sign-in protection (per email/address), heartbeats, and the record of deletions itself.
GLOBAL_TABLES = {
    "auth_group",
    "auth_group_permissions",
    "auth_permission",
    "axes_accessattempt",
    "axes_accessattemptexpiration",
    "axes_accessfailurelog",
    "axes_accesslog",
    "django_content_type",
    "django_migrations",
    "django_session",
    "erp_heartbeat",
    "erp_organization",  # counted by its id below
    "erp_organizationdeletion",
    "erp_user",
    "erp_user_groups",
    "erp_user_user_permissions",
}


def _tables() -> tuple[list[str], list[str]]:
    with connection.cursor() as cursor:
        return tables_by_tenancy(cursor)


def row_counts(organization_id: Any) -> dict[str, int]:
    with connection.cursor() as cursor:
        return tenant_row_counts(cursor, organization_id)


def _with_files(tenant: Tenant) -> list[str]:
    populate(tenant)
    organization = tenant.organization
    organization.slip_logo.save(f"{organization.pk}-logo.png", ContentFile(b"\x89PNG logo"), save=True)
    with organization_scope(organization):
        for purchase in LabelPurchase.objects.all():
            purchase.label_pdf.save(f"{purchase.pk}.pdf", ContentFile(b"%PDF-1.4 label"), save=True)
        return sorted(organization_files(organization))


@pytest.mark.postgres
def test_every_table_is_a_tenant_table_or_a_known_global_one(db: None) -> None:
    _, global_tables = _tables()
    unknown = sorted(set(global_tables) - GLOBAL_TABLES)
    assert not unknown, f"tables without organization_id: make them tenant tables or list them here: {unknown}"


def test_deletion_order_puts_children_before_parents() -> None:
    order = deletion_order(tenant_models())
    assert set(order) == set(tenant_models())
    position = {model: index for index, model in enumerate(order)}
    for model in order:
        for field in model._meta.concrete_fields:
            parent = field.related_model
            if (
                field.is_relation
                and parent is not model
                and isinstance(parent, type)
                and issubclass(parent, TenantModel)
            ):
                assert position[model] < position[parent], f"{model.__name__} must go before {parent.__name__}"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_deleting_an_organization_removes_every_row_and_file_and_nothing_else(make_tenant: Any) -> None:
    # Given two organizations with a row in every tenant table and stored files
    alpha, bravo = make_tenant("Alpha Goods"), make_tenant("Bravo Supply")
    alpha_files, bravo_files = _with_files(alpha), _with_files(bravo)
    alpha.client.post(reverse("settings_export"))  # an export zip is Alpha's file too
    with organization_scope(alpha.organization):
        alpha_files = sorted(organization_files(alpha.organization))
    alpha_id = alpha.organization.pk
    before_alpha, before_bravo = row_counts(alpha_id), row_counts(bravo.organization.pk)
    assert all(before_alpha[table] > 0 for table in before_alpha), [t for t, n in before_alpha.items() if not n]
    assert len(alpha_files) >= 3
    assert all(default_storage.exists(name) for name in alpha_files + bravo_files)

    # When Alpha's owner deletes it, typing its name
    response = alpha.client.post(reverse("settings_organization_delete"), {"confirmation": "Alpha Goods"})

    # Then no row of any table refers to Alpha, Bravo's counts are unchanged, Alpha's files are gone
    assert response.status_code == 302
    assert row_counts(alpha_id) == dict.fromkeys(before_alpha, 0)
    assert row_counts(bravo.organization.pk) == before_bravo
    assert not [name for name in alpha_files if default_storage.exists(name)]
    assert all(default_storage.exists(name) for name in bravo_files)
    # and a platform-level record says so, without personal data
    record = OrganizationDeletion.objects.get(deleted_organization_id=alpha_id)
    assert record.files_deleted == len(alpha_files)
    assert sum(record.rows_deleted.values()) == sum(before_alpha.values()) - 1  # the organization row itself
    assert alpha.owner.email not in str(record.rows_deleted)
    assert "Alpha" not in str(record.rows_deleted)
    # and the former owner lands on "create an organization", their account intact
    assert alpha.client.get(reverse("dashboard")).url == reverse("organization_create")


@pytest.mark.django_db
def test_deletion_needs_the_owner_and_the_exact_name(tenant: Tenant) -> None:
    populate(tenant)
    wrong = tenant.client.post(reverse("settings_organization_delete"), {"confirmation": "acme outfitters"})
    assert wrong.status_code == 200
    assert "exactly" in wrong.content.decode()
    admin = tenant.client_as(Role.ADMIN)
    assert admin.get(reverse("settings_organization_delete")).status_code == 403
    assert admin.post(reverse("settings_organization_delete"), {"confirmation": "Acme Outfitters"}).status_code == 403
    assert Organization.objects.filter(pk=tenant.organization.pk).exists()
    assert not OrganizationDeletion.objects.exists()


@pytest.mark.django_db
def test_deletion_by_an_api_key_or_a_non_member_is_refused(make_tenant: Any) -> None:
    alpha, bravo = make_tenant("Alpha Goods"), make_tenant("Bravo Supply")
    with pytest.raises(PermissionDenied):
        organization_delete(organization=alpha.organization, actor=Actor.system(), confirmation="Alpha Goods")
    with pytest.raises(PermissionDenied):
        organization_delete(
            organization=alpha.organization, actor=Actor.for_user(bravo.owner), confirmation="Alpha Goods"
        )
    assert Organization.objects.filter(pk=alpha.organization.pk).exists()


@pytest.mark.s3
@pytest.mark.django_db(transaction=True)
def test_on_a_versioned_bucket_no_version_of_a_deleted_organizations_file_is_left(
    make_tenant: Any, s3_server: Any, s3_storage: str
) -> None:
    import boto3

    env = s3_server.storage_env(s3_storage)
    bucket = boto3.client(
        "s3",
        endpoint_url=env["AWS_S3_ENDPOINT_URL"],
        region_name=env["AWS_S3_REGION_NAME"],
        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
    )

    def versions() -> set[str]:
        listed = bucket.list_object_versions(Bucket=s3_storage)
        return {entry["Key"] for entry in listed.get("Versions", []) + listed.get("DeleteMarkers", [])}

    # Given two organizations whose labels, logos and an export zip are in the (versioned) bucket
    alpha, bravo = make_tenant("Alpha Goods"), make_tenant("Bravo Supply")
    _with_files(alpha)
    bravo_files = _with_files(bravo)
    assert alpha.client.post(reverse("settings_export")).status_code == 302
    with organization_scope(alpha.organization):
        alpha_files = sorted(organization_files(alpha.organization))
    assert any(name.endswith(".zip") for name in alpha_files)
    assert set(alpha_files) <= versions()

    # When Alpha is deleted
    organization_delete(organization=alpha.organization, actor=Actor.for_user(alpha.owner), confirmation="Alpha Goods")

    # Then not one version or delete marker of Alpha's keys is left; Bravo's files are all there
    assert not set(alpha_files) & versions()
    assert set(bravo_files) <= versions()
    assert all(default_storage.exists(name) for name in bravo_files)
