from django.urls import path

from inventory import views

urlpatterns = [
    path("", views.InventoryHomeView.as_view(), name="inventory_home"),
]
