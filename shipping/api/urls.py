from django.urls import path
from rest_framework.routers import DefaultRouter

from shipping.api.handoffs import HandoffDocumentView, HandoffViewSet, OwnLabelOrderViewSet
from shipping.api.reports import AtRiskReportView, ComplianceReportView
from shipping.api.routing import OrderRerouteView
from shipping.api.rules import RuleViewSet
from shipping.api.views import LabelBatchDocumentsView, LabelBatchDocumentView, LabelBatchViewSet

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("label-batches", LabelBatchViewSet, basename="labelbatch")
router.register("handoffs", HandoffViewSet, basename="handoff")
router.register("own-label-orders", OwnLabelOrderViewSet, basename="ownlabelorder")
router.register("rules", RuleViewSet, basename="rule")
urlpatterns = [
    path("label-batches/<uuid:pk>/documents/", LabelBatchDocumentsView.as_view(), name="labelbatch-documents"),
    path(
        "label-batches/<uuid:pk>/documents/<slug:kind>/",
        LabelBatchDocumentView.as_view(),
        name="labelbatch-document",
    ),
    path("reports/compliance/", ComplianceReportView.as_view(), name="report-compliance"),
    path("reports/at-risk/", AtRiskReportView.as_view(), name="report-at-risk"),
    path("orders/<uuid:pk>/reroute/", OrderRerouteView.as_view(), name="order-reroute"),
    path("handoffs/<uuid:pk>/documents/<slug:kind>/", HandoffDocumentView.as_view(), name="handoff-document"),
    *router.urls,
]
