"""factory_boy factories. Every tenant-owned model needs one here, registered with @tenant_factory: the tenant-
isolation test creates one row of every tenant model through this registry and fails if a model has none."""

from __future__ import annotations

import hashlib
import uuid
from datetime import timedelta
from decimal import Decimal
from typing import Any

import factory
from django.db import models
from django.utils import timezone

from aftersales.models import CancellationRequest, Decision, ReturnRequest, SellerCancellation
from erp.ids import uuid7
from erp.models import (
    APIKey,
    AuditEntry,
    IdempotencyKey,
    Invitation,
    Membership,
    Organization,
    OrganizationExport,
    User,
)
from erp.roles import API_KEY_PRESETS, APIKeyScope, Role
from erp.tenancy import organization_scope
from integrations.models import (
    Platform,
    SellerAuthorization,
    ShopifyStoreSettings,
    Store,
    TikTokShopSettings,
    WebhookDelivery,
)
from inventory.models import (
    BundleComponent,
    Listing,
    LowStockAlert,
    MovementKind,
    Reservation,
    ReturnOutcome,
    ReturnReceipt,
    ReturnReceiptLine,
    Sku,
    SkuSupplier,
    StockLevel,
    StockMovement,
    StoreWarehouse,
    Warehouse,
    WarehouseKind,
    WarehouseLink,
)
from orders.models import (
    BackfillWindow,
    HoldReason,
    Order,
    OrderHold,
    OrderLine,
    OrderStatus,
    OrderStatusChange,
    SellerShipment,
    TrackingEvent,
)
from shipping.models import (
    AtRiskAlert,
    Handoff,
    HandoffItem,
    HandoffLink,
    LabelBatch,
    LabelPurchase,
    LogisticsRule,
    PackageChange,
    PackageOrder,
    PrintEvent,
    PurchaseState,
    SupplierAccess,
)
from webhooks import models as outbound

TENANT_FACTORIES: dict[type[models.Model], type[factory.django.DjangoModelFactory]] = {}


def tenant_factory(cls: type[factory.django.DjangoModelFactory]) -> type[factory.django.DjangoModelFactory]:
    TENANT_FACTORIES[cls._meta.model] = cls
    return cls


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@example.com")
    first_name = "Pat"
    last_name = factory.Sequence(lambda n: f"Tester{n}")
    password = factory.PostGenerationMethodCall("set_password", "correct-horse-battery")

    @factory.post_generation
    def saved(self, create: bool, extracted: Any, **kwargs: Any) -> None:
        if create:
            self.save()


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organization

    name = factory.Sequence(lambda n: f"Org {n}")


class TenantModelFactory(factory.django.DjangoModelFactory):
    """Creates the row inside its organization's scope, as the application does."""

    organization = factory.SubFactory(OrganizationFactory)

    class Meta:
        abstract = True

    @classmethod
    def _create(cls, model_class: type[models.Model], *args: Any, **kwargs: Any) -> models.Model:
        with organization_scope(kwargs["organization"]):
            return super()._create(model_class, *args, **kwargs)


@tenant_factory
class MembershipFactory(TenantModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    role = Role.OPERATOR


@tenant_factory
class InvitationFactory(TenantModelFactory):
    class Meta:
        model = Invitation

    email = factory.Sequence(lambda n: f"invitee{n}@example.com")
    role = Role.VIEWER
    token_hash = factory.Sequence(lambda n: hashlib.sha256(f"token-{n}".encode()).hexdigest())
    expires_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=7))


@tenant_factory
class APIKeyFactory(TenantModelFactory):
    class Meta:
        model = APIKey

    name = factory.Sequence(lambda n: f"WMS {n}")
    prefix = factory.Sequence(lambda n: f"{n:08x}")
    secret_hash = factory.Sequence(lambda n: hashlib.sha256(f"secret-{n}".encode()).hexdigest())
    scopes = factory.LazyFunction(lambda: list(API_KEY_PRESETS[APIKeyScope.READ]))


@tenant_factory
class AuditEntryFactory(TenantModelFactory):
    class Meta:
        model = AuditEntry

    actor_label = "someone@example.com"
    action = "thing.done"
    target_type = "thing"
    target_id = factory.Sequence(str)
    target_label = factory.Sequence(lambda n: f"Thing {n}")


