"""Orders API routes. Mounted under /api/v1/ by erp/api/urls.py: `path("", include("orders.api.urls"))`."""

from django.urls import include, path
from rest_framework.routers import DefaultRouter

from orders.api.views import OrderViewSet

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("orders", OrderViewSet, basename="order")

urlpatterns = [path("", include(router.urls))]
