"""Every TikTok Shop API the client calls, with its version, shop scoping and retry policy.

Versions follow the spec files in shared/platforms/tiktok-shop/spec/ (the authority where they differ from the README):
Get Order Detail is documented at 202507 and Search Products at 202502; every other API at 202309.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from urllib.parse import quote


class RetryPolicy(enum.Enum):
    # Reads, and writes that set absolute state (Update Inventory, Event API PUT/DELETE): repeating is harmless, so
    # retry on 429, 5xx, 36009002, 36009003 and any transport error. Also writes TikTok de-duplicates by a key the
    # client sends on every attempt (the Return & Refund decisions' idempotency_key).
    SAFE = "safe"
    # Calls that buy or ship something: retry only when the request provably was not processed (HTTP 429 / 36009002
    # from the gateway, a connection that never opened). Anything after the request left -> PlatformOutcomeUnknown.
    UNSAFE = "unsafe"


@dataclass(frozen=True)
class Endpoint:
    name: str
    method: str
    path: str  # template, e.g. /fulfillment/202309/packages/{package_id}/ship
    shop_scoped: bool = True  # sends shop_cipher; /authorization/* and /seller/* must NOT (36009004)
    retry: RetryPolicy = RetryPolicy.SAFE

    @property
    def key(self) -> str:
        """`METHOD /path/template`: the unit TikTok rate-limits (per API, per app + shop)."""
        return f"{self.method} {self.path}"

    def render(self, path_params: dict[str, str] | None = None) -> str:
        params = {name: quote(str(value), safe="") for name, value in (path_params or {}).items()}
        return self.path.format(**params)


_SAFE, _UNSAFE = RetryPolicy.SAFE, RetryPolicy.UNSAFE

GET_AUTHORIZED_SHOPS = Endpoint("Get Authorized Shops", "GET", "/authorization/202309/shops", shop_scoped=False)
GET_ACTIVE_SHOPS = Endpoint("Get Active Shops", "GET", "/seller/202309/shops", shop_scoped=False)

SEARCH_ORDERS = Endpoint("Search Orders", "POST", "/order/202309/orders/search")
GET_ORDER_DETAIL = Endpoint("Get Order Detail", "GET", "/order/202507/orders")

GET_ELIGIBLE_SHIPPING_SERVICE = Endpoint(
    "Get Eligible Shipping Service", "POST", "/fulfillment/202309/orders/{order_id}/shipping_services/query"
)
CREATE_PACKAGES = Endpoint("Create Packages", "POST", "/fulfillment/202309/packages", retry=_UNSAFE)
SHIP_PACKAGE = Endpoint("Ship Package", "POST", "/fulfillment/202309/packages/{package_id}/ship", retry=_UNSAFE)
BATCH_SHIP_PACKAGES = Endpoint("Batch Ship Packages", "POST", "/fulfillment/202309/packages/ship", retry=_UNSAFE)
GET_HANDOVER_TIME_SLOTS = Endpoint(
    "Get Package Handover Time Slots", "GET", "/fulfillment/202309/packages/{package_id}/handover_time_slots"
)
GET_SHIPPING_DOCUMENT = Endpoint(
    "Get Package Shipping Document", "GET", "/fulfillment/202309/packages/{package_id}/shipping_documents"
)
GET_PACKAGE_DETAIL = Endpoint("Get Package Detail", "GET", "/fulfillment/202309/packages/{package_id}")
SEARCH_PACKAGE = Endpoint("Search Package", "POST", "/fulfillment/202309/packages/search")
GET_TRACKING = Endpoint("Get Tracking", "GET", "/fulfillment/202309/orders/{order_id}/tracking")
MARK_PACKAGE_AS_SHIPPED = Endpoint(
    "Mark Package As Shipped", "POST", "/fulfillment/202309/orders/{order_id}/packages", retry=_UNSAFE
)
UPDATE_SHIPPING_INFO = Endpoint(
    "Update Shipping Info", "POST", "/fulfillment/202309/orders/{order_id}/shipping_info/update", retry=_UNSAFE
)
UPDATE_PACKAGE_SHIPPING_INFO = Endpoint(
    "Update Package Shipping Info",
    "POST",
    "/fulfillment/202309/packages/{package_id}/shipping_info/update",
    retry=_UNSAFE,
)

# Combined and split packages (scope seller.fulfillment.package.write). Combine, Uncombine and Split change which
# packages exist: UNSAFE (a lost answer is resolved by reading the orders' packages, never by repeating blindly).
SEARCH_COMBINABLE_PACKAGES = Endpoint(
    "Search Combinable Packages", "GET", "/fulfillment/202309/combinable_packages/search"
)
COMBINE_PACKAGE = Endpoint("Combine Package", "POST", "/fulfillment/202309/packages/combine", retry=_UNSAFE)
UNCOMBINE_PACKAGES = Endpoint(
    "Uncombine Packages", "POST", "/fulfillment/202309/packages/{package_id}/uncombine", retry=_UNSAFE
)
GET_ORDER_SPLIT_ATTRIBUTES = Endpoint(
    "Get Order Split Attributes", "GET", "/fulfillment/202309/orders/split_attributes"
)
SPLIT_ORDERS = Endpoint("Split Orders", "POST", "/fulfillment/202309/orders/{order_id}/split", retry=_UNSAFE)

GET_WAREHOUSE_LIST = Endpoint("Get Warehouse List", "GET", "/logistics/202309/warehouses")
GET_WAREHOUSE_DELIVERY_OPTIONS = Endpoint(
    "Get Warehouse Delivery Options", "GET", "/logistics/202309/warehouses/{warehouse_id}/delivery_options"
)
GET_SHIPPING_PROVIDERS = Endpoint(
    "Get Shipping Providers", "GET", "/logistics/202309/delivery_options/{delivery_option_id}/shipping_providers"
)

# Update Inventory sets absolute quantities, so a repeat converges to the same state: SAFE.
UPDATE_INVENTORY = Endpoint("Update Inventory", "POST", "/product/202309/products/{product_id}/inventory/update")
INVENTORY_SEARCH = Endpoint("Inventory Search", "POST", "/product/202309/inventory/search")
SEARCH_PRODUCTS = Endpoint("Search Products", "POST", "/product/202502/products/search")

GET_SHOP_WEBHOOKS = Endpoint("Get Shop Webhooks", "GET", "/event/202309/webhooks")
UPDATE_SHOP_WEBHOOK = Endpoint("Update Shop Webhook", "PUT", "/event/202309/webhooks")  # upsert by event_type
DELETE_SHOP_WEBHOOK = Endpoint("Delete Shop Webhook", "DELETE", "/event/202309/webhooks")

# Fulfilled by TikTok (README §8): read-only, each at the version its spec documents.
GET_FBT_ONBOARDED_REGIONS = Endpoint(
    "Get FBT Merchant Onboarded Regions", "GET", "/fbt/202409/merchants/onboarded_regions"
)
GET_FBT_WAREHOUSE_LIST = Endpoint("Get FBT Warehouse List", "GET", "/fbt/202408/warehouses")
SEARCH_FBT_INVENTORY = Endpoint("Search FBT Inventory", "POST", "/fbt/202408/inventory/search")

# Return & Refund (scope "Return & Refund Basic"), all at 202309. Reads are SAFE. The four decisions take the
# documented `idempotency_key` query parameter and the client always sends one (the caller's key, the same on every
# attempt): TikTok answers a repeated key with the first call's result and decides nothing twice, so repeating one
# after a lost answer is harmless: SAFE. Cancel Order has no key and cancels the order: UNSAFE (a lost answer is
# resolved by reading the order's cancellations, never by cancelling again).
SEARCH_CANCELLATIONS = Endpoint("Search Cancellations", "POST", "/return_refund/202309/cancellations/search")
APPROVE_CANCELLATION = Endpoint(
    "Approve Cancellation", "POST", "/return_refund/202309/cancellations/{cancel_id}/approve"
)  # keyed: SAFE
REJECT_CANCELLATION = Endpoint(
    "Reject Cancellation", "POST", "/return_refund/202309/cancellations/{cancel_id}/reject"
)  # keyed: SAFE
CANCEL_ORDER = Endpoint("Cancel Order", "POST", "/return_refund/202309/cancellations", retry=_UNSAFE)
GET_REJECT_REASONS = Endpoint("Get Reject Reasons", "GET", "/return_refund/202309/reject_reasons")
SEARCH_RETURNS = Endpoint("Search Returns", "POST", "/return_refund/202309/returns/search")
GET_RETURN_RECORDS = Endpoint("Get Return Records", "GET", "/return_refund/202309/returns/{return_id}/records")
APPROVE_RETURN = Endpoint("Approve Return", "POST", "/return_refund/202309/returns/{return_id}/approve")  # keyed: SAFE
REJECT_RETURN = Endpoint("Reject Return", "POST", "/return_refund/202309/returns/{return_id}/reject")  # keyed: SAFE
CALCULATE_REFUND = Endpoint("Calculate Refund", "POST", "/return_refund/202309/refunds/calculate")  # a quote: SAFE

ALL: tuple[Endpoint, ...] = tuple(value for value in globals().values() if isinstance(value, Endpoint))