# ------------------------------------------------------------------------------------------ stores and orders
@tenant_factory
class SellerAuthorizationFactory(TenantModelFactory):
    class Meta:
        model = SellerAuthorization

    platform = Platform.TIKTOK
    seller_id = factory.Sequence(lambda n: f"70107{n:014d}")
    seller_name = factory.Sequence(lambda n: f"Seller {n}")
    region = "US"
    access_token = factory.Sequence(lambda n: f"TTP_access_{n}")
    refresh_token = factory.Sequence(lambda n: f"TTP_refresh_{n}")
    access_token_expires_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=7))
    refresh_token_expires_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=365))


@tenant_factory
class StoreFactory(TenantModelFactory):
    class Meta:
        model = Store
        skip_postgeneration_save = True

    platform = Platform.TIKTOK
    authorization = factory.SubFactory(SellerAuthorizationFactory, organization=factory.SelfAttribute("..organization"))
    external_id = factory.Sequence(lambda n: f"74940{n:014d}")
    name = factory.Sequence(lambda n: f"Shop {n}")
    region = "US"
    seller_type = "LOCAL"
    # A TikTok store has its settings record (`StoreFactory(tiktok_settings__official_logistics_from=...)`); other
    # platforms' stores have none. `tiktok_settings=None` makes a TikTok store without one.
    tiktok_settings = factory.Maybe(
        factory.LazyAttribute(lambda store: store.platform == Platform.TIKTOK),
        yes_declaration=factory.RelatedFactory(
            "tests.factories.TikTokShopSettingsFactory",
            factory_related_name="store",
            organization=factory.SelfAttribute("..organization"),
        ),
    )


@tenant_factory
class TikTokShopSettingsFactory(TenantModelFactory):
    class Meta:
        model = TikTokShopSettings

    store = factory.SubFactory(StoreFactory, organization=factory.SelfAttribute("..organization"), tiktok_settings=None)
    cipher = factory.Sequence(lambda n: f"GCP_cipher{n}")


@tenant_factory
class ShopifyStoreSettingsFactory(TenantModelFactory):
    class Meta:
        model = ShopifyStoreSettings

    store = factory.SubFactory(
        StoreFactory,
        organization=factory.SelfAttribute("..organization"),
        platform=Platform.SHOPIFY,
        external_id=factory.Sequence(lambda n: f"shop-{n}.myshopify.com"),
    )
    granted_scopes = "read_orders,read_all_orders,write_merchant_managed_fulfillment_orders,write_inventory"


@tenant_factory
class WebhookDeliveryFactory(TenantModelFactory):
    class Meta:
        model = WebhookDelivery

    platform = Platform.TIKTOK
    notification_id = factory.Sequence(lambda n: f"73271{n:014d}")
    topic = 1
    store = factory.SubFactory(StoreFactory, organization=factory.SelfAttribute("..organization"))
    payload = factory.LazyFunction(lambda: {"type": 1, "data": {}})


@tenant_factory
class OrderFactory(TenantModelFactory):
    class Meta:
        model = Order

    store = factory.SubFactory(StoreFactory, organization=factory.SelfAttribute("..organization"))
    external_id = factory.Sequence(lambda n: f"5764{n:014d}")
    status = OrderStatus.AWAITING_SHIPMENT
    label_source = "platform"
    fulfilled_by = "seller"
    platform_updated_at = factory.LazyFunction(timezone.now)
    placed_at = factory.LazyFunction(timezone.now)
    ship_by = factory.LazyFunction(lambda: timezone.now() + timedelta(hours=30))
    currency = "USD"
    total = Decimal("24.90")
    has_address = True
    recipient_name = "D**** K***"
    address_masked = True
    address_line1 = "5800 Bristol Pkwy"
    city = "Culver City"
    state = "California"
    postal_code = "90230"
    country_code = "US"
    line_count = 1
    unit_count = 1
    sku_summary = "1 × RED-TEE-L"


