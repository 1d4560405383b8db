"""The open-API routing table: every path exactly as documented, with the versions the API exists in."""

from __future__ import annotations

from . import api_auth, api_catalog, api_combine, api_fbt, api_fulfillment, api_orders
from .gateway import Router

V = ("202309",)


def build_router() -> Router:
    r = Router()
    r.add("GET", "/authorization/{v}/shops", V, api_auth.authorized_shops, scope="seller")
    r.add("GET", "/seller/{v}/shops", V, api_auth.active_shops, scope="seller")
    r.add("POST", "/order/{v}/orders/search", V, api_orders.search_orders)
    # Get Order Detail is documented at 202507 (adds payment fields); SDKs call 202309. Both are served.
    r.add("GET", "/order/{v}/orders", ("202309", "202507"), api_orders.order_detail)
    f = api_fulfillment
    r.add("POST", "/fulfillment/{v}/orders/{order_id}/shipping_services/query", V, f.eligible_shipping_services)
    r.add("POST", "/fulfillment/{v}/packages", V, f.create_packages)
    r.add("POST", "/fulfillment/{v}/packages/ship", V, f.batch_ship_packages)
    r.add("POST", "/fulfillment/{v}/packages/search", V, f.search_packages)
    r.add("POST", "/fulfillment/{v}/packages/{package_id}/ship", V, f.ship_package)
    r.add("GET", "/fulfillment/{v}/packages/{package_id}/handover_time_slots", V, f.handover_time_slots)
    r.add("GET", "/fulfillment/{v}/packages/{package_id}/shipping_documents", V, f.shipping_document)
    r.add("GET", "/fulfillment/{v}/packages/{package_id}", V, f.package_detail)
    r.add("POST", "/fulfillment/{v}/packages/{package_id}/shipping_info/update", V, f.update_package_shipping_info)
    r.add("GET", "/fulfillment/{v}/orders/{order_id}/tracking", V, f.tracking)
    r.add("POST", "/fulfillment/{v}/orders/{order_id}/packages", V, f.mark_package_as_shipped)
    r.add("POST", "/fulfillment/{v}/orders/{order_id}/shipping_info/update", V, f.update_shipping_info)
    # Combined and split packages (api_combine).
    cb = api_combine
    r.add("GET", "/fulfillment/{v}/combinable_packages/search", V, cb.search_combinable_packages)
    r.add("POST", "/fulfillment/{v}/packages/combine", V, cb.combine_package)
    r.add("POST", "/fulfillment/{v}/packages/{package_id}/uncombine", V, cb.uncombine_packages)
    r.add("GET", "/fulfillment/{v}/orders/split_attributes", V, cb.order_split_attributes)
    r.add("POST", "/fulfillment/{v}/orders/{order_id}/split", V, cb.split_orders)
    c = api_catalog
    r.add("GET", "/logistics/{v}/warehouses", V, c.warehouses)
    r.add("GET", "/logistics/{v}/warehouses/{warehouse_id}/delivery_options", V, c.delivery_options)
    r.add("GET", "/logistics/{v}/delivery_options/{delivery_option_id}/shipping_providers", V, c.shipping_providers)
    r.add("POST", "/product/{v}/products/search", ("202309", "202502"), c.search_products)
    r.add("POST", "/product/{v}/inventory/search", V, c.inventory_search)
    r.add("POST", "/product/{v}/products/{product_id}/inventory/update", V, c.update_inventory)
    r.add("GET", "/event/{v}/webhooks", V, c.get_webhooks)
    r.add("PUT", "/event/{v}/webhooks", V, c.put_webhook)
    r.add("DELETE", "/event/{v}/webhooks", V, c.delete_webhook)
    # Fulfilled by TikTok: each API at the one version its spec documents.
    r.add("GET", "/fbt/{v}/merchants/onboarded_regions", ("202409",), api_fbt.onboarded_regions)
    r.add("GET", "/fbt/{v}/warehouses", ("202408",), api_fbt.warehouses)
    r.add("POST", "/fbt/{v}/inventory/search", ("202408",), api_fbt.search_inventory)
    r.add("POST", "/fbt/{v}/goods/search", ("202409",), api_fbt.search_goods)
    return r
