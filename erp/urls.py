from django.contrib.auth import views as auth_views
from django.urls import URLPattern, URLResolver, include, path, re_path

from erp import views, views_data
from erp.api.exceptions import api_not_found
from integrations.views import PlatformWebhookView
from orders.views_replenishment import ReplenishmentCsvView, ReplenishmentView
from shipping.views.handoffs import HandoffLinkView

settings_patterns: list[URLPattern | URLResolver] = [
    path("", views.OrganizationSettingsView.as_view(), name="settings_organization"),
    path("slip-logo/", views.SlipLogoView.as_view(), name="settings_slip_logo"),
    path("export/", views_data.OrganizationExportView.as_view(), name="settings_export"),
    path(
        "export/<uuid:pk>/download/",
        views_data.OrganizationExportDownloadView.as_view(),
        name="settings_export_download",
    ),
    path("delete/", views_data.OrganizationDeleteView.as_view(), name="settings_organization_delete"),
    path("members/", views.MembersView.as_view(), name="settings_members"),
    path("members/<uuid:pk>/role/", views.MemberRoleView.as_view(), name="settings_member_role"),
    path("members/<uuid:pk>/remove/", views.MemberRemoveView.as_view(), name="settings_member_remove"),
    path("invitations/<uuid:pk>/revoke/", views.InvitationRevokeView.as_view(), name="settings_invitation_revoke"),
    path("api-keys/", views.APIKeysView.as_view(), name="settings_api_keys"),
    path("api-keys/<uuid:pk>/revoke/", views.APIKeyRevokeView.as_view(), name="settings_api_key_revoke"),
    path("audit/", views.AuditLogView.as_view(), name="settings_audit"),
    path("webhooks/", include("webhooks.urls")),
]

account_patterns = [
    path("signup/", views.SignUpView.as_view(), name="signup"),
    path(
        "login/",
        auth_views.LoginView.as_view(template_name="accounts/login.html", redirect_authenticated_user=True),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("signup/sent/", views.SignUpSentView.as_view(), name="signup_sent"),
    path("confirm/<str:uidb64>/<str:token>/", views.SignUpConfirmView.as_view(), name="signup_confirm"),
    path("unlock/<str:token>/", views.AccountUnlockView.as_view(), name="account_unlock"),
    path("password-reset/", views.PasswordResetRequestView.as_view(), name="password_reset"),
    path(
        "password-reset/sent/",
        auth_views.PasswordResetDoneView.as_view(template_name="accounts/password_reset_done.html"),
        name="password_reset_done",
    ),
    path(
        "reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(template_name="accounts/password_reset_confirm.html"),
        name="password_reset_confirm",
    ),
    path(
        "reset/done/",
        auth_views.PasswordResetCompleteView.as_view(template_name="accounts/password_reset_complete.html"),
        name="password_reset_complete",
    ),
]

urlpatterns = [
    path("", views.DashboardView.as_view(), name="dashboard"),
    path("healthz", views.healthz, name="healthz"),
    path("readyz", views.readyz, name="readyz"),
    path("metrics", views.metrics, name="metrics"),  # Prometheus, behind METRICS_TOKEN (docs/operations.md)
    path("favicon.ico", views.favicon, name="favicon"),
    path("accounts/", include(account_patterns)),
    path("invitations/<str:token>/", views.InvitationView.as_view(), name="invitation"),
    path("organizations/new/", views.OrganizationCreateView.as_view(), name="organization_create"),
    path("organizations/switch/", views.OrganizationSwitchView.as_view(), name="organization_switch"),
    path("settings/", include(settings_patterns)),
    path("orders/", include("orders.urls")),
    # FBT replenishment reads sales (orders) and FBT stock (inventory): it lives in orders, shown under Inventory.
    path("inventory/replenishment/", ReplenishmentView.as_view(), name="inventory_replenishment"),
    path("inventory/replenishment.csv", ReplenishmentCsvView.as_view(), name="inventory_replenishment_csv"),
    path("inventory/", include("inventory.urls")),
    path("shipping/", include("shipping.urls")),
    path("aftersales/", include("aftersales.urls")),
    path("supplier/", include("shipping.urls_supplier")),
    path("handoffs/link/<str:token>/", HandoffLinkView.as_view(), name="handoff_link"),
    path("stores/", include("integrations.urls")),
    path("webhooks/<str:platform>/", PlatformWebhookView.as_view(), name="platform_webhook"),
    path("api/v1/", include("erp.api.urls")),
    # Unknown API paths: JSON, not the 404 page. A regex that spans lines: `<path:...>` stops at a newline, and
    # a `%0A` in an id sent the request to the HTML page.
    re_path(r"^api/(?P<rest>(?s:.*))\Z", api_not_found, name="api-not-found"),
]

# The API answers Django's own errors in its JSON error body; the dashboard keeps its pages.
handler400 = "erp.api.exceptions.bad_request"
handler500 = "erp.api.exceptions.server_error"