@tenant_factory
class OrderLineFactory(TenantModelFactory):
    class Meta:
        model = OrderLine

    order = factory.SubFactory(OrderFactory, organization=factory.SelfAttribute("..organization"))
    external_id = factory.Sequence(lambda n: f"5770{n:014d}")
    quantity = 1
    platform_line_ids = factory.LazyAttribute(lambda line: [line.external_id])
    sku_id = factory.Sequence(lambda n: f"2729{n:014d}")
    seller_sku = "RED-TEE-L"
    placed_at = factory.SelfAttribute("order.placed_at")  # as the import writes it
    product_name = "Crew tee"
    unit_price = Decimal("24.90")
    currency = "USD"


@tenant_factory
class OrderStatusChangeFactory(TenantModelFactory):
    class Meta:
        model = OrderStatusChange

    order = factory.SubFactory(OrderFactory, organization=factory.SelfAttribute("..organization"))
    from_status = OrderStatus.ON_HOLD
    to_status = OrderStatus.AWAITING_SHIPMENT
    changed_at = factory.LazyFunction(timezone.now)


@tenant_factory
class OrderHoldFactory(TenantModelFactory):
    class Meta:
        model = OrderHold

    order = factory.SubFactory(OrderFactory, organization=factory.SelfAttribute("..organization"))
    reason = HoldReason.CANCEL_REQUESTED


@tenant_factory
class BackfillWindowFactory(TenantModelFactory):
    class Meta:
        model = BackfillWindow

    store = factory.SubFactory(StoreFactory, organization=factory.SelfAttribute("..organization"))
    since = factory.LazyFunction(lambda: timezone.now() - timedelta(days=30))
    until = factory.LazyFunction(timezone.now)


# ---------------------------------------------------------------------------------------------------- inventory
@tenant_factory
class WarehouseFactory(TenantModelFactory):
    class Meta:
        model = Warehouse

    name = factory.Sequence(lambda n: f"Warehouse {n}")
    kind = WarehouseKind.OWN
    sender_name = "Acme Fulfilment"
    address_line1 = "100 Industrial Way"
    city = "Reno"
    state = "Nevada"
    postal_code = "89502"


@tenant_factory
class SkuFactory(TenantModelFactory):
    class Meta:
        model = Sku

    code = factory.Sequence(lambda n: f"SKU-{n:04d}")
    name = factory.Sequence(lambda n: f"Product {n}")
    weight = Decimal("8.0")


@tenant_factory
class BundleComponentFactory(TenantModelFactory):
    class Meta:
        model = BundleComponent

    bundle = factory.SubFactory(SkuFactory, organization=factory.SelfAttribute("..organization"), is_bundle=True)
    component = factory.SubFactory(SkuFactory, organization=factory.SelfAttribute("..organization"))
    quantity = 2


@tenant_factory
class SkuSupplierFactory(TenantModelFactory):
    class Meta:
        model = SkuSupplier

    sku = factory.SubFactory(SkuFactory, organization=factory.SelfAttribute("..organization"))
    warehouse = factory.SubFactory(
        WarehouseFactory,
        organization=factory.SelfAttribute("..organization"),
        kind=WarehouseKind.SUPPLIER,
        tracks_stock=False,
    )
    cost = Decimal("4.50")


@tenant_factory
class WarehouseLinkFactory(TenantModelFactory):
    class Meta:
        model = WarehouseLink

    warehouse = factory.SubFactory(WarehouseFactory, organization=factory.SelfAttribute("..organization"))
    store = factory.SubFactory(StoreFactory, organization=factory.SelfAttribute("..organization"))
    platform_warehouse_id = factory.Sequence(lambda n: f"69550{n:014d}")


@tenant_factory
class StoreWarehouseFactory(TenantModelFactory):
    class Meta:
        model = StoreWarehouse

    warehouse = factory.SubFactory(WarehouseFactory, organization=factory.SelfAttribute("..organization"))
    store = factory.SubFactory(StoreFactory, organization=factory.SelfAttribute("..organization"))
    rank = 1


@tenant_factory
class ListingFactory(TenantModelFactory):
    class Meta:
        model = Listing

    store = factory.SubFactory(StoreFactory, organization=factory.SelfAttribute("..organization"))
    platform_sku_id = factory.Sequence(lambda n: f"17295{n:014d}")
    seller_sku = factory.Sequence(lambda n: f"SKU-{n:04d}")
    title = "Crew tee"


