from django.urls import path

from inventory import views

urlpatterns = [
    path("", views.InventoryHomeView.as_view(), name="inventory_home"),
    path("skus/new/", views.SkuCreateView.as_view(), name="inventory_sku_create"),
    path("skus/<uuid:pk>/", views.SkuDetailView.as_view(), name="inventory_sku_detail"),
    path("skus/<uuid:pk>/receive/", views.SkuReceiveView.as_view(), name="inventory_sku_receive"),
    path("skus/<uuid:pk>/adjust/", views.SkuAdjustView.as_view(), name="inventory_sku_adjust"),
    path("skus/<uuid:pk>/count/", views.SkuCountView.as_view(), name="inventory_sku_count"),
    path("stock/", views.StockView.as_view(), name="inventory_stock"),
    path("listings/", views.ListingsView.as_view(), name="inventory_listings"),
    path("listings/<uuid:pk>/map/", views.ListingMapView.as_view(), name="inventory_listing_map"),
    path("listings/create-skus/", views.ListingsCreateSkusView.as_view(), name="inventory_listings_create_skus"),
    path("ledger/", views.LedgerView.as_view(), name="inventory_ledger"),
    path("warehouses/", views.WarehousesView.as_view(), name="inventory_warehouses"),
    path("warehouses/new/", views.WarehouseCreateView.as_view(), name="inventory_warehouse_create"),
    path("warehouses/<uuid:pk>/", views.WarehouseDetailView.as_view(), name="inventory_warehouse_detail"),
    path("warehouses/<uuid:pk>/links/", views.WarehouseLinkAddView.as_view(), name="inventory_warehouse_link_add"),
    path(
        "warehouse-links/<uuid:pk>/remove/",
        views.WarehouseLinkRemoveView.as_view(),
        name="inventory_warehouse_link_remove",
    ),
    path("import/", views.ImportView.as_view(), name="inventory_import"),
    path("export/", views.ExportView.as_view(), name="inventory_export"),
]
