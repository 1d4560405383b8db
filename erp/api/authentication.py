from typing import Any

from django.contrib.auth.models import AnonymousUser
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from erp.models import APIKey
from erp.services import api_key_authenticate

KEYWORD = "Api-Key"


class APIKeyAuthentication(authentication.BaseAuthentication):
    """`Authorization: Api-Key dl_<prefix>_<secret>`. The request runs as the key's organization, with no user."""

    def authenticate(self, request: Request) -> tuple[AnonymousUser, APIKey] | None:
        header = authentication.get_authorization_header(request).decode("latin-1")
        keyword, _, raw_key = header.partition(" ")
        if keyword != KEYWORD:
            return None
        api_key = api_key_authenticate(raw_key=raw_key.strip())
        if api_key is None:
            raise exceptions.AuthenticationFailed("Invalid or revoked API key.")
        return AnonymousUser(), api_key

    def authenticate_header(self, request: Request) -> str:
        return KEYWORD


class APIKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = APIKeyAuthentication
    name = "ApiKeyAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Api-Key dl_<prefix>_<secret>` — create keys under Settings → API keys.",
        }
