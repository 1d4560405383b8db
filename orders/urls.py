from django.urls import path

from orders import views

urlpatterns = [
    path("", views.OrdersHomeView.as_view(), name="orders_home"),
]
