"""Small deterministic SVG charts for Markdown reports (standard library only).

Reports embed these so they read like a paper's results section without matplotlib. Output
is plain SVG 1.1 text: the same data gives byte-identical text (numbers are printed with a
fixed number of decimals, series are drawn in the order given), and every label is
XML-escaped so task ids or model names cannot break the document.

Signatures (all return the SVG text):
- line_chart(series, *, title, x_label="", y_label="", intervals=None, y_min=None, y_max=None)
  series: {"name": [(x, y), ...]}; intervals: {"name": [(x, low, high), ...]} whiskers.
- bar_chart(labels, values, *, title, x_label="", y_label="", value_format="{:g}")
- histogram(values, *, title, bins=20, x_label="", y_label="count", value_range=None)
- outcome_grid(outcomes, *, title, columns=None) — outcomes: [(task_id, category)], category
  one of OUTCOME_CATEGORIES; one coloured cell per task, with a legend and per-cell tooltips.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from html import escape

WIDTH, HEIGHT = 640, 360
MARGIN_LEFT, MARGIN_RIGHT, MARGIN_TOP, MARGIN_BOTTOM = 64, 150, 40, 56
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000")
OUTCOME_CATEGORIES = ("both_pass", "candidate_only", "baseline_only", "both_fail")
OUTCOME_COLOURS = {"both_pass": "#009E73", "candidate_only": "#0072B2",
                   "baseline_only": "#D55E00", "both_fail": "#BBBBBB"}
OUTCOME_LABELS = {"both_pass": "both pass", "candidate_only": "only candidate passes",
                  "baseline_only": "only baseline passes", "both_fail": "both fail"}


def _num(value: float) -> str:
    """Fixed-precision coordinate text: deterministic and free of '-0.00'."""
    text = f"{value:.2f}"
    return "0.00" if text == "-0.00" else text


def _text(x: float, y: float, content: str, *, anchor: str = "middle", size: int = 12,
          extra: str = "") -> str:
    return (f'<text x="{_num(x)}" y="{_num(y)}" font-size="{size}" text-anchor="{anchor}"'
            f'{extra}>{escape(str(content), quote=False)}</text>')


def _document(width: int, height: int, title: str, body: list[str]) -> str:
    head = (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" role="img" font-family="sans-serif">')
    parts = [head, f"<title>{escape(title, quote=False)}</title>",
             f'<rect x="0" y="0" width="{width}" height="{height}" fill="#FFFFFF"/>',
             _text(width / 2, 22, title, size=15, extra=' font-weight="bold"')]
    return "\n".join(parts + body + ["</svg>"]) + "\n"


def _finite(values: Sequence[float], what: str) -> list[float]:
    out = []
    for value in values:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise ValueError(f"{what} must be finite numbers, got {value!r}")
        out.append(float(value))
    return out


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round tick values (steps of 1, 2 or 5 times a power of ten) covering [low, high]."""
    if high <= low:
        high = low + 1.0
    raw_step = (high - low) / max(count, 1)
    magnitude = 10 ** math.floor(math.log10(raw_step))
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw_step)
    first = math.floor(low / step + 1e-9)
    last = math.ceil(high / step - 1e-9)
    return [float(round(i * step, 10)) for i in range(first, last + 1)]


class _Frame:
    """Maps data coordinates to the plotting rectangle and draws axes with ticks."""

    def __init__(self, x_ticks: list[float], y_ticks: list[float], width: int, height: int,
                 right_margin: int = MARGIN_RIGHT):
        self.x0, self.x1 = x_ticks[0], x_ticks[-1]
        self.y0, self.y1 = y_ticks[0], y_ticks[-1]
        self.left, self.right = MARGIN_LEFT, width - right_margin
        self.top, self.bottom = MARGIN_TOP, height - MARGIN_BOTTOM
        self.x_ticks, self.y_ticks = x_ticks, y_ticks

    def x(self, value: float) -> float:
        span = (self.x1 - self.x0) or 1.0
        return self.left + (value - self.x0) / span * (self.right - self.left)

    def y(self, value: float) -> float:
        span = (self.y1 - self.y0) or 1.0
        return self.bottom - (value - self.y0) / span * (self.bottom - self.top)

    def axes(self, x_label: str, y_label: str, x_tick_labels: bool = True) -> list[str]:
        parts = [f'<line x1="{self.left}" y1="{self.bottom}" x2="{self.right}" y2="{self.bottom}" stroke="#333333"/>',
                 f'<line x1="{self.left}" y1="{self.top}" x2="{self.left}" y2="{self.bottom}" stroke="#333333"/>']
        for tick in self.y_ticks:
            y = _num(self.y(tick))
            parts.append(f'<line x1="{self.left}" y1="{y}" x2="{self.right}" y2="{y}" stroke="#EEEEEE"/>')
            parts.append(_text(self.left - 6, self.y(tick) + 4, f"{tick:g}", anchor="end", size=11))
        if x_tick_labels:
            for tick in self.x_ticks:
                parts.append(_text(self.x(tick), self.bottom + 16, f"{tick:g}", size=11))
        middle_x = (self.left + self.right) / 2
        parts.append(_text(middle_x, self.bottom + 40, x_label))
        middle_y = (self.top + self.bottom) / 2
        parts.append(_text(16, middle_y, y_label,
                           extra=f' transform="rotate(-90 16 {_num(middle_y)})"'))
        return parts


