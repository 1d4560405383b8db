from django.urls import path

from aftersales import views

urlpatterns = [
    path("cancellations/", views.CancellationInboxView.as_view(), name="aftersales_cancellations"),
    path("cancellations/reject/", views.RejectView.as_view(), name="aftersales_cancellations_reject"),
    path("returns/", views.ReturnInboxView.as_view(), name="aftersales_returns"),
    path("returns/reject/", views.ReturnRejectView.as_view(), name="aftersales_returns_reject"),
    path("refresh/", views.RefreshView.as_view(), name="aftersales_refresh"),
    path("orders/<uuid:pk>/cancel/", views.SellerCancelView.as_view(), name="aftersales_seller_cancel"),
]
