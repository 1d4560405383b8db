"""Where a webhook may be sent (SSRF rules, docs/webhooks.md): https only, to a public address, checked when the
endpoint is saved AND at every send, where the host is resolved once and the connection goes to the address that
was checked (a DNS answer that changes between the check and the connect cannot point the request inside).

`WEBHOOKS_ALLOW_PRIVATE_NETWORKS` (on with DEBUG and in tests) lifts both rules, for receivers on localhost."""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class UnsafeURL(ValueError):
    """The URL may not receive webhooks; the message says why, for a 400 or a form error."""


@dataclass(frozen=True)
class Target:
    """Where to connect: the URL's host and the checked address to reach it at (None: connect by name)."""

    host: str
    address: str | None


def private_networks_allowed() -> bool:
    return bool(getattr(settings, "WEBHOOKS_ALLOW_PRIVATE_NETWORKS", False))


def address_is_public(address: IPAddress) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global and not (address.is_multicast or address.is_reserved or address.is_unspecified)


def _resolve(host: str, port: int) -> list[IPAddress]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as error:
        raise UnsafeURL(f"The host {host} cannot be resolved ({error}).") from None
    return [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]


def url_check(url: str) -> Target:
    """The target of `url` if webhooks may go there, else UnsafeURL. Resolves the host (a DNS query)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise UnsafeURL("Enter a valid URL.") from None
    allowed_schemes = {"https", "http"} if private_networks_allowed() else {"https"}
    if parts.scheme not in allowed_schemes:
        raise UnsafeURL("The URL must start with https://.")
    if not parts.hostname:
        raise UnsafeURL("The URL has no host.")
    if parts.username or parts.password:
        raise UnsafeURL("The URL may not contain a user name or password; authenticate with the signature.")
    host = parts.hostname
    if private_networks_allowed():
        return Target(host=host, address=None)
    addresses = _resolve(host, port or 443)
    refused = [a for a in addresses if not address_is_public(a)]
    if not addresses or refused:
        shown = ", ".join(sorted({str(a) for a in refused})) or "nothing"
        raise UnsafeURL(
            f"{host} resolves to {shown}: a private, loopback, link-local or reserved address cannot receive webhooks."
        )
    return Target(host=host, address=str(addresses[0]))
