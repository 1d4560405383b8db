"""The planner's statistics of a table that a bulk write fills are refreshed each time the table has doubled: a
logarithmic number of ANALYZE runs, so that PostgreSQL never plans a lookup for a table it believes nearly empty
while it holds more than twice that (docs/adr/0030)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from erp.db import ANALYZE_FUNCTION, PlannerStatistics

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

ANALYSE = f"SELECT {ANALYZE_FUNCTION}(ARRAY['orders_order','orders_orderline'])"


def analysed(statistics: PlannerStatistics, created: int) -> list[str]:
    with CaptureQueriesContext(connection) as sent:
        statistics.written(created)
    return [query["sql"] for query in sent.captured_queries if ANALYZE_FUNCTION in query["sql"]]


def test_statistics_are_refreshed_each_time_the_table_doubles(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(PlannerStatistics, "_rows_estimated", lambda self: 0)  # never analysed: believed empty
    statistics = PlannerStatistics(("orders_order", "orders_orderline"))
    assert analysed(statistics, 600) == []
    assert analysed(statistics, 600) == [ANALYSE]  # 1,200: the first
    assert analysed(statistics, 1_100) == []  # 2,300 < twice 1,200
    assert analysed(statistics, 100) == [ANALYSE]  # 2,400
    assert analysed(statistics, 2_399) == []


def test_a_table_analysed_before_counts_from_what_the_planner_believes_it_holds() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE oid = 'inventory_listing'::regclass")
        (believed,) = cursor.fetchone()
    statistics = PlannerStatistics(("inventory_listing",))
    held = max(int(believed), 0)
    assert analysed(statistics, max(held, PlannerStatistics.FIRST_AFTER) - 1) == []
    assert analysed(statistics, 1) == [f"SELECT {ANALYZE_FUNCTION}(ARRAY['inventory_listing'])"]
