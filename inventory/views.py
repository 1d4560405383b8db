from django.views.generic import TemplateView

from erp.views_base import OrganizationViewMixin


class InventoryHomeView(OrganizationViewMixin, TemplateView):
    template_name = "inventory/home.html"
