"""Django's PostgreSQL backend, plus the tenant scope copied onto the connection for row-level security.

Before each statement, the organization in scope (erp.tenancy) and whether the code runs `cross_tenant()` are
compared with what this connection last told PostgreSQL; when they differ, one `set_config` call updates the
session's `dropline.organization_id` and `dropline.cross_tenant`, which the policies read
(docs/adr/0023-row-level-security.md). Web requests, API calls, Celery tasks and management commands are covered
with no per-call code, because each of them already opens the scope.

The settings are per session, not per transaction (`set_config(..., false)`): a statement in autocommit mode is its
own transaction, and a transaction-local value would need the call before every one. A reused connection
(CONN_MAX_AGE, a psycopg pool) cannot carry one request's organization into the next: the next statement is
compared first, and a new or pooled connection starts with nothing known, so its first statement sets both. A
rolled-back transaction or savepoint also undoes a `set_config` made inside it, so a rollback forgets what was set.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db.backends.postgresql import base

SAVEPOINT_STATEMENTS = ("SAVEPOINT ", "RELEASE SAVEPOINT ", "ROLLBACK TO SAVEPOINT ")
SCOPE_SQL = "SELECT set_config('dropline.organization_id', %s, false), set_config('dropline.cross_tenant', %s, false)"


class DatabaseWrapper(base.DatabaseWrapper):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._scope_on_connection: tuple[str, bool] | None = None  # None: unknown, set before the next statement
        # First in the list: outermost, so it runs before any wrapper a test or library adds.
        self.execute_wrappers.insert(0, self._copy_scope)

    def _copy_scope(self, execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
        # Imported here: erp.tenancy defines a model, and defining a model needs this backend loaded.
        from erp.tenancy import database_scope

        scope = database_scope()
        # Savepoint statements touch no table, and one may roll back an aborted transaction, which refuses any
        # other statement first: they run as they are, whatever the scope.
        if scope != self._scope_on_connection and not sql.startswith(SAVEPOINT_STATEMENTS):
            organization_id, cross_tenant = scope
            # A cursor of its own: the statement's may be a server-side (named) cursor for .iterator().
            with self.connection.cursor() as cursor:
                cursor.execute(SCOPE_SQL, (organization_id, "on" if cross_tenant else "off"))
            self._scope_on_connection = scope
        return execute(sql, params, many, context)

    def get_new_connection(self, conn_params: dict[str, Any]) -> Any:
        self._scope_on_connection = None
        return super().get_new_connection(conn_params)

    def _rollback(self) -> None:
        try:
            super()._rollback()  # type: ignore[misc]  # not in django-stubs
        finally:
            self._scope_on_connection = None

    def _savepoint_rollback(self, sid: str) -> None:
        try:
            super()._savepoint_rollback(sid)  # type: ignore[misc]  # not in django-stubs
        finally:
            self._scope_on_connection = None
