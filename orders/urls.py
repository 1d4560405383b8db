from django.urls import path

from orders import views

urlpatterns = [
    path("", views.OrderListView.as_view(), name="orders_home"),
    path("<uuid:pk>/", views.OrderDetailView.as_view(), name="orders_detail"),
]
