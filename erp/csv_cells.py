"""Every CSV file Dropline writes goes through `csv_writer`: its text cells cannot run as spreadsheet formulas.

A cell that starts with = + - @, a tab or a carriage return is a formula to Excel, LibreOffice and Google Sheets
(OWASP "CSV Injection"): a SKU named `=HYPERLINK("http://evil","click")` would become a live link, or worse, in the
seller's spreadsheet. Such text cells get a leading apostrophe, which spreadsheets show as text and do not display.

Only text is neutralized: numbers (int, Decimal, float) are written as numbers, so a negative margin stays a number
a spreadsheet can sum. A number must therefore reach the writer as a number, not pre-formatted as a string.
The import side undoes the apostrophe (`csv_cell_unquote`), so an exported file imports back unchanged.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from typing import Any

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def csv_cell_unquote(value: str) -> str:
    """The text a neutralized cell stood for (a cell this module did not write is returned as it is)."""
    if value.startswith("'") and value[1:].startswith(FORMULA_PREFIXES):
        return value[1:]
    return value


class SafeCsvWriter:
    def __init__(self, out: Any, **options: Any) -> None:
        self._writer = csv.writer(out, **options)

    def writerow(self, row: Iterable[Any]) -> Any:
        return self._writer.writerow([csv_cell(value) for value in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def csv_writer(out: Any, **options: Any) -> SafeCsvWriter:
    """`csv.writer(out)` with formula-safe text cells."""
    return SafeCsvWriter(out, **options)