@tenant_factory
class StockLevelFactory(TenantModelFactory):
    class Meta:
        model = StockLevel

    sku = factory.SubFactory(SkuFactory, organization=factory.SelfAttribute("..organization"))
    warehouse = factory.SubFactory(WarehouseFactory, organization=factory.SelfAttribute("..organization"))
    on_hand = 10


@tenant_factory
class StockMovementFactory(TenantModelFactory):
    class Meta:
        model = StockMovement

    sku = factory.SubFactory(SkuFactory, organization=factory.SelfAttribute("..organization"))
    warehouse = factory.SubFactory(WarehouseFactory, organization=factory.SelfAttribute("..organization"))
    kind = MovementKind.RECEIPT
    on_hand_delta = 10
    actor_label = "someone@example.com"


@tenant_factory
class ReturnReceiptFactory(TenantModelFactory):
    class Meta:
        model = ReturnReceipt

    order_id = factory.LazyFunction(uuid.uuid4)
    order_reference = factory.Sequence(lambda n: f"5764{n:014d}")
    warehouse = factory.SubFactory(WarehouseFactory, organization=factory.SelfAttribute("..organization"))
    submission = factory.LazyFunction(lambda: uuid.uuid4().hex)
    received_by_label = "someone@example.com"


@tenant_factory
class ReturnReceiptLineFactory(TenantModelFactory):
    class Meta:
        model = ReturnReceiptLine

    receipt = factory.SubFactory(ReturnReceiptFactory, organization=factory.SelfAttribute("..organization"))
    sku = factory.SubFactory(SkuFactory, organization=factory.SelfAttribute("..organization"))
    quantity = 1
    outcome = ReturnOutcome.RESTOCK


@tenant_factory
class ReservationFactory(TenantModelFactory):
    class Meta:
        model = Reservation

    order_id = factory.LazyFunction(uuid7)
    sku = factory.SubFactory(SkuFactory, organization=factory.SelfAttribute("..organization"))
    warehouse = factory.SubFactory(WarehouseFactory, organization=factory.SelfAttribute("..organization"))
    quantity = 1


@tenant_factory
class IdempotencyKeyFactory(TenantModelFactory):
    class Meta:
        model = IdempotencyKey

    owner = "key:factory"
    key = factory.Sequence(lambda n: f"key-{n}")
    fingerprint = "0" * 64
    response_status = 201
    response_body = factory.LazyFunction(dict)


@tenant_factory
class OrganizationExportFactory(TenantModelFactory):
    class Meta:
        model = OrganizationExport

    requested_by_label = "someone@example.com"


@tenant_factory
class LowStockAlertFactory(TenantModelFactory):
    class Meta:
        model = LowStockAlert

    sku = factory.SubFactory(SkuFactory, organization=factory.SelfAttribute("..organization"))
    available = 1


# ------------------------------------------------------------------------------------------------------ shipping
@tenant_factory
class LabelBatchFactory(TenantModelFactory):
    class Meta:
        model = LabelBatch

    reference = factory.Sequence(lambda n: f"B-{5000 + n:04d}")  # clear of the references tests name
    created_by_label = "someone@example.com"


@tenant_factory
class LabelPurchaseFactory(TenantModelFactory):
    class Meta:
        model = LabelPurchase
        skip_postgeneration_save = True

    order = factory.SubFactory(OrderFactory, organization=factory.SelfAttribute("..organization"))
    store = factory.SelfAttribute("order.store")
    line_ids = factory.LazyFunction(list)
    # The package carries its order (docs/adr/0019-package-is-the-purchase.md).
    cover = factory.RelatedFactory(
        "tests.factories.PackageOrderFactory",
        factory_related_name="purchase",
        organization=factory.SelfAttribute("purchase.organization"),
        order=factory.SelfAttribute("purchase.order"),
        part=factory.SelfAttribute("purchase.package_key"),
        line_ids=factory.SelfAttribute("purchase.line_ids"),
    )


