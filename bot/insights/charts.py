"""Charts for the insights pages as self-contained SVG strings, drawn on the server.

The consoles have no build step and load nothing from elsewhere, so a chart is a few
lines of SVG in the page: it prints, it reads without JavaScript, and screen readers get
its <title>. Every text is escaped here; numbers are written by a `fmt` the caller gives
(units and languages are the page's business, shapes are this module's).
"""
from __future__ import annotations

import math
import unicodedata
from datetime import date, timedelta
from html import escape
from typing import Callable, List, Optional, Sequence, Tuple

Formatter = Callable[[float], str]
Point = Tuple[str, Optional[float]]  # (day "YYYY-MM-DD", value)

LINE_WIDTH, LINE_HEIGHT = 640, 220
PLOT_LEFT, PLOT_RIGHT, PLOT_TOP, PLOT_BOTTOM = 64, 12, 14, 30
BAR_WIDTH, BAR_ROW, BAR_LABEL = 640, 26, 180
MAX_X_LABELS = 7


# --- numbers and texts -------------------------------------------------------------------

def number_text(value: Optional[float]) -> str:
    """12,345 / 4.5 / – : thousands grouped, at most one decimal, nothing for no value."""
    if value is None:
        return "–"
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.1f}"


def display_width(text: str) -> int:
    """Columns a text takes: Chinese characters and full-width forms count two."""
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)


def truncate(text: str, max_width: int) -> str:
    """The text cut to `max_width` columns with … when it is longer (labels stay on one
    line whatever the language)."""
    if display_width(text) <= max_width:
        return text
    kept, width = [], 1  # the ellipsis takes one column
    for char in text:
        width += display_width(char)
        if width > max_width:
            break
        kept.append(char)
    return "".join(kept) + "…"


def nice_ticks(top: float, count: int = 4) -> List[float]:
    """Round axis ticks from 0 to at least `top` (0, 250, 500, ... rather than 0, 233, 466)."""
    if top <= 0 or not math.isfinite(top):
        return [0, 1]
    raw = top / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    ticks = [0.0]
    while ticks[-1] < top:
        ticks.append(round(ticks[-1] + step, 10))
    return ticks


def _attr(value: object) -> str:
    return escape(str(value), quote=True)


def _svg(width: float, height: float, title: str, body: List[str], css_class: str) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" class="chart {css_class}" viewBox="0 0 {width:g} {height:g}" '
            f'role="img" aria-label="{_attr(title)}" preserveAspectRatio="xMidYMid meet">'
            f'<title>{escape(title)}</title>' + "".join(body) + "</svg>")


def _empty(width: float, height: float, title: str, empty_text: str, css_class: str) -> str:
    text = (f'<text class="empty" x="{width / 2:g}" y="{height / 2:g}" text-anchor="middle" '
            f'dominant-baseline="middle">{escape(empty_text)}</text>')
    return _svg(width, height, title, [text], css_class + " empty")


def _text(x: float, y: float, text: str, css_class: str, anchor: str = "start") -> str:
    return (f'<text class="{css_class}" x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}">'
            f'{escape(text)}</text>')


# --- the daily line chart ------------------------------------------------------------------

def line_chart(points: Sequence[Point], title: str, *, first_day: Optional[str] = None, day_count: int = 0,
               previous: Sequence[Point] = (), previous_first_day: Optional[str] = None,
               fmt: Formatter = number_text, day_label: Callable[[str], str] = lambda day: day[5:],
               empty_text: str = "–") -> str:
    """A value per day as an area under a line, one dot per day (its <title> says the day
    and value); the previous period, if given, as a dashed line over the same days.

    Days sit where they fall in the period (`first_day`, `day_count`; by default the span of
    the points), so a day a series leaves out (a rate of no messages) is a gap in the dots,
    not a shift of every later day."""
    values = [value for _, value in [*points, *previous] if value is not None]
    known = [(day, value) for day, value in points if value is not None]
    if not known:
        return _empty(LINE_WIDTH, LINE_HEIGHT, title, empty_text, "line-chart")
    first = date.fromisoformat(first_day or known[0][0])
    count = max(day_count, _offset(first, known[-1][0]) + 1)
    earlier = _placed(previous, previous_first_day)
    ticks = nice_ticks(max(max(values), 0))
    frame = _Frame(max(count, max((offset for offset, _ in earlier), default=0) + 1), min(0.0, min(values)),
                   ticks[-1])
    body = _y_axis(frame, ticks, fmt) + _x_labels(frame, first, count, day_label)
    if earlier:
        body.append(f'<polyline class="previous" fill="none" stroke-dasharray="5 4" '
                    f'points="{_coordinates(frame, earlier)}"/>')
    placed = [(_offset(first, day), value) for day, value in known]
    body += _area_and_line(frame, placed)
    body += [_dot(frame, offset, day, value, fmt) for (offset, value), (day, _) in zip(placed, known)]
    return _svg(LINE_WIDTH, LINE_HEIGHT, title, body, "line-chart")


