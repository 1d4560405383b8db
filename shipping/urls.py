from django.urls import path

from shipping.views import at_risk, batches, compliance, handoffs, packing, pickup, rules

urlpatterns = [
    path("", batches.ShippingHomeView.as_view(), name="shipping_home"),
    path("scan/", packing.ScanView.as_view(), name="shipping_scan"),
    path("scan/override/", packing.ScanOverrideView.as_view(), name="shipping_scan_override"),
    path("scan/station/", packing.ScanStationView.as_view(), name="shipping_scan_station"),
    path("batches/new/", batches.BatchCreateView.as_view(), name="shipping_batch_create"),
    path("combine/", batches.CombineView.as_view(), name="shipping_combine"),
    path("combine/refresh/", batches.CombinableRefreshView.as_view(), name="shipping_combinable_refresh"),
    path("batches/<uuid:pk>/", batches.BatchDetailView.as_view(), name="shipping_batch"),
    path("batches/<uuid:pk>/retry/", batches.BatchRetryView.as_view(), name="shipping_batch_retry"),
    path(
        "batches/<uuid:pk>/labels.pdf", batches.BatchDocumentView.as_view(kind="labels"), name="shipping_batch_labels"
    ),
    path(
        "batches/<uuid:pk>/pick-list.pdf",
        batches.BatchDocumentView.as_view(kind="pick-list"),
        name="shipping_batch_pick_list",
    ),
    path(
        "batches/<uuid:pk>/labels-and-slips.pdf",
        batches.BatchDocumentView.as_view(kind="slips"),
        name="shipping_batch_slips",
    ),
    path("at-risk/", at_risk.AtRiskView.as_view(), name="shipping_at_risk"),
    path("compliance/", compliance.ComplianceView.as_view(), name="shipping_compliance"),
    path("spend/", compliance.SpendView.as_view(), name="shipping_spend"),
    path("spend.csv", compliance.SpendCsvView.as_view(), name="shipping_spend_csv"),
    path("handoffs/", handoffs.HandoffsView.as_view(), name="shipping_handoffs"),
    path("handoffs/<uuid:pk>/", handoffs.HandoffDetailView.as_view(), name="shipping_handoff"),
    path("handoffs/access/", handoffs.SupplierAccessView.as_view(), name="shipping_supplier_access"),
    path("pickups/", pickup.PickupsView.as_view(), name="shipping_pickups"),
    path("pickups/<uuid:pk>/manifest.pdf", pickup.PickupManifestView.as_view(), name="shipping_pickup_manifest"),
    path("rules/", rules.RulesListView.as_view(), name="shipping_rules"),
    path("rules/new/", rules.RuleFormView.as_view(), name="shipping_rule_create"),
    path("rules/reorder/", rules.RulesReorderView.as_view(), name="shipping_rules_reorder"),
    path("rules/apply/", rules.RulesApplyView.as_view(), name="shipping_rules_apply"),
    path("rules/test/", rules.RuleTestView.as_view(), name="shipping_rules_test"),
    path("rules/<uuid:pk>/", rules.RuleFormView.as_view(), name="shipping_rule"),
    path("rules/<uuid:pk>/move/", rules.RuleMoveView.as_view(), name="shipping_rule_move"),
    path("rules/<uuid:pk>/toggle/", rules.RuleToggleView.as_view(), name="shipping_rule_toggle"),
]
