from rest_framework.routers import DefaultRouter

from aftersales.api.views import CancellationRequestViewSet, ReturnRequestViewSet

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("cancellation-requests", CancellationRequestViewSet, basename="cancellationrequest")
router.register("return-requests", ReturnRequestViewSet, basename="returnrequest")
urlpatterns = router.urls
