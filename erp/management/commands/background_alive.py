"""`manage.py background_alive --worker|--beat [--max-age N]`: a liveness probe for a worker's or beat's container.

Exits 0 while the process's liveness file is fresher than --max-age seconds, 1 otherwise (erp/liveness.py). It
reads one file and touches neither the database nor the broker: an outage of either is not fixed by a restart.
"""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from erp.liveness import Role, liveness_age, liveness_path

DEFAULT_MAX_AGE = {"worker": 60, "beat": 120}  # heartbeats every 2 s; beat ticks at least every 5 s here


class Command(BaseCommand):
    help = "Exit 0 if this container's Celery worker (or beat) is alive, 1 if not: for liveness probes."

    def add_arguments(self, parser: CommandParser) -> None:
        role = parser.add_mutually_exclusive_group(required=True)
        role.add_argument("--worker", action="store_const", const="worker", dest="role")
        role.add_argument("--beat", action="store_const", const="beat", dest="role")
        parser.add_argument("--max-age", type=float, default=None, help="seconds (default: worker 60, beat 120)")

    def handle(self, *args: Any, role: Role, max_age: float | None, **options: Any) -> None:
        limit = DEFAULT_MAX_AGE[role] if max_age is None else max_age
        age = liveness_age(role)
        if age is None:
            self.stderr.write(f"{role}: not alive: {liveness_path(role)} does not exist (not started yet?)")
            sys.exit(1)
        if age > limit:
            self.stderr.write(f"{role}: not alive: last sign of life {age:.0f} s ago (limit {limit:.0f} s)")
            sys.exit(1)
        self.stdout.write(f"{role}: alive ({age:.0f} s ago)")
