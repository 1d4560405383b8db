from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import DefaultRouter

from erp.api import endpoints, exports

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("members", endpoints.MemberViewSet, basename="member")
router.register("audit-log", endpoints.AuditEntryViewSet, basename="auditentry")
router.register("api-keys", endpoints.APIKeyViewSet, basename="apikey")
router.register("organization/exports", exports.OrganizationExportViewSet, basename="organization-export")

urlpatterns = [
    path("organization/", endpoints.CurrentOrganizationView.as_view(), name="api-organization"),
    path(
        "organization/exports/<uuid:pk>/download/",
        exports.OrganizationExportDownloadView.as_view(),
        name="api-organization-export-download",
    ),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("", include("integrations.api.urls")),
    path("", include("inventory.api.urls")),
    path("", include("orders.api.urls")),
    path("", include("shipping.api.urls")),
    path("", include("aftersales.api.urls")),
    path("", include("webhooks.api.urls")),
    path("", include(router.urls)),
]
