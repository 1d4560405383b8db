"""The supplier portal (`/supplier/`): one supplier warehouse's label handoffs."""

from django.urls import path

from shipping.views import handoffs

urlpatterns = [
    path("", handoffs.SupplierHomeView.as_view(), name="supplier_home"),
    path("handoffs/<uuid:pk>/", handoffs.SupplierHandoffView.as_view(), name="supplier_handoff"),
    path("own-label/", handoffs.SupplierOwnLabelView.as_view(), name="supplier_own_label"),
]
