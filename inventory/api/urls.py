"""Inventory API routes. Mounted under /api/v1/ by erp/api/urls.py: `path("", include("inventory.api.urls"))`."""

from django.urls import include, path
from rest_framework.routers import DefaultRouter

from inventory.api import views

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("skus", views.SkuViewSet, basename="sku")
router.register("warehouses", views.WarehouseViewSet, basename="warehouse")
router.register("listings", views.ListingViewSet, basename="listing")
router.register("stock-levels", views.StockLevelViewSet, basename="stocklevel")
router.register("stock-movements", views.StockMovementViewSet, basename="stockmovement")

urlpatterns = [path("", include(router.urls))]
