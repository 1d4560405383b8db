"""Who is acting: a person, a partner system's API key, or Dropline itself. Services take one for the audit log."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from erp.models import APIKey, User


@dataclass(frozen=True)
class Actor:
    label: str
    user: User | None = None
    api_key: APIKey | None = None
    ip_address: str | None = None

    @classmethod
    def for_user(cls, user: User, ip_address: str | None = None) -> Actor:
        return cls(label=user.email, user=user, ip_address=ip_address)

    @classmethod
    def for_api_key(cls, api_key: APIKey, ip_address: str | None = None) -> Actor:
        return cls(label=f"API key “{api_key.name}” ({api_key.prefix})", api_key=api_key, ip_address=ip_address)

    @classmethod
    def system(cls, what: str = "Dropline") -> Actor:
        return cls(label=what)
