from django.urls import path

from integrations import views

urlpatterns = [
    path("", views.StoresView.as_view(), name="stores_home"),
    path("tiktok/connect/", views.StoreConnectView.as_view(), name="stores_connect_tiktok"),
    path("tiktok/callback/", views.StoreCallbackView.as_view(), name="stores_callback_tiktok"),
    path("<uuid:pk>/", views.StoreDetailView.as_view(), name="stores_detail"),
    path("<uuid:pk>/sync/", views.StoreSyncNowView.as_view(), name="stores_sync_now"),
]
