"""What every `migrate` installs as the tables' owner (erp.apps): row-level security policies and the owner's ANALYZE
function. Two `migrate` runs may meet (two containers starting at once, a bench's worker processes): they take turns
instead of failing one with PostgreSQL's "tuple concurrently updated"."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections

from erp.apps import _owner_objects_install
from erp.db import ANALYZE_FUNCTION

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_two_migrate_runs_at_once_install_the_owners_objects_one_after_the_other() -> None:
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def migrate_ended() -> None:
        try:
            start.wait(10)
            for _ in range(25):  # without the lock, two of these in a row failed within a few rounds
                _owner_objects_install("default")
        except BaseException as error:  # reported below, whatever it is
            errors.append(error)
        finally:
            connections["default"].close()

    runs = [threading.Thread(target=migrate_ended) for _ in range(2)]
    for run in runs:
        run.start()
    for run in runs:
        run.join(60)
    assert errors == []
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_proc WHERE proname = %s", [ANALYZE_FUNCTION])
        assert cursor.fetchone() == (1,)
