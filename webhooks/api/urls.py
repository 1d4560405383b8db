from rest_framework.routers import DefaultRouter

from webhooks.api.views import WebhookEndpointViewSet

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("webhook-endpoints", WebhookEndpointViewSet, basename="webhookendpoint")
urlpatterns = router.urls
