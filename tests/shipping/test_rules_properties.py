"""Properties of the rule engine's matching, over generated rules and orders (hypothesis): the engine agrees with a
plain reading of each condition, the first match is the enabled matching rule of lowest priority, a rule without
conditions matches everything, disabling a rule never makes another stop matching, and a condition and its
negation never both hold.

Values are drawn from small alphabets (a few countries, states, tags) so that generated rules match generated orders
often enough to say something. Derandomized: CI sees the same examples every run."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from shipping.models import LogisticsRule
from shipping.rules.engine import first_match, matches
from shipping.rules.facts import OrderFacts
from shipping.rules.schema import Conditions

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
COUNTRIES = ("US", "GB", "DE")
STATES = ("TX", "CA", "ny")
PREFIXES = ("7", "75", "9")
TAGS = ("vip", "fragile", "gift")
SKUS = ("RED-TEE-L", "MUG", "CAP")
PROPERTY = settings(max_examples=100, derandomize=True, deadline=None)

money = st.decimals(min_value=0, max_value=200, places=2, allow_nan=False, allow_infinity=False)


def subset(alphabet: tuple[str, ...]) -> st.SearchStrategy[list[str]]:
    """A non-empty subset of an alphabet, in the JSON shape a rule stores."""
    return st.lists(st.sampled_from(alphabet), min_size=1, max_size=len(alphabet), unique=True)


@st.composite
def condition_sets(draw: st.DrawFn) -> dict[str, Any]:
    """A rule's conditions JSON: any mix of the conditions below, each within the schema's rules (min <= max)."""
    conditions: dict[str, Any] = {}
    if draw(st.booleans()):
        conditions["countries"] = draw(subset(COUNTRIES))
    if draw(st.booleans()):
        conditions["states"] = draw(subset(STATES))
    if draw(st.booleans()):
        conditions["postal_prefixes"] = draw(subset(PREFIXES))
    if draw(st.booleans()):
        conditions["tags_any"] = draw(subset(TAGS))
    if draw(st.booleans()):
        conditions["seller_skus_any"] = draw(subset(SKUS))
    if draw(st.booleans()):
        conditions["has_buyer_message"] = draw(st.booleans())
    low, high = sorted((draw(money), draw(money)))
    if draw(st.booleans()):
        conditions["total_min"] = str(low)
    if draw(st.booleans()):
        conditions["total_max"] = str(high)
    fewest, most = sorted((draw(st.integers(0, 6)), draw(st.integers(0, 6))))
    if draw(st.booleans()):
        conditions["line_count_min"] = fewest
    if draw(st.booleans()):
        conditions["line_count_max"] = most
    return conditions


@st.composite
def orders(draw: st.DrawFn) -> OrderFacts:
    return OrderFacts(
        store_id="0191e3a0-0000-7000-8000-000000000001",
        country=draw(st.sampled_from(COUNTRIES)),
        state=draw(st.sampled_from((*STATES, "NY", "WA"))),
        postal_code=draw(st.sampled_from(("75001", "90210", "10001", ""))),
        total=draw(st.none() | money),
        weight_grams=None,
        max_side_cm=None,
        seller_skus=frozenset(draw(st.lists(st.sampled_from(SKUS), max_size=3))),
        product_ids=frozenset(),
        line_count=draw(st.integers(0, 6)),
        delivery_option_name="Standard shipping",
        ship_by=NOW + timedelta(hours=10),
        has_buyer_message=draw(st.booleans()),
        tags=frozenset(draw(st.lists(st.sampled_from(TAGS), max_size=3))),
    )


def holds(conditions: dict[str, Any], f: OrderFacts) -> bool:
    """The oracle: each condition as the rules screen explains it, read literally and independently of the
    engine."""
    total_min, total_max = conditions.get("total_min"), conditions.get("total_max")
    checks = [
        f.country in conditions.get("countries", [f.country]),
        f.state.casefold() in [s.casefold() for s in conditions.get("states", [f.state])],
        any(f.postal_code.startswith(p) for p in conditions.get("postal_prefixes", [""])),
        any(t in f.tags for t in conditions.get("tags_any", [])) if "tags_any" in conditions else True,
        bool(f.seller_skus & set(conditions["seller_skus_any"])) if "seller_skus_any" in conditions else True,
        conditions.get("has_buyer_message", f.has_buyer_message) == f.has_buyer_message,
        conditions.get("line_count_min", 0) <= f.line_count <= conditions.get("line_count_max", f.line_count),
    ]
    if total_min is not None or total_max is not None:  # an unknown total can satisfy no bound
        checks.append(
            f.total is not None
            and (total_min is None or f.total >= Decimal(total_min))
            and (total_max is None or f.total <= Decimal(total_max))
        )
    return all(checks)


def rule_list(conditions: list[dict[str, Any]], priorities: list[int], enabled: list[bool]) -> list[LogisticsRule]:
    """Unsaved rules (the engine reads only their fields), created one second apart: ties in priority go to the
    older rule."""
    return [
        LogisticsRule(
            name=f"rule {i}",
            priority=priority,
            enabled=on,
            conditions=conds,
            actions={},
            created_at=NOW - timedelta(days=1) + timedelta(seconds=i),
        )
        for i, (conds, priority, on) in enumerate(zip(conditions, priorities, enabled, strict=False))
    ]


rule_sets = st.integers(1, 6).flatmap(
    lambda n: st.tuples(
        st.lists(condition_sets(), min_size=n, max_size=n),
        st.lists(st.integers(0, 4), min_size=n, max_size=n),
        st.lists(st.booleans(), min_size=n, max_size=n),
    )
)


def matched(rule: LogisticsRule, f: OrderFacts) -> bool:
    return matches(Conditions.from_json(rule.conditions), f, NOW)[0]


# ---------------------------------------------------------------------------------------------------- properties
@PROPERTY
@given(conditions=condition_sets(), facts=orders())
def test_the_engine_matches_exactly_when_every_condition_holds(conditions: dict[str, Any], facts: OrderFacts) -> None:
    ok, reasons = matches(Conditions.from_json(conditions), facts, NOW)
    assert ok == holds(conditions, facts)
    # One reason a person reads per condition (a min and a max of the same figure are one), or "no conditions".
    figures = {key.removesuffix("_min").removesuffix("_max") for key in conditions}
    assert len(reasons) == max(len(figures), 1)


@PROPERTY
@given(facts=orders())
def test_a_rule_without_conditions_matches_every_order(facts: OrderFacts) -> None:
    assert matches(Conditions.from_json({}), facts, NOW)[0]


@PROPERTY
@given(rules=rule_sets, facts=orders())
def test_the_first_match_is_the_enabled_matching_rule_of_lowest_priority(
    rules: tuple[list[dict[str, Any]], list[int], list[bool]], facts: OrderFacts
) -> None:
    candidates = rule_list(*rules)
    decision = first_match(candidates, facts, NOW)
    eligible = [r for r in candidates if r.enabled and holds(r.conditions, facts)]
    if not eligible:
        assert decision is None
        return
    expected = min(eligible, key=lambda r: (r.priority, r.created_at))
    assert decision is not None
    assert decision.rule is expected


@PROPERTY
@given(rules=rule_sets, facts=orders(), which=st.integers(0, 5))
def test_disabling_a_rule_never_makes_another_rule_stop_matching(
    rules: tuple[list[dict[str, Any]], list[int], list[bool]], facts: OrderFacts, which: int
) -> None:
    candidates = rule_list(*rules)
    before = {r.name: matched(r, facts) for r in candidates if r.enabled}
    winner = first_match(candidates, facts, NOW)
    disabled = candidates[which % len(candidates)]
    disabled.enabled = False
    after = {r.name: matched(r, facts) for r in candidates if r.enabled}
    assert all(after[name] == before[name] for name in after)
    # And the winner changes only when the winner itself was disabled.
    now_wins = first_match(candidates, facts, NOW)
    if winner is not None and winner.rule is not disabled:
        assert now_wins is not None
        assert now_wins.rule is winner.rule


@PROPERTY
@given(
    facts=orders(),
    flag=st.booleans(),
    amount=st.decimals(min_value=Decimal("0.01"), max_value=200, places=2),
    lines=st.integers(1, 6),
    countries=subset(COUNTRIES),
)
def test_a_condition_and_its_negation_never_both_match(
    facts: OrderFacts, flag: bool, amount: Decimal, lines: int, countries: list[str]
) -> None:
    below = amount - Decimal("0.01")
    pairs = [
        ({"has_buyer_message": flag}, {"has_buyer_message": not flag}),
        ({"total_min": str(amount)}, {"total_max": str(below)}),
        ({"line_count_min": lines}, {"line_count_max": lines - 1}),
        ({"countries": countries}, {"countries": [c for c in COUNTRIES if c not in countries] or ["FR"]}),
    ]
    for condition, negation in pairs:
        one, other = (matches(Conditions.from_json(c), facts, NOW)[0] for c in (condition, negation))
        assert not (one and other), (condition, negation)
        if condition != {"total_min": str(amount)} or facts.total is not None:  # an unknown total satisfies neither
            assert one or other, (condition, negation)
