from django.urls import path

from shipping import views

urlpatterns = [
    path("", views.ShippingHomeView.as_view(), name="shipping_home"),
]
