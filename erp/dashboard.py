"""Dashboard cards contributed by each app. erp sits at the bottom and imports no app above it, so the apps that
own the figures (orders, inventory, shipping) register a provider at startup and the dashboard asks them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.http import HttpRequest


@dataclass(frozen=True)
class Card:
    label: str
    value: str
    hint: str = ""
    url: str = ""
    tone: str = ""  # "", "ok", "warn", "bad": how the value should read at a glance
    order: int = 100


CardProvider = Callable[[HttpRequest], list[Card]]
_providers: list[CardProvider] = []


def register(provider: CardProvider) -> CardProvider:
    _providers.append(provider)
    return provider


def cards_for(request: HttpRequest) -> list[Card]:
    return sorted((card for provider in _providers for card in provider(request)), key=lambda card: card.order)


@dataclass(frozen=True)
class SetupStep:
    """One step of "Get set up", with whether this organization has done it."""

    title: str
    body: str
    url: str
    action: str
    done: bool
    order: int = 100


SetupProvider = Callable[[HttpRequest], list[SetupStep]]
_setup_providers: list[SetupProvider] = []


def register_setup(provider: SetupProvider) -> SetupProvider:
    _setup_providers.append(provider)
    return provider


def setup_steps_for(request: HttpRequest) -> list[SetupStep]:
    return sorted((step for provider in _setup_providers for step in provider(request)), key=lambda step: step.order)
