"""Which adapter serves which platform. `integrations.apps` registers the built-in adapters at start-up; tests may
register their own (a fake channel) and remove it again. The rest of Dropline reaches an adapter only through
`adapter_for(store.platform)` or, for a connected store, `integrations.services.store_client`."""

from __future__ import annotations

from integrations.base import Capability, ChannelAdapter, FulfilmentProgram
from integrations.errors import NotSupported

_adapters: dict[str, ChannelAdapter] = {}


def register(adapter: ChannelAdapter) -> None:
    """Make `adapter` serve its platform (replacing any earlier one: the last registration wins)."""
    _adapters[adapter.platform] = adapter


def unregister(platform: str) -> None:
    _adapters.pop(platform, None)


def adapter_for(platform: str) -> ChannelAdapter:
    """The adapter of this platform; NotSupported for a platform no adapter serves (e.g. manual orders)."""
    adapter = _adapters.get(platform)
    if adapter is None:
        raise NotSupported(platform, "a channel connection (no adapter is registered for it)")
    return adapter


def has_capability(platform: str, capability: Capability) -> bool:
    """Whether this platform's adapter offers `capability`; False for a platform with no adapter."""
    adapter = _adapters.get(platform)
    return adapter is not None and capability in adapter.capabilities


def platforms_with(capability: Capability) -> list[str]:
    """Every platform whose adapter offers `capability` (for queries such as "stores whose stock is pushed")."""
    return sorted(platform for platform, adapter in _adapters.items() if capability in adapter.capabilities)


def registered_platforms() -> list[str]:
    return sorted(_adapters)


def platform_name(platform: str) -> str:
    """The platform as people read it ("TikTok"); the platform value itself when no adapter serves it."""
    adapter = _adapters.get(platform)
    return adapter.name if adapter is not None else platform


def fulfilment_program(platform: str) -> FulfilmentProgram:
    """The platform's own fulfilment as its sellers name it ("Fulfilled by TikTok", FBT); "Fulfilled by <platform>"
    for a platform whose adapter names none or that no adapter serves (a warehouse outlives its adapter)."""
    adapter = _adapters.get(platform)
    program = adapter.fulfilment_program if adapter is not None else None
    return program or FulfilmentProgram(name=f"Fulfilled by {platform_name(platform)}")
