from django.views.generic import TemplateView

from erp.views_base import OrganizationViewMixin


class ShippingHomeView(OrganizationViewMixin, TemplateView):
    template_name = "shipping/home.html"
