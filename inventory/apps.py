from django.apps import AppConfig


class InventoryConfig(AppConfig):
    name = "inventory"
    verbose_name = "Inventory"

    def ready(self) -> None:
        from erp import dashboard
        from integrations.services import store_policy_changed, store_sync_requested
        from inventory import catalog, push
        from inventory.dashboard import inventory_cards, setup_steps
        from inventory.services import listing_mapped, stock_changed, warehouse_links_changed

        # Stock changes and newly mapped listings only mark listings; beat pushes them, debounced and batched.
        stock_changed.connect(push.on_stock_changed)
        listing_mapped.connect(push.on_listing_mapped)
        store_policy_changed.connect(push.on_store_policy_changed)
        warehouse_links_changed.connect(push.on_store_policy_changed)
        # A store connected (or synced on request) has its catalogue read: every variant becomes a listing.
        store_sync_requested.connect(catalog.on_store_sync_requested)
        dashboard.register(inventory_cards)
        dashboard.register_setup(setup_steps)