def _offset(first: date, day: str) -> int:
    return (date.fromisoformat(day) - first).days


def _placed(points: Sequence[Point], first_day: Optional[str]) -> List[Tuple[int, float]]:
    """(day offset, value) of the known values, counted from `first_day` (or the first point)."""
    known = [(day, value) for day, value in points if value is not None]
    if not known:
        return []
    first = date.fromisoformat(first_day or known[0][0])
    return [(_offset(first, day), value) for day, value in known]


class _Frame:
    """Where the days and values of a line chart land in the plot area."""

    def __init__(self, count: int, low: float, high: float) -> None:
        self.count, self.low, self.high = count, low, high if high > low else low + 1
        self.width = LINE_WIDTH - PLOT_LEFT - PLOT_RIGHT
        self.height = LINE_HEIGHT - PLOT_TOP - PLOT_BOTTOM
        self.dot_radius = 3 if count <= 62 else 1.2  # a year of days: dots that do not merge into a bar

    def x(self, index: int) -> float:
        if self.count == 1:
            return PLOT_LEFT + self.width / 2
        return PLOT_LEFT + self.width * index / (self.count - 1)

    def y(self, value: float) -> float:
        return PLOT_TOP + self.height * (1 - (value - self.low) / (self.high - self.low))


def _y_axis(frame: _Frame, ticks: List[float], fmt: Formatter) -> List[str]:
    lines = []
    for tick in [tick for tick in ticks if tick >= frame.low]:
        y = frame.y(tick)
        lines.append(f'<line class="grid" x1="{PLOT_LEFT}" x2="{LINE_WIDTH - PLOT_RIGHT}" y1="{y:.1f}" y2="{y:.1f}"/>')
        lines.append(_text(PLOT_LEFT - 6, y + 4, fmt(tick), "tick y-tick", "end"))
    return lines


def _x_labels(frame: _Frame, first: date, count: int, day_label: Callable[[str], str]) -> List[str]:
    """At most MAX_X_LABELS day labels, spread evenly, the first and last always shown."""
    every = max(1, math.ceil((count - 1) / (MAX_X_LABELS - 1))) if count > 1 else 1
    shown = sorted({*range(0, count, every), count - 1})
    if len(shown) > 1 and shown[-1] - shown[-2] < every / 2:
        shown.pop(-2)  # the last label would sit on top of the one before
    y = LINE_HEIGHT - PLOT_BOTTOM + 18
    anchors = {0: "start" if count > 1 else "middle", count - 1: "end" if count > 1 else "middle"}
    return [_text(frame.x(offset), y, day_label((first + timedelta(days=offset)).isoformat()), "tick x-tick",
                  anchors.get(offset, "middle")) for offset in shown]


def _coordinates(frame: _Frame, placed: Sequence[Tuple[int, float]]) -> str:
    return " ".join(f"{frame.x(offset):.1f},{frame.y(value):.1f}" for offset, value in placed)


def _area_and_line(frame: _Frame, placed: Sequence[Tuple[int, float]]) -> List[str]:
    line = _coordinates(frame, placed)
    base = frame.y(max(frame.low, 0))
    area = f"{frame.x(placed[0][0]):.1f},{base:.1f} {line} {frame.x(placed[-1][0]):.1f},{base:.1f}"
    return [f'<polygon class="area" points="{area}"/>', f'<polyline class="current" fill="none" points="{line}"/>']


def _dot(frame: _Frame, offset: int, day: str, value: float, fmt: Formatter) -> str:
    return (f'<circle class="point" cx="{frame.x(offset):.1f}" cy="{frame.y(value):.1f}" r="{frame.dot_radius}" '
            f'data-day="{_attr(day)}" data-value="{_attr(value)}"><title>{escape(day)}: {escape(fmt(value))}'
            f'</title></circle>')


