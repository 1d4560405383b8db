from rest_framework.routers import DefaultRouter

from shipping.api.views import LabelBatchViewSet

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("label-batches", LabelBatchViewSet, basename="labelbatch")
urlpatterns = router.urls
