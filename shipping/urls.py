from django.urls import path

from shipping import views, views_at_risk, views_compliance, views_handoffs, views_pickup, views_rules

urlpatterns = [
    path("", views.ShippingHomeView.as_view(), name="shipping_home"),
    path("scan/", views.ScanView.as_view(), name="shipping_scan"),
    path("scan/override/", views.ScanOverrideView.as_view(), name="shipping_scan_override"),
    path("scan/station/", views.ScanStationView.as_view(), name="shipping_scan_station"),
    path("batches/new/", views.BatchCreateView.as_view(), name="shipping_batch_create"),
    path("batches/<uuid:pk>/", views.BatchDetailView.as_view(), name="shipping_batch"),
    path("batches/<uuid:pk>/retry/", views.BatchRetryView.as_view(), name="shipping_batch_retry"),
    path("batches/<uuid:pk>/labels.pdf", views.BatchDocumentView.as_view(kind="labels"), name="shipping_batch_labels"),
    path(
        "batches/<uuid:pk>/pick-list.pdf",
        views.BatchDocumentView.as_view(kind="pick-list"),
        name="shipping_batch_pick_list",
    ),
    path(
        "batches/<uuid:pk>/labels-and-slips.pdf",
        views.BatchDocumentView.as_view(kind="slips"),
        name="shipping_batch_slips",
    ),
    path("at-risk/", views_at_risk.AtRiskView.as_view(), name="shipping_at_risk"),
    path("compliance/", views_compliance.ComplianceView.as_view(), name="shipping_compliance"),
    path("spend/", views_compliance.SpendView.as_view(), name="shipping_spend"),
    path("spend.csv", views_compliance.SpendCsvView.as_view(), name="shipping_spend_csv"),
    path("handoffs/", views_handoffs.HandoffsView.as_view(), name="shipping_handoffs"),
    path("handoffs/<uuid:pk>/", views_handoffs.HandoffDetailView.as_view(), name="shipping_handoff"),
    path("handoffs/access/", views_handoffs.SupplierAccessView.as_view(), name="shipping_supplier_access"),
    path("pickups/", views_pickup.PickupsView.as_view(), name="shipping_pickups"),
    path("pickups/<uuid:pk>/manifest.pdf", views_pickup.PickupManifestView.as_view(), name="shipping_pickup_manifest"),
    path("rules/", views_rules.RulesListView.as_view(), name="shipping_rules"),
    path("rules/new/", views_rules.RuleFormView.as_view(), name="shipping_rule_create"),
    path("rules/reorder/", views_rules.RulesReorderView.as_view(), name="shipping_rules_reorder"),
    path("rules/apply/", views_rules.RulesApplyView.as_view(), name="shipping_rules_apply"),
    path("rules/test/", views_rules.RuleTestView.as_view(), name="shipping_rules_test"),
    path("rules/<uuid:pk>/", views_rules.RuleFormView.as_view(), name="shipping_rule"),
    path("rules/<uuid:pk>/move/", views_rules.RuleMoveView.as_view(), name="shipping_rule_move"),
    path("rules/<uuid:pk>/toggle/", views_rules.RuleToggleView.as_view(), name="shipping_rule_toggle"),
]
