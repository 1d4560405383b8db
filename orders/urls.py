from django.urls import path

from orders import views

urlpatterns = [
    path("", views.OrderListView.as_view(), name="orders_home"),
    path("<uuid:pk>/", views.OrderDetailView.as_view(), name="orders_detail"),
    path("<uuid:pk>/mark-shipped/", views.OrderMarkShippedView.as_view(), name="orders_mark_shipped"),
    path("seller-shipping/import/", views.SellerShipmentImportView.as_view(), name="orders_seller_shipping_import"),
]
