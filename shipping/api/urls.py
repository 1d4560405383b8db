from django.urls import path
from rest_framework.routers import DefaultRouter

from shipping.api.views import LabelBatchDocumentsView, LabelBatchDocumentView, LabelBatchViewSet

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("label-batches", LabelBatchViewSet, basename="labelbatch")
urlpatterns = [
    path("label-batches/<uuid:pk>/documents/", LabelBatchDocumentsView.as_view(), name="labelbatch-documents"),
    path(
        "label-batches/<uuid:pk>/documents/<slug:kind>/",
        LabelBatchDocumentView.as_view(),
        name="labelbatch-document",
    ),
    *router.urls,
]
