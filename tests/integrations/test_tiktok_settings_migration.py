"""The TikTok-only Store columns move to TikTokShopSettings (integrations 0007-0009): every TikTok store gets a row
carrying what its Store row held (blank values too), other stores get none, and the reverse puts the values back."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from tests.factories import OrganizationFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

SCHEMA = ("integrations", "0007_tiktokshopsettings")
COPY = ("integrations", "0008_tiktokshopsettings_from_store")
FIELDS = ("cipher", "joined_platform_on", "logistics_transition_from", "official_logistics_from")


def migrate_to(target: tuple[str, str]) -> Any:
    """Migrate the test database to `target` and return the app registry of that state."""
    executor = MigrationExecutor(connection)
    executor.migrate([target])
    executor.loader.build_graph()
    return executor.loader.project_state([target]).apps


@pytest.fixture
def before_the_copy() -> Iterator[Any]:
    apps = migrate_to(SCHEMA)
    yield apps
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())  # the rest of the suite runs on the latest schema


def test_every_tiktok_store_gets_its_values_and_the_reverse_puts_them_back(before_the_copy: Any) -> None:
    Store = before_the_copy.get_model("integrations", "Store")
    org = OrganizationFactory()
    moved = Store.objects.create(
        organization_id=org.pk,
        platform="tiktok",
        external_id="7494000000000000001",
        name="Moved",
        cipher="GCP_moved",
        joined_platform_on=date(2026, 2, 10),
        logistics_transition_from=date(2026, 4, 1),
        official_logistics_from=date(2026, 6, 1),
    )
    blank = Store.objects.create(organization_id=org.pk, platform="tiktok", external_id="7494000000000000002", name="B")
    manual = Store.objects.create(organization_id=org.pk, platform="manual", external_id="manual", name="Manual")

    apps = migrate_to(COPY)
    settings = {
        row["store_id"]: row
        for row in apps.get_model("integrations", "TikTokShopSettings").objects.values(
            "store_id", "organization_id", *FIELDS
        )
    }
    assert set(settings) == {moved.pk, blank.pk}  # a row for every TikTok store, none for the manual one
    assert settings[moved.pk] == {
        "store_id": moved.pk,
        "organization_id": org.pk,
        "cipher": "GCP_moved",
        "joined_platform_on": date(2026, 2, 10),
        "logistics_transition_from": date(2026, 4, 1),
        "official_logistics_from": date(2026, 6, 1),
    }
    assert (settings[blank.pk]["cipher"], settings[blank.pk]["official_logistics_from"]) == ("", None)
    assert manual.pk not in settings

    # What changed in the settings record since goes back onto the Store row when the migration is reversed, and the
    # rows go (the table is as 0007 made it).
    apps.get_model("integrations", "TikTokShopSettings").objects.filter(store_id=blank.pk).update(
        cipher="GCP_later", official_logistics_from=date(2026, 7, 1)
    )
    Store = migrate_to(SCHEMA).get_model("integrations", "Store")
    back = {row["pk"]: row for row in Store.objects.values("pk", *FIELDS)}
    assert back[moved.pk] == {
        "pk": moved.pk,
        "cipher": "GCP_moved",
        "joined_platform_on": date(2026, 2, 10),
        "logistics_transition_from": date(2026, 4, 1),
        "official_logistics_from": date(2026, 6, 1),
    }
    assert (back[blank.pk]["cipher"], back[blank.pk]["official_logistics_from"]) == ("GCP_later", date(2026, 7, 1))
    assert (back[manual.pk]["cipher"], back[manual.pk]["official_logistics_from"]) == ("", None)
