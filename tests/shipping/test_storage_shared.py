"""The production shape prints (issue 12, acceptance 1): a real Celery worker with a local disk of its own buys the
labels and stores them in object storage (a real S3-compatible server in its own process); the web, with another
local disk, prints the batch's labels, pick list and slips and serves the supplier's account-less link download from
the same bucket. Neither process writes a file to its own disk."""

from __future__ import annotations

import io
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import boto3
import pytest
from django.conf import settings as django_settings
from django.test import Client
from pypdf import PdfReader

from erp.actors import Actor
from erp.roles import Role
from erp.tenancy import organization_scope
from inventory.models import WarehouseKind
from orders.models import Order
from shipping import handoffs
from shipping import tasks as shipping_tasks
from shipping.labels.batches import label_batch_create
from shipping.models import HandoffItem, LabelBatch, LabelPurchase, PurchaseState
from tests.factories import WarehouseFactory
from tests.shipping.test_labels_chaos_broker import connect_and_import, shippable
from tests.workers import RedisServer, S3Server, Workers, sandbox_env, wait_for

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db(transaction=True)]

OWN, SUPPLIER = 4, 2


def pages(response: Any) -> int:
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"] == "application/pdf"
    return len(PdfReader(io.BytesIO(response.content)).pages)


def files_under(folder: Path) -> list[Path]:
    return [path for path in folder.rglob("*") if path.is_file()] if folder.exists() else []


def buy_in_a_worker(
    tenant: Any,
    tiktok_server: Any,
    settings: Any,
    tmp_path: Path,
    private_redis: RedisServer,
    monkeypatch: pytest.MonkeyPatch,
    *,
    storage_env: dict[str, str],
    worker_media_root: str = "",
) -> tuple[LabelBatch, Path]:
    """A batch of OWN + SUPPLIER orders bought by a real Celery worker process with the given storage settings, until
    every label is stored and the supplier's handoff is prepared. The batch, and the worker's MEDIA_ROOT."""
    base_url, harness = tiktok_server
    store = connect_and_import(tenant, harness)
    orders = shippable(store, OWN + SUPPLIER)
    own = WarehouseFactory(organization=tenant.organization, kind=WarehouseKind.OWN, name="Reno")
    supplier = WarehouseFactory(organization=tenant.organization, kind=WarehouseKind.SUPPLIER, name="Shenzhen Sun")
    Order.unscoped.filter(pk__in=[o.pk for o in orders[:OWN]]).update(warehouse=own)
    Order.unscoped.filter(pk__in=[o.pk for o in orders[OWN:]]).update(warehouse=supplier)

    worker_media = Path(worker_media_root) if worker_media_root else tmp_path / "worker-media"
    workers = Workers(
        tmp_path,
        env={
            **sandbox_env(base_url),
            "MEDIA_ROOT": str(worker_media),
            **storage_env,
        },
        broker_url=private_redis.url,
        queues=("labels", "documents", "default"),
    )

    # The batch's wake-ups go to the worker's broker, as a web process's do (this process runs tasks eagerly).
    def to_worker(*, kwargs: dict[str, str], retry: bool) -> None:
        workers.send("shipping.labels_purchase", **kwargs)

    monkeypatch.setattr(
        shipping_tasks, "labels_purchase", SimpleNamespace(name="shipping.labels_purchase", apply_async=to_worker)
    )
    try:
        workers.start()
        with organization_scope(tenant.organization):
            batch = label_batch_create(actor=Actor.system(), orders=orders)

        def settled() -> bool:
            rows = LabelPurchase.unscoped.filter(batch=batch)
            return all(p.state == PurchaseState.PURCHASED and p.label_pdf for p in rows) and (
                HandoffItem.unscoped.filter(handoff__batch=batch).count() == SUPPLIER
            )

        wait_for(settled, 90, "the worker to buy and store every label and prepare the supplier's handoff")
    finally:
        workers.stop_all()

    return batch, worker_media


