"""The duty's timeline as an inline SVG: the total as a step line, and three lanes of marks below
it: the legal acts behind each change (triangles), court rulings (diamonds) and negotiation events
(circles). Every mark has a tooltip and, where the graph has one, a link to its source.

The input is the JSON of /api/timeline (`tariffkg timeline --format json`: its steps) and of
/api/events, so the chart draws exactly what the API returns; the links of the acts come from
their identifiers (act_pages). No script and no external asset: the page stays readable offline.
"""

from __future__ import annotations

from datetime import date
from html import escape

from kg.timeline import Change

WIDTH, HEIGHT = 960, 340
LEFT, RIGHT, TOP, PLOT_BOTTOM = 118, 18, 22, 214
LANES = {"act": 258, "ruling": 284, "negotiation": 310}
LANE_TITLES = {"act": "legal acts", "ruling": "court rulings", "negotiation": "negotiations"}


def timeline_svg(steps: list[dict], events: list[dict], start: date, end: date,
                 marked: date | None = None, title: str = "",
                 act_pages: dict[str, str] | None = None) -> str:
    """The SVG text of the chart of the steps over [start, end], the events marked below; a
    change's mark links to the page of its first act found in act_pages."""
    span = max((end - start).days + 1, 1)
    top_value = _top(steps)

    def x(day: date) -> float:
        return round(LEFT + (WIDTH - LEFT - RIGHT) * (day - start).days / span, 1)

    def y(percent: float) -> float:
        return round(PLOT_BOTTOM - (PLOT_BOTTOM - TOP) * percent / top_value, 1)

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="timeline-chart" role="img" '
             f'viewBox="0 0 {WIDTH} {HEIGHT}" aria-label="{escape(title, quote=True)}">',
             f"<title>{escape(title)}</title>"]
    parts += _axes(start, end, top_value, x, y)
    parts += _step_line(steps, x, y)
    parts += _act_marks(steps, start, end, x, act_pages or {})
    parts += _event_marks(events, start, end, x)
    if marked and start <= marked <= end:
        parts.append(f'<line class="entry-date" x1="{x(marked)}" x2="{x(marked)}" y1="{TOP}" '
                     f'y2="{PLOT_BOTTOM}"><title>entry date {marked}</title></line>')
    parts.append("</svg>")
    return "\n".join(parts)


def _top(steps: list[dict]) -> float:
    values = [_height(s) for s in steps] + [10.0]
    highest = max(values) * 1.15
    unit = _tick_unit(highest)
    return unit * -(-highest // unit)


def _height(step: dict) -> float:
    total = step.get("total_ad_valorem_percent")
    return float(total if total is not None else step.get("known_part_percent") or 0.0)


def _tick_unit(highest: float) -> float:
    for unit in (5, 10, 20, 25, 50, 100, 200, 250, 500):
        if highest / unit <= 6:
            return unit
    return 1000


def _axes(start: date, end: date, top_value: float, x, y) -> list[str]:
    parts = ['<g class="axes">']
    unit = _tick_unit(top_value)
    value = 0.0
    while value <= top_value + 1e-9:
        parts.append(f'<line class="grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(value)}" '
                     f'y2="{y(value)}"/>')
        parts.append(f'<text class="tick" x="{LEFT - 6}" y="{y(value) + 4}" '
                     f'text-anchor="end">{value:g}%</text>')
        value += unit
    months = _months(start, end)
    every = 1 if len(months) <= 14 else 3
    for index, month in enumerate(months):
        parts.append(f'<line class="month" x1="{x(month)}" x2="{x(month)}" y1="{PLOT_BOTTOM}" '
                     f'y2="{PLOT_BOTTOM + 5}"/>')
        if index % every == 0:
            parts.append(f'<text class="tick" x="{x(month)}" y="{PLOT_BOTTOM + 18}" '
                         f'text-anchor="middle">{month:%Y-%m}</text>')
    for kind, lane in LANES.items():
        parts.append(f'<text class="lane" x="{LEFT - 6}" y="{lane + 4}" '
                     f'text-anchor="end">{LANE_TITLES[kind]}</text>')
        parts.append(f'<line class="lane-line" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{lane}" '
                     f'y2="{lane}"/>')
    parts.append(f'<text class="axis-title" x="12" y="{TOP + 4}">total duty</text>')
    parts.append("</g>")
    return parts


def _months(start: date, end: date) -> list[date]:
    months: list[date] = []
    year, month = start.year, start.month
    while True:
        first = date(year, month, 1)
        if first > end:
            return months
        if first >= start:
            months.append(first)
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)