@tenant_factory
class PackageOrderFactory(TenantModelFactory):
    """Made alone, a second part of an order already bought whole (a LabelPurchase made by its factory carries its
    own cover)."""

    class Meta:
        model = PackageOrder

    purchase = factory.SubFactory(
        "tests.factories.LabelPurchaseFactory", organization=factory.SelfAttribute("..organization")
    )
    order = factory.SelfAttribute("purchase.order")
    part = factory.Sequence(lambda n: f"split:{n}")


@tenant_factory
class SellerShipmentFactory(TenantModelFactory):
    class Meta:
        model = SellerShipment

    order = factory.SubFactory(
        OrderFactory, organization=factory.SelfAttribute("..organization"), label_source="seller"
    )
    store = factory.SelfAttribute("order.store")
    carrier_id = "7117859084333745966"
    carrier_name = "UPS"
    tracking_number = factory.Sequence(lambda n: f"1Z999AA1{n:010d}")


@tenant_factory
class PrintEventFactory(TenantModelFactory):
    class Meta:
        model = PrintEvent

    batch = factory.SubFactory(LabelBatchFactory, organization=factory.SelfAttribute("..organization"))
    document = "labels"
    printed_by_label = "packer@example.com"


@tenant_factory
class LogisticsRuleFactory(TenantModelFactory):
    class Meta:
        model = LogisticsRule

    name = factory.Sequence(lambda n: f"Rule {n}")
    priority = factory.Sequence(lambda n: (n + 1) * 10)
    conditions = factory.LazyFunction(dict)
    actions = factory.LazyFunction(lambda: {"service_strategy": "cheapest"})


@tenant_factory
class TrackingEventFactory(TenantModelFactory):
    class Meta:
        model = TrackingEvent

    order = factory.SubFactory(OrderFactory, organization=factory.SelfAttribute("..organization"))
    description = "Out for delivery"
    occurred_at = factory.LazyFunction(timezone.now)


@tenant_factory
class SupplierAccessFactory(TenantModelFactory):
    class Meta:
        model = SupplierAccess

    membership = factory.SubFactory(
        MembershipFactory, organization=factory.SelfAttribute("..organization"), role=Role.SUPPLIER
    )
    warehouse = factory.SubFactory(
        WarehouseFactory, organization=factory.SelfAttribute("..organization"), kind=WarehouseKind.SUPPLIER
    )


@tenant_factory
class HandoffFactory(TenantModelFactory):
    class Meta:
        model = Handoff

    warehouse = factory.SubFactory(
        WarehouseFactory, organization=factory.SelfAttribute("..organization"), kind=WarehouseKind.SUPPLIER
    )
    batch = factory.SubFactory(LabelBatchFactory, organization=factory.SelfAttribute("..organization"))


@tenant_factory
class HandoffLinkFactory(TenantModelFactory):
    class Meta:
        model = HandoffLink

    handoff = factory.SubFactory(HandoffFactory, organization=factory.SelfAttribute("..organization"))
    label = factory.Sequence(lambda n: f"Contact {n}")
    expires_at = factory.LazyFunction(lambda: timezone.now() + timedelta(hours=72))


@tenant_factory
class HandoffItemFactory(TenantModelFactory):
    class Meta:
        model = HandoffItem

    handoff = factory.SubFactory(HandoffFactory, organization=factory.SelfAttribute("..organization"))
    purchase = factory.SubFactory(
        LabelPurchaseFactory,
        organization=factory.SelfAttribute("..organization"),
        batch=factory.SelfAttribute("..handoff.batch"),
        state=PurchaseState.PURCHASED,
        tracking_number=factory.Sequence(lambda n: f"TRK{n:06d}"),
    )


@tenant_factory
class AtRiskAlertFactory(TenantModelFactory):
    class Meta:
        model = AtRiskAlert

    order = factory.SubFactory(OrderFactory, organization=factory.SelfAttribute("..organization"))
    threshold_hours = 24


@tenant_factory
class PackageChangeFactory(TenantModelFactory):
    class Meta:
        model = PackageChange

    store = factory.SubFactory(StoreFactory, organization=factory.SelfAttribute("..organization"))
    kind = "combine"
    key = factory.Sequence(lambda n: f"5770000000000{n:05d},5770000000001{n:05d}")


