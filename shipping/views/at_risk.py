"""Orders at risk: the ranked list of orders that will miss their deadline unless someone acts, with the reason and
the button that fixes each. Thin: shipping.at_risk does the work."""

from __future__ import annotations

from typing import Any

from django.views.generic import TemplateView

from erp.views_base import OrganizationViewMixin
from integrations.models import Store
from inventory.models import Warehouse, WarehouseKind
from shipping.at_risk import alert_thresholds, at_risk_requests, orders_at_risk

PAGE_SIZE = 200


class AtRiskView(OrganizationViewMixin, TemplateView):
    template_name = "shipping/at_risk.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        stores = list(Store.objects.order_by("name").values("pk", "name"))
        warehouses = list(
            Warehouse.objects.exclude(kind=WarehouseKind.PLATFORM).order_by("name").values("pk", "name", "kind")
        )
        # Only ids of this organization's own stores and warehouses filter; anything else is ignored.
        store = next((s for s in stores if str(s["pk"]) == self.request.GET.get("store", "")), None)
        warehouse = next((w for w in warehouses if str(w["pk"]) == self.request.GET.get("warehouse", "")), None)
        at_risk = orders_at_risk(
            organization=self.request.organization,
            store_id=store["pk"] if store else None,
            warehouse_id=warehouse["pk"] if warehouse else None,
        )
        allowed = {perm.name.lower() for perm in self.request.permissions}
        rows = [
            {"order": a, "can_fix": a.primary is not None and a.primary.fix.permission in allowed}
            for a in at_risk[:PAGE_SIZE]
        ]
        return super().get_context_data(
            rows=rows,
            total=len(at_risk),
            late=sum(1 for a in at_risk if a.late),
            stores=stores,
            warehouses=warehouses,
            store=store,
            warehouse=warehouse,
            thresholds=alert_thresholds(),
            requests=at_risk_requests(),
            **kwargs,
        )
