from rest_framework import pagination


class CursorPagination(pagination.CursorPagination):
    """Stable under inserts, constant cost at any depth. Keys are UUIDv7, so `-id` is newest first."""

    ordering = "-id"
    page_size_query_param = "page_size"
    max_page_size = 500
