"""The supplier portal (`/supplier/`): one supplier warehouse's label handoffs."""

from django.urls import path

from shipping import views_handoffs

urlpatterns = [
    path("", views_handoffs.SupplierHomeView.as_view(), name="supplier_home"),
    path("handoffs/<uuid:pk>/", views_handoffs.SupplierHandoffView.as_view(), name="supplier_handoff"),
]