def assert_everything_prints(tenant: Any, batch: LabelBatch) -> None:
    """The own warehouse's labels, pick list and slips, and the supplier's link download: 200, valid PDFs, every
    label read from the storage the worker wrote it to (none fetched again from the platform)."""
    rows = LabelPurchase.unscoped.filter(batch=batch).order_by("pk").values_list("pk", "label_pdf", "updated_at")
    stored = list(rows)
    packer = tenant.client_as(Role.WAREHOUSE)
    assert pages(packer.get(f"/shipping/batches/{batch.pk}/labels.pdf")) == OWN
    assert pages(packer.get(f"/shipping/batches/{batch.pk}/pick-list.pdf")) >= 1
    assert pages(packer.get(f"/shipping/batches/{batch.pk}/labels-and-slips.pdf")) == OWN * 2
    with organization_scope(tenant.organization):
        handoff = handoffs.handoffs_for_batch(batch=batch)[0]
        link = handoffs.handoff_link_create(handoff=handoff, actor=Actor.for_user(tenant.owner), label="Supplier")
        token = handoffs.handoff_link_token(link)
    anonymous = Client()
    assert pages(anonymous.get(f"/handoffs/link/{token}/?document=labels")) == SUPPLIER
    assert pages(anonymous.get(f"/handoffs/link/{token}/?document=pick-list")) >= 1
    assert pages(anonymous.get(f"/handoffs/link/{token}/?document=slips")) == SUPPLIER * 2
    assert list(rows) == stored


@pytest.mark.s3
def test_a_worker_and_the_web_on_separate_disks_share_labels_through_object_storage(
    tenant: Any,
    tiktok_server: Any,
    settings: Any,
    tmp_path: Path,
    private_redis: RedisServer,
    s3_server: S3Server,
    s3_storage: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    batch, worker_media = buy_in_a_worker(
        tenant,
        tiktok_server,
        settings,
        tmp_path,
        private_redis,
        monkeypatch,
        storage_env=s3_server.storage_env(s3_storage),
    )
    # Every label is an object in the private bucket; no process wrote to its own disk.
    bucket = boto3.client("s3", **_client_options(s3_server))
    keys = [item["Key"] for item in bucket.list_objects_v2(Bucket=s3_storage).get("Contents", [])]
    stored = set(LabelPurchase.unscoped.filter(batch=batch).values_list("label_pdf", flat=True))
    assert set(keys) == stored
    assert len(keys) == OWN + SUPPLIER
    for key in keys:
        grants = bucket.get_object_acl(Bucket=s3_storage, Key=key)["Grants"]
        assert all("URI" not in grant["Grantee"] for grant in grants), f"{key} is shared beyond its owner: {grants}"
    assert files_under(worker_media) == []
    assert files_under(Path(django_settings.MEDIA_ROOT)) == []

    # The web prints the own warehouse's documents, and the supplier's link download, from the bucket.
    assert_everything_prints(tenant, batch)
    assert files_under(Path(django_settings.MEDIA_ROOT)) == []


def test_web_and_worker_sharing_one_volume_print_the_batch(
    tenant: Any,
    tiktok_server: Any,
    settings: Any,
    tmp_path: Path,
    private_redis: RedisServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """docker-compose's minimum: the named volume `media` mounted at MEDIA_ROOT in the web and worker containers."""
    volume = tmp_path / "media-volume"
    settings.MEDIA_ROOT = volume
    batch, _ = buy_in_a_worker(
        tenant,
        tiktok_server,
        settings,
        tmp_path,
        private_redis,
        monkeypatch,
        storage_env={"DROPLINE_STORAGE": "local"},
        worker_media_root=str(volume),
    )
    assert len(files_under(volume)) == OWN + SUPPLIER
    assert_everything_prints(tenant, batch)


def _client_options(server: S3Server) -> dict[str, str]:
    env = server.storage_env("unused")
    return {
        "endpoint_url": env["AWS_S3_ENDPOINT_URL"],
        "region_name": env["AWS_S3_REGION_NAME"],
        "aws_access_key_id": env["AWS_ACCESS_KEY_ID"],
        "aws_secret_access_key": env["AWS_SECRET_ACCESS_KEY"],
    }
