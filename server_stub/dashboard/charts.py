"""Charts drawn on the server as SVG: no script, nothing the strict CSP would block (colours
are presentation attributes, not styles), every figure also given as text."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from markupsafe import Markup, escape

# The dashboard's colours for each state (outpost.css), drawn in the order of the stack.
COLOURS = {
    "compliant": "#1f6f3d",
    "non_compliant": "#a1261b",
    "unapproved": "#d4584b",
    "stale": "#8a5a00",
    "unknown": "#c9a227",
    "awaiting_enrolment": "#9aa3ad",
    "revoked": "#5a6472",
}
WIDTH, HEIGHT, LABEL = 720, 180, 18


@dataclass(frozen=True)
class Segment:
    """A stretch of time a device spent in one state."""

    state: str
    start: datetime
    end: datetime


def fleet_trend(days: dict[date, dict[str, int]], first: date, last: date) -> Markup:
    """One stacked column per day from `first` to `last` (a day with no count is left blank),
    devices by state, scaled to the busiest day."""
    span = (last - first).days + 1
    column = WIDTH / span
    tallest = max((sum(c.values()) for c in days.values()), default=0) or 1
    shapes: list[str] = []
    for offset in range(span):
        day = first + timedelta(days=offset)
        counts = days.get(day, {})
        y = float(HEIGHT)
        for state, colour in COLOURS.items():
            n = counts.get(state, 0)
            if not n:
                continue
            height = HEIGHT * n / tallest
            y -= height
            shapes.append(
                f'<rect x="{offset * column:.1f}" y="{y:.1f}" width="{max(column - 1, 1):.1f}" '
                f'height="{height:.1f}" fill="{colour}"><title>{day.isoformat()}: {n} '
                f"{escape(state.replace('_', ' '))}</title></rect>"
            )
    labels = (
        f'<text x="0" y="{HEIGHT + LABEL - 4}" font-size="12">{first.isoformat()}</text>'
        f'<text x="{WIDTH}" y="{HEIGHT + LABEL - 4}" font-size="12" text-anchor="end">'
        f"{last.isoformat()}</text>"
    )
    return _svg("Devices by state, one column a day", "".join(shapes) + labels)


def device_segments(
    changes: list[tuple[datetime, str | None, str]], current: str, first: datetime, now: datetime
) -> list[Segment]:
    """The states a device was in from `first` to `now`, from its state changes (time, old,
    new; oldest first): before the first change in the window it was in that change's old
    state, and it is in `current` since the last."""
    inside = [c for c in changes if first <= c[0] <= now]
    earlier = [c for c in changes if c[0] < first]
    state = earlier[-1][2] if earlier else (inside[0][1] if inside else current)
    segments, start = [], first
    for when, _, new in inside:
        if state is not None and when > start:
            segments.append(Segment(state, start, when))
        state, start = new, when
    if state is not None and now > start:
        segments.append(Segment(state, start, now))
    return segments


def device_timeline(segments: list[Segment], first: datetime, now: datetime) -> Markup:
    """A band across the window, coloured by the state the device was in."""
    total = (now - first).total_seconds() or 1
    shapes = []
    for s in segments:
        x = WIDTH * (s.start - first).total_seconds() / total
        width = max(WIDTH * (s.end - s.start).total_seconds() / total, 1)
        shapes.append(
            f'<rect x="{x:.1f}" y="0" width="{width:.1f}" height="40" '
            f'fill="{COLOURS.get(s.state, "#9aa3ad")}"><title>{escape(s.state.replace("_", " "))}: '
            f"{s.start:%Y-%m-%d %H:%M} to {s.end:%Y-%m-%d %H:%M} UTC</title></rect>"
        )
    labels = (
        f'<text x="0" y="56" font-size="12">{first:%Y-%m-%d}</text>'
        f'<text x="{WIDTH}" y="56" font-size="12" text-anchor="end">{now:%Y-%m-%d}</text>'
    )
    return _svg("The device's state over time", "".join(shapes) + labels, height=60)


def _svg(title: str, body: str, height: int = HEIGHT + LABEL) -> Markup:
    # Every text inside was escaped or formatted from numbers and dates above.
    return Markup(
        f'<svg class="chart" role="img" viewBox="0 0 {WIDTH} {height}" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{title}</title>{body}</svg>'
    )


def swatch(state: str) -> Markup:
    """A legend's colour square (the state's name is always written beside it)."""
    return Markup(
        f'<svg class="swatch" viewBox="0 0 10 10" aria-hidden="true" width="10" height="10">'
        f'<rect width="10" height="10" fill="{COLOURS.get(state, "#9aa3ad")}"/></svg>'
    )
