"""Keyset pages for the order list: cursor links like DRF's CursorPagination, in the order the caller chose
(`ordering=ship_by|-placed_at|placed_at`), with NULL deadlines last and no COUNT."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from rest_framework.exceptions import NotFound
from rest_framework.pagination import BasePagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param

from orders import selectors
from orders.models import Order


class OrderKeysetPagination(BasePagination):
    cursor_query_param = "cursor"
    page_size_query_param = "page_size"
    page_size = 50
    max_page_size = 500

    def ordering(self, request: Request) -> str:
        ordering = request.query_params.get("ordering")
        if ordering in selectors.ORDERINGS:
            return ordering
        return selectors.default_ordering(request.query_params.get("status"))

    def get_page_size(self, request: Request) -> int:
        try:
            size = int(request.query_params.get(self.page_size_query_param, self.page_size))
        except (TypeError, ValueError):
            return self.page_size
        return max(1, min(size, self.max_page_size))

    def paginate_queryset(self, queryset: QuerySet[Order], request: Request, view: Any = None) -> list[Order]:
        self.request = request
        try:
            self.page = selectors.orders_page(
                queryset,
                ordering=self.ordering(request),
                cursor=request.query_params.get(self.cursor_query_param),
                size=self.get_page_size(request),
                # The view's filters leave the search and the SKU to the page (orders.filters.OrderPageFilter).
                search=request.query_params.get("q", ""),
                sku=request.query_params.get("sku", ""),
            )
        except selectors.InvalidCursor as error:
            raise NotFound("Invalid cursor.") from error
        return self.page.orders

    def _link(self, cursor: str | None) -> str | None:
        if cursor is None:
            return None
        return replace_query_param(self.request.build_absolute_uri(), self.cursor_query_param, cursor)

    def get_paginated_response(self, data: Any) -> Response:
        return Response(
            {
                "next": self._link(self.page.next_cursor),
                "previous": self._link(self.page.previous_cursor),
                "results": data,
            }
        )

    def first_page_link(self) -> str:
        return remove_query_param(self.request.build_absolute_uri(), self.cursor_query_param)

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        return {
            "type": "object",
            "required": ["results"],
            "properties": {
                "next": {"type": "string", "nullable": True, "format": "uri"},
                "previous": {"type": "string", "nullable": True, "format": "uri"},
                "results": schema,
            },
        }

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        return [
            {
                "name": self.cursor_query_param,
                "required": False,
                "in": "query",
                "description": "The pagination cursor: follow the `next` and `previous` links.",
                "schema": {"type": "string"},
            },
            {
                "name": self.page_size_query_param,
                "required": False,
                "in": "query",
                "description": f"Results per page (default {self.page_size}, at most {self.max_page_size}).",
                "schema": {"type": "integer"},
            },
        ]
