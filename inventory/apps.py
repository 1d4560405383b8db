from django.apps import AppConfig


class InventoryConfig(AppConfig):
    name = "inventory"
    verbose_name = "Inventory"

    def ready(self) -> None:
        from erp import dashboard
        from integrations.services import store_policy_changed, store_sync_requested
        from inventory import catalog, push
        from inventory.dashboard import inventory_cards, setup_steps
        from inventory.services import listing_mapped, warehouse_links_changed

        # Newly mapped listings and changed policies only mark listings, as stock changes do through their stock
        # rows (push.changed_stock_mark); beat pushes them, debounced and batched.
        listing_mapped.connect(push.on_listing_mapped)
        store_policy_changed.connect(push.on_store_policy_changed)
        warehouse_links_changed.connect(push.on_store_policy_changed)
        # A store connected (or synced on request) has its catalogue read: every variant becomes a listing.
        store_sync_requested.connect(catalog.on_store_sync_requested)
        dashboard.register(inventory_cards)
        dashboard.register_setup(setup_steps)
