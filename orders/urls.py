from django.urls import path

from orders import views, views_returns

urlpatterns = [
    path("", views.OrderListView.as_view(), name="orders_home"),
    path("<uuid:pk>/", views.OrderDetailView.as_view(), name="orders_detail"),
    path("<uuid:pk>/mark-shipped/", views.OrderMarkShippedView.as_view(), name="orders_mark_shipped"),
    path("returns/receive/", views_returns.ReturnReceiveView.as_view(), name="orders_return_receive"),
    path("seller-shipping/import/", views.SellerShipmentImportView.as_view(), name="orders_seller_shipping_import"),
]
