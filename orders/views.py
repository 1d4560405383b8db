from django.views.generic import TemplateView

from erp.views_base import OrganizationViewMixin


class OrdersHomeView(OrganizationViewMixin, TemplateView):
    template_name = "orders/home.html"
