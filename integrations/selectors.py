from django.db.models import QuerySet

from integrations.models import AuthorizationStatus, Platform, SellerAuthorization, Store


def stores_list() -> QuerySet[Store]:
    return Store.objects.exclude(platform=Platform.MANUAL).select_related("authorization").order_by("name")


def authorizations_needing_attention() -> QuerySet[SellerAuthorization]:
    return SellerAuthorization.objects.exclude(status=AuthorizationStatus.ACTIVE).prefetch_related("stores")
