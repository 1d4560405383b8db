"""Geometry for the server-rendered charts (inline SVG, no JavaScript): stacked bars per day with an optional line.
The template (templates/partials/chart_bars.html) only draws what this computes; colours are CSS classes that read
the stylesheet's variables."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

Number = int | float | Decimal


@dataclass(frozen=True)
class Series:
    label: str
    css: str  # chart-<name>: the colour, from the stylesheet
    values: Sequence[Number]


@dataclass(frozen=True)
class Rect:
    x: float
    y: float
    width: float
    height: float
    css: str
    title: str


@dataclass(frozen=True)
class Tick:
    position: float
    label: str


@dataclass(frozen=True)
class Marker:
    """A vertical line at the start of a category (e.g. the store's cut-off day)."""

    x: float
    label: str
    css: str


@dataclass(frozen=True)
class Band:
    """A shaded span of categories (e.g. the transition period)."""

    x: float
    width: float
    label: str
    css: str


@dataclass(frozen=True)
class BarChart:
    title: str
    description: str
    width: int
    height: int
    left: float
    top: float
    right: float
    bottom: float
    rects: list[Rect]
    y_ticks: list[Tick]
    x_ticks: list[Tick]
    legend: list[Series]
    line_points: str = ""
    line_css: str = ""
    dots: list[tuple[float, float, str]] = field(default_factory=list)
    markers: list[Marker] = field(default_factory=list)
    bands: list[Band] = field(default_factory=list)
    y_label: str = ""
    empty: bool = False

    @property
    def plot_height(self) -> float:
        return self.bottom - self.top

    @property
    def center(self) -> tuple[float, float]:
        return (self.left + self.right) / 2, (self.top + self.bottom) / 2


def nice_ceiling(value: float, max_ticks: int = 5) -> tuple[float, float]:
    """The smallest axis maximum ≥ value made of at most `max_ticks` round steps (1, 2, 2.5 or 5 × 10ⁿ), and the
    step: 21 orders → 25 in steps of 5, 138 dollars → 150 in steps of 50."""
    if value <= 0:
        return float(max_ticks), 1.0
    raw = value / max_ticks
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    return math.ceil(value / step - 1e-9) * step, step


def bar_chart(
    *,
    title: str,
    description: str,
    categories: Sequence[str],
    category_titles: Sequence[str],
    series: Sequence[Series],
    line: Series | None = None,
    label_every: int = 5,
    y_format: Callable[[float], str] = lambda v: f"{v:g}",
    y_label: str = "",
    markers: Sequence[tuple[int, str, str]] = (),
    bands: Sequence[tuple[int, int, str, str]] = (),
    width: int = 880,
    height: int = 280,
) -> BarChart:
    """Stacked bars (one stack per category, series bottom-up) and an optional line over them, on a shared y axis.

    `markers` are (category index, label, css); `bands` are (first index, last index, label, css)."""
    left, top, right, bottom = 56.0, 30.0, width - 12.0, height - 30.0
    n = max(len(categories), 1)
    slot = (right - left) / n
    bar = max(min(slot * 0.7, 28.0), 2.0)
    stack_max = max((sum(float(s.values[i]) for s in series) for i in range(len(categories))), default=0.0)
    line_max = max((float(v) for v in line.values), default=0.0) if line else 0.0
    top_value, step = nice_ceiling(max(stack_max, line_max) * 1.08)  # headroom for the marker labels
    scale = (bottom - top) / top_value

    def y_of(value: float) -> float:
        return bottom - value * scale

    rects = []
    for i, name in enumerate(category_titles):
        x = left + i * slot + (slot - bar) / 2
        base = 0.0
        for s in series:
            value = float(s.values[i])
            if value <= 0:
                continue
            rects.append(
                Rect(
                    x=round(x, 1),
                    y=round(y_of(base + value), 1),
                    width=round(bar, 1),
                    height=round(value * scale, 1),
                    css=s.css,
                    title=f"{name}: {y_format(value)} {s.label}",
                )
            )
            base += value
    y_ticks = [Tick(round(y_of(step * k), 1), y_format(step * k)) for k in range(round(top_value / step) + 1)]
    x_ticks = [
        Tick(round(left + i * slot + slot / 2, 1), label)
        for i, label in enumerate(categories)
        if i % label_every == 0 or i == len(categories) - 1
    ]
    points, dots = "", []
    if line is not None:
        coordinates = [
            (round(left + i * slot + slot / 2, 1), round(y_of(float(v)), 1)) for i, v in enumerate(line.values)
        ]
        points = " ".join(f"{x},{y}" for x, y in coordinates)
        dots = [
            (x, y, f"{category_titles[i]}: {y_format(float(line.values[i]))} {line.label}")
            for i, (x, y) in enumerate(coordinates)
        ]
    return BarChart(
        title=title,
        description=description,
        width=width,
        height=height,
        left=left,
        top=top,
        right=right,
        bottom=bottom,
        rects=rects,
        y_ticks=y_ticks,
        x_ticks=x_ticks,
        legend=[*series, *([line] if line else [])],
        line_points=points,
        line_css=line.css if line else "",
        dots=dots,
        markers=[Marker(round(left + i * slot, 1), label, css) for i, label, css in markers],
        bands=[
            Band(round(left + first * slot, 1), round((last - first + 1) * slot, 1), label, css)
            for first, last, label, css in bands
        ],
        y_label=y_label,
        empty=stack_max == 0 and line_max == 0,
    )