def multi_line_chart(lines: Sequence[Tuple[str, Sequence[Point]]], title: str, *, first_day: str, day_count: int,
                     fmt: Formatter = number_text, day_label: Callable[[str], str] = lambda day: day[5:],
                     empty_text: str = "–") -> str:
    """A few daily lines on one chart (the top intents day by day), each in its own colour
    (class line-0, line-1, ...: the page's legend uses the same classes)."""
    first = date.fromisoformat(first_day)
    placed = [(label, [(_offset(first, day), day, value) for day, value in points if value is not None])
              for label, points in lines]
    values = [value for _, points in placed for _, _, value in points]
    if not values or not any(values):
        return _empty(LINE_WIDTH, LINE_HEIGHT, title, empty_text, "line-chart multi")
    ticks = nice_ticks(max(values))
    frame = _Frame(day_count, min(0.0, min(values)), ticks[-1])
    body = _y_axis(frame, ticks, fmt) + _x_labels(frame, first, day_count, day_label)
    for index, (label, points) in enumerate(placed):
        coordinates = _coordinates(frame, [(offset, value) for offset, _, value in points])
        body.append(f'<g class="line-{index}" data-label="{_attr(label)}">'
                    f'<polyline class="current" fill="none" points="{coordinates}"/>'
                    + "".join(_dot(frame, offset, day, value, lambda v: f"{label}: {fmt(v)}")
                              for offset, day, value in points) + "</g>")
    return _svg(LINE_WIDTH, LINE_HEIGHT, title, body, "line-chart multi")


# --- the horizontal bar chart (top N) ---------------------------------------------------------------

def bar_chart(rows: Sequence[Tuple[str, Optional[float]]], title: str, *, fmt: Formatter = number_text,
              limit: int = 10, empty_text: str = "–") -> str:
    """The `limit` largest rows as horizontal bars, longest first; labels are cut to fit
    (the full label is in each bar's <title>). Nothing but zeros is "no data"."""
    rows = sorted(((str(label), value or 0) for label, value in rows), key=lambda row: -row[1])[:limit]
    if not any(value for _, value in rows):
        return _empty(BAR_WIDTH, 60, title, empty_text, "bar-chart")
    top = max(max(value for _, value in rows), 0) or 1
    room = BAR_WIDTH - BAR_LABEL - 70  # what is left of the width after the label and the value
    body = []
    for index, (label, value) in enumerate(rows):
        y = 6 + index * BAR_ROW
        width = max(room * max(value, 0) / top, 1 if value else 0)
        body.append(_text(BAR_LABEL - 8, y + 15, truncate(label, 26), "label", "end"))
        body.append(f'<rect class="bar" x="{BAR_LABEL}" y="{y + 3}" width="{width:.1f}" height="{BAR_ROW - 8}" '
                    f'rx="2"><title>{escape(label)}: {escape(fmt(value))}</title></rect>')
        body.append(_text(BAR_LABEL + width + 6, y + 15, fmt(value), "value"))
    return _svg(BAR_WIDTH, 12 + len(rows) * BAR_ROW, title, body, "bar-chart")


# --- the small distribution chart (CSAT 1-5) ---------------------------------------------------------

def distribution_chart(rows: Sequence[Tuple[str, Optional[float]]], title: str, *, fmt: Formatter = number_text,
                       empty_text: str = "–") -> str:
    """A few categories in their own order (scores 1 to 5) as upright columns with the
    count above each and the share of all under its label."""
    width, height, base = 320, 170, 130
    total = sum(value or 0 for _, value in rows)
    if not rows or total <= 0:
        return _empty(width, height, title, empty_text, "distribution-chart")
    top = max(value or 0 for _, value in rows)
    slot = (width - 20) / len(rows)
    body = [f'<line class="axis" x1="10" x2="{width - 10}" y1="{base}" y2="{base}"/>']
    for index, (label, value) in enumerate(rows):
        value = value or 0
        x, bar_height = 10 + index * slot, (base - 24) * value / top
        body.append(f'<rect class="bar" x="{x + slot * 0.2:.1f}" y="{base - bar_height:.1f}" '
                    f'width="{slot * 0.6:.1f}" height="{bar_height:.1f}" rx="2">'
                    f'<title>{escape(str(label))}: {escape(fmt(value))}</title></rect>')
        body.append(_text(x + slot / 2, base - bar_height - 5, fmt(value), "value", "middle"))
        body.append(_text(x + slot / 2, base + 16, truncate(str(label), 8), "label", "middle"))
        body.append(_text(x + slot / 2, base + 32, f"{100 * value / total:.0f}%", "share", "middle"))
    return _svg(width, height, title, body, "distribution-chart")
