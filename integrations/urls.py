from django.urls import path

from integrations import views

urlpatterns = [
    path("", views.StoresHomeView.as_view(), name="stores_home"),
]