def _legend(names: Sequence[str], colours: Sequence[str], x: float, y: float) -> list[str]:
    parts = []
    for index, (name, colour) in enumerate(zip(names, colours)):
        row = y + index * 18
        parts.append(f'<rect x="{_num(x)}" y="{_num(row - 10)}" width="12" height="12" fill="{colour}"/>')
        parts.append(_text(x + 18, row, name, anchor="start", size=11))
    return parts


def line_chart(series: Mapping[str, Sequence[tuple[float, float]]], *, title: str,
               x_label: str = "", y_label: str = "",
               intervals: Mapping[str, Sequence[tuple[float, float, float]]] | None = None,
               y_min: float | None = None, y_max: float | None = None,
               width: int = WIDTH, height: int = HEIGHT) -> str:
    """Lines with point markers (e.g. pass@k against k), optional interval whiskers."""
    intervals = intervals or {}
    xs = _finite([x for points in series.values() for x, _ in points], "x values")
    ys = _finite([y for points in series.values() for _, y in points], "y values")
    ys += _finite([v for rows in intervals.values() for _, lo, hi in rows for v in (lo, hi)],
                  "interval bounds")
    if not xs:
        return _document(width, height, title, [_text(width / 2, height / 2, "no data")])
    low = min(ys) if y_min is None else y_min
    high = max(ys) if y_max is None else y_max
    frame = _Frame(nice_ticks(min(xs), max(xs)), nice_ticks(low, high), width, height)
    body = frame.axes(x_label, y_label)
    colours = [PALETTE[i % len(PALETTE)] for i in range(len(series))]
    for colour, (name, points) in zip(colours, series.items()):
        for x, lo, hi in intervals.get(name, ()):
            body.append(f'<line x1="{_num(frame.x(x))}" y1="{_num(frame.y(lo))}" x2="{_num(frame.x(x))}" '
                        f'y2="{_num(frame.y(hi))}" stroke="{colour}" stroke-opacity="0.5" stroke-width="2"/>')
        coords = " ".join(f"{_num(frame.x(x))},{_num(frame.y(y))}" for x, y in points)
        body.append(f'<polyline points="{coords}" fill="none" stroke="{colour}" stroke-width="2"/>')
        for x, y in points:
            body.append(f'<circle cx="{_num(frame.x(x))}" cy="{_num(frame.y(y))}" r="3" fill="{colour}">'
                        f"<title>{escape(str(name), quote=False)}: ({x:g}, {y:.4g})</title></circle>")
    body += _legend(list(series), colours, width - MARGIN_RIGHT + 16, MARGIN_TOP + 10)
    return _document(width, height, title, body)


def bar_chart(labels: Sequence[str], values: Sequence[float], *, title: str, x_label: str = "",
              y_label: str = "", value_format: str = "{:g}", width: int = WIDTH,
              height: int = HEIGHT) -> str:
    """Vertical bars with their value printed on top (e.g. counts per execution status)."""
    if len(labels) != len(values):
        raise ValueError(f"bar_chart: {len(labels)} labels but {len(values)} values")
    numbers = _finite(values, "bar values")
    if not numbers:
        return _document(width, height, title, [_text(width / 2, height / 2, "no data")])
    frame = _Frame([0.0, float(len(numbers))], nice_ticks(min(0.0, min(numbers)), max(0.0, max(numbers))),
                   width, height, right_margin=24)
    body = frame.axes(x_label, y_label, x_tick_labels=False)
    slot = (frame.right - frame.left) / len(numbers)
    for index, (label, value) in enumerate(zip(labels, numbers)):
        x = frame.left + index * slot + slot * 0.15
        top, base = frame.y(max(value, 0.0)), frame.y(min(value, 0.0))
        colour = PALETTE[index % len(PALETTE)]
        body.append(f'<rect x="{_num(x)}" y="{_num(top)}" width="{_num(slot * 0.7)}" '
                    f'height="{_num(base - top)}" fill="{colour}"><title>{escape(str(label), quote=False)}: '
                    f"{escape(value_format.format(value), quote=False)}</title></rect>")
        body.append(_text(x + slot * 0.35, top - 4, value_format.format(value), size=11))
        body.append(_bar_label(x + slot * 0.35, frame.bottom, str(label), slot))
    return _document(width, height, title, body)