@tenant_factory
class CancellationRequestFactory(TenantModelFactory):
    class Meta:
        model = CancellationRequest

    store = factory.SubFactory(StoreFactory, organization=factory.SelfAttribute("..organization"))
    order = factory.SubFactory(
        OrderFactory, organization=factory.SelfAttribute("..organization"), store=factory.SelfAttribute("..store")
    )
    order_external_id = factory.SelfAttribute("order.external_id")
    external_id = factory.Sequence(lambda n: f"4035{n:015d}")
    initiator = "buyer"
    status = "pending"
    platform_status = "CANCELLATION_REQUEST_PENDING"
    reason_text = "No longer needed"
    needs_decision = True
    respond_by = factory.LazyFunction(lambda: timezone.now() + timedelta(hours=40))


@tenant_factory
class ReturnRequestFactory(TenantModelFactory):
    class Meta:
        model = ReturnRequest

    store = factory.SubFactory(StoreFactory, organization=factory.SelfAttribute("..organization"))
    order = factory.SubFactory(
        OrderFactory, organization=factory.SelfAttribute("..organization"), store=factory.SelfAttribute("..store")
    )
    order_external_id = factory.SelfAttribute("order.external_id")
    external_id = factory.Sequence(lambda n: f"4036{n:015d}")
    kind = "refund_only"
    initiator = "buyer"
    status = "pending"
    platform_status = "RETURN_OR_REFUND_REQUEST_PENDING"
    reason_text = "Package lost"
    decisions_open = ["approve_refund", "reject_refund"]
    refund_amount = Decimal("24.90")
    currency = "USD"
    lines = factory.LazyFunction(lambda: [{"seller_sku": "MUG-1", "platform_sku_id": "1729", "quantity": 1}])


@tenant_factory
class DecisionFactory(TenantModelFactory):
    class Meta:
        model = Decision

    cancellation = factory.SubFactory(CancellationRequestFactory, organization=factory.SelfAttribute("..organization"))
    step = "CANCELLATION_REQUEST_PENDING"
    approve = True
    decided_by_label = "Pat (owner)"


@tenant_factory
class SellerCancellationFactory(TenantModelFactory):
    class Meta:
        model = SellerCancellation

    store = factory.SubFactory(StoreFactory, organization=factory.SelfAttribute("..organization"))
    order = factory.SubFactory(
        OrderFactory, organization=factory.SelfAttribute("..organization"), store=factory.SelfAttribute("..store")
    )
    reason_code = "seller_cancel_reason_out_of_stock"
    reason_text = "Out of stock"


@tenant_factory
class WebhookEndpointFactory(TenantModelFactory):
    class Meta:
        model = outbound.WebhookEndpoint

    url = factory.Sequence(lambda n: f"https://hooks.example.com/{n}")
    events = factory.LazyFunction(lambda: ["*"])
    secret = factory.Sequence(lambda n: f"whsec_test{n:04d}")


@tenant_factory
class WebhookEventFactory(TenantModelFactory):
    class Meta:
        model = outbound.WebhookEvent

    type = "order.updated"
    object_type = "order"
    object_id = factory.LazyFunction(lambda: str(uuid7()))
    data = factory.LazyFunction(lambda: {"status": "awaiting_shipment"})


@tenant_factory
class OutboundDeliveryFactory(TenantModelFactory):
    class Meta:
        model = outbound.WebhookDelivery

    event = factory.SubFactory(WebhookEventFactory, organization=factory.SelfAttribute("..organization"))
    endpoint = factory.SubFactory(WebhookEndpointFactory, organization=factory.SelfAttribute("..organization"))
    object_type = factory.SelfAttribute("event.object_type")
    object_id = factory.SelfAttribute("event.object_id")
    status = "succeeded"


@tenant_factory
class WebhookAttemptFactory(TenantModelFactory):
    class Meta:
        model = outbound.WebhookAttempt

    delivery = factory.SubFactory(OutboundDeliveryFactory, organization=factory.SelfAttribute("..organization"))
    number = 1
    status_code = 200
