"""Stores API routes. Mounted under /api/v1/ by erp/api/urls.py: `path("", include("integrations.api.urls"))`."""

from django.urls import include, path
from rest_framework.routers import DefaultRouter

from integrations.api.views import StoreViewSet

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("stores", StoreViewSet, basename="store")

urlpatterns = [path("", include(router.urls))]
