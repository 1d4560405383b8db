from django.urls import path

from integrations import views

urlpatterns = [
    path("", views.StoresView.as_view(), name="stores_home"),
    # The callback is the redirect URL registered with each platform's app: /stores/<platform>/callback/.
    path("<slug:platform>/connect/", views.StoreConnectView.as_view(), name="stores_connect"),
    path("<slug:platform>/callback/", views.StoreCallbackView.as_view(), name="stores_callback"),
    path("<uuid:pk>/", views.StoreDetailView.as_view(), name="stores_detail"),
    path("<uuid:pk>/sync/", views.StoreSyncNowView.as_view(), name="stores_sync_now"),
]
