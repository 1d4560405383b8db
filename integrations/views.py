from django.views.generic import TemplateView

from erp.views_base import OrganizationViewMixin


class StoresHomeView(OrganizationViewMixin, TemplateView):
    template_name = "stores/home.html"