def _bar_label(x: float, bottom: float, label: str, slot: float) -> str:
    """A category label under its bar; slanted when it is wider than the bar's slot."""
    if len(label) * 6 <= slot:  # ~6 px per character at font size 10
        return _text(x, bottom + 16, label, size=10)
    y = bottom + 12
    return _text(x, y, label, anchor="end", size=10,
                 extra=f' transform="rotate(-30 {_num(x)} {_num(y)})"')


def histogram(values: Sequence[float], *, title: str, bins: int = 20, x_label: str = "",
              y_label: str = "count", value_range: tuple[float, float] | None = None,
              width: int = WIDTH, height: int = HEIGHT) -> str:
    """Equal-width bins over value_range (default: data min..max); the last bin is closed."""
    if isinstance(bins, bool) or not isinstance(bins, int) or bins < 1:
        raise ValueError(f"bins must be a positive integer, got {bins!r}")
    data = _finite(values, "histogram values")
    if not data:
        return _document(width, height, title, [_text(width / 2, height / 2, "no data")])
    low, high = value_range if value_range is not None else (min(data), max(data))
    if high <= low:
        low, high = low - 0.5, low + 0.5
    counts = [0] * bins
    for value in data:
        if low <= value <= high:
            counts[min(int((value - low) / (high - low) * bins), bins - 1)] += 1
    frame = _Frame(nice_ticks(low, high), nice_ticks(0.0, max(counts)), width, height, right_margin=24)
    body = frame.axes(x_label, y_label)
    step = (high - low) / bins
    for index, count in enumerate(counts):
        left, right = frame.x(low + index * step), frame.x(low + (index + 1) * step)
        top = frame.y(count)
        body.append(f'<rect x="{_num(left)}" y="{_num(top)}" width="{_num(max(right - left - 1, 0.5))}" '
                    f'height="{_num(frame.bottom - top)}" fill="{PALETTE[0]}"><title>'
                    f"[{low + index * step:.4g}, {low + (index + 1) * step:.4g}): {count}</title></rect>")
    return _document(width, height, title, body)


def outcome_grid(outcomes: Sequence[tuple[str, str]], *, title: str,
                 columns: int | None = None, cell: int = 14) -> str:
    """One cell per task, coloured by paired outcome; hover shows the task id."""
    for task_id, category in outcomes:
        if category not in OUTCOME_COLOURS:
            raise ValueError(f"unknown outcome category {category!r} for task {task_id!r}; "
                             f"expected one of {', '.join(OUTCOME_CATEGORIES)}")
    n = len(outcomes)
    columns = columns or max(1, min(40, math.ceil(math.sqrt(n * 2))))
    rows = max(1, math.ceil(n / columns))
    legend_top = MARGIN_TOP + rows * (cell + 2) + 16
    width = max(360, 20 + columns * (cell + 2) + 20)
    height = legend_top + len(OUTCOME_CATEGORIES) * 18 + 10
    counts = {c: sum(1 for _, category in outcomes if category == c) for c in OUTCOME_CATEGORIES}
    body = []
    for index, (task_id, category) in enumerate(outcomes):
        x = 20 + (index % columns) * (cell + 2)
        y = MARGIN_TOP + (index // columns) * (cell + 2)
        body.append(f'<rect x="{x}" y="{y}" width="{cell}" height="{cell}" fill="{OUTCOME_COLOURS[category]}">'
                    f"<title>{escape(str(task_id), quote=False)}: {OUTCOME_LABELS[category]}</title></rect>")
    names = [f"{OUTCOME_LABELS[c]} ({counts[c]})" for c in OUTCOME_CATEGORIES]
    body += _legend(names, [OUTCOME_COLOURS[c] for c in OUTCOME_CATEGORIES], 20, legend_top)
    return _document(width, height, title, body)
