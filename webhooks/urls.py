from django.urls import path

from webhooks import views

urlpatterns = [
    path("", views.WebhooksView.as_view(), name="settings_webhooks"),
    path("<uuid:pk>/", views.WebhookEndpointView.as_view(), name="settings_webhook_endpoint"),
    path("<uuid:pk>/delete/", views.WebhookEndpointDeleteView.as_view(), name="settings_webhook_endpoint_delete"),
]