def _step_line(steps: list[dict], x, y) -> list[str]:
    parts = ['<g class="steps">']
    previous = None
    for step in steps:
        first, until = date.fromisoformat(step["from"]), date.fromisoformat(step["until"])
        height = _height(step)
        complete = step.get("total_ad_valorem_percent") is not None
        if previous is not None:
            parts.append(f'<line class="riser" x1="{x(first)}" x2="{x(first)}" y1="{y(previous)}" '
                         f'y2="{y(height)}"/>')
        label = f"{height:g}%" if complete else f"≥ {height:g}% (incomplete)"
        css = "step" if complete else "step incomplete"
        parts.append(f'<line class="{css}" x1="{x(first)}" x2="{x(until)}" y1="{y(height)}" '
                     f'y2="{y(height)}"><title>{escape(step["from"])}: {escape(label)}</title>'
                     "</line>")
        if x(until) - x(first) > 34:
            parts.append(f'<text class="value" x="{x(first) + 3}" y="{y(height) - 5}">'
                         f"{escape(label if complete else f'≥{height:g}%')}</text>")
        previous = height
    parts.append("</g>")
    return parts


def _act_marks(steps: list[dict], start: date, end: date, x,
               act_pages: dict[str, str]) -> list[str]:
    lane = LANES["act"]
    parts = ['<g class="marks acts">']
    for step in steps[1:]:
        day = date.fromisoformat(step["from"])
        if not step.get("changes") or not start <= day <= end:
            continue
        tip = "\n".join(Change(**change).text() for change in step["changes"])
        urls = [act_pages[act] for act in step.get("acts", []) if act in act_pages]
        cx = x(day)
        shape = (f'<path class="mark mark-act" d="M{cx - 6},{lane + 6} L{cx + 6},{lane + 6} '
                 f'L{cx},{lane - 6} Z"><title>{escape(step["from"])}: {escape(tip)}</title>'
                 "</path>")
        parts.append(_linked(shape, urls[0] if urls else None))
    parts.append("</g>")
    return parts


def _event_marks(events: list[dict], start: date, end: date, x) -> list[str]:
    parts = ['<g class="marks events">']
    for event in events:
        day = date.fromisoformat(event["date"])
        if not start <= day <= end or event["kind"] not in LANES:
            continue
        lane, cx = LANES[event["kind"]], x(day)
        tip = f"<title>{escape(event['date'])}: {escape(event['label'])}</title>"
        if event["kind"] == "ruling":
            shape = (f'<path class="mark mark-court" d="M{cx},{lane - 7} L{cx + 7},{lane} '
                     f'L{cx},{lane + 7} L{cx - 7},{lane} Z">{tip}</path>')
        else:
            shape = (f'<circle class="mark mark-negotiation" cx="{cx}" cy="{lane}" r="5">{tip}'
                     "</circle>")
        parts.append(_linked(shape, event.get("url")))
    parts.append("</g>")
    return parts


def _linked(shape: str, url: str | None) -> str:
    if not url or not url.startswith(("https://", "http://")):
        return shape
    return f'<a href="{escape(url, quote=True)}" target="_blank" rel="noopener">{shape}</a>'
