"""Fan charts as small hand-written SVG: fast enough to redraw on every slider move.

A fan is a median line with its 50% band (25-75%) and 90% band (5-95%) across runs; the
scenario as shipped is drawn as a dashed median beside it. Colours are the report's
(``report.run_plots``), so a camp looks the same on the page and in the PNGs. Returns markup
with every label escaped. Imports web and report only (and numpy).
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

import numpy as np

from ..report.run_plots import CAMP_COLOURS, CAMP_LABELS
from .whatif import Fan

#: Colours of chosen states, in order (distinct from the camps' red, grey and blue).
STATE_COLOURS = ("#7b3294", "#1b9e77", "#d95f02", "#666600")
W, H = 640, 300
LEFT, RIGHT, TOP, BOTTOM = 56, 150, 34, 34


def _ticks(lo: float, hi: float, n: int = 5) -> np.ndarray:
    """About ``n`` round tick values between lo and hi."""
    raw = (hi - lo) / max(1, n)
    step = 10 ** np.floor(np.log10(raw)) if raw > 0 else 1.0
    for m in (1, 2, 2.5, 5, 10):
        if raw <= m * step:
            step *= m
            break
    return np.arange(np.ceil(lo / step) * step, hi + step * 1e-9, step)


def _path(xs: np.ndarray, ys: np.ndarray) -> str:
    return "M" + " L".join(f"{x:.1f},{y:.1f}" for x, y in zip(xs, ys, strict=True))


def fan_svg(years: np.ndarray, fans: Sequence[Fan], *, title: str, ylabel: str,
            yrange: tuple[float, float], colours: Sequence[str],
            shipped: Sequence[Fan] = (), percent: bool = False, chart_id: str = "chart") -> str:
    """One SVG with a fan per entry of ``fans`` (and the shipped medians dashed)."""
    years = np.asarray(years, dtype=float)
    lo, hi = yrange
    pw, ph = W - LEFT - RIGHT, H - TOP - BOTTOM
    span = (years[-1] - years[0]) or 1.0

    def x(v):
        return LEFT + (np.asarray(v, dtype=float) - years[0]) / span * pw

    def y(v):
        return TOP + (1 - (np.clip(np.asarray(v, dtype=float), lo, hi) - lo) / (hi - lo)) * ph

    fmt = (lambda v: f"{v:.0%}") if percent else (lambda v: f"{v:g}")
    end = (lambda v: f"{v:.0%}") if percent else (lambda v: f"{v:+.2f}")
    out = [f'<svg id="{escape(chart_id)}" class="fan" viewBox="0 0 {W} {H}" role="img" '
           f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">',
           f'<title>{escape(title)}</title>',
           f'<text x="{LEFT}" y="18" class="t">{escape(title)}</text>']
    for t in _ticks(lo, hi):
        out.append(f'<line x1="{LEFT}" x2="{LEFT + pw}" y1="{y(t):.1f}" y2="{y(t):.1f}" '
                   f'class="grid"/><text x="{LEFT - 6}" y="{y(t) + 4:.1f}" class="yt">'
                   f'{fmt(t)}</text>')
    for yr in _ticks(years[0], years[-1], 6):
        out.append(f'<text x="{x(yr):.1f}" y="{TOP + ph + 18}" class="xt">{int(round(yr))}</text>')
    out.append(f'<text x="14" y="{TOP + ph / 2:.0f}" class="yl" transform="rotate(-90 14 '
               f'{TOP + ph / 2:.0f})">{escape(ylabel)}</text>')
    xs = x(years)
    ends = []
    for k, fan in enumerate(fans):
        c = colours[k % len(colours)]
        for a, b, op in ((0, 4, 0.13), (1, 3, 0.3)):
            band = _path(np.r_[xs, xs[::-1]], np.r_[y(fan.q[a]), y(fan.q[b])[::-1]]) + " Z"
            out.append(f'<path d="{band}" fill="{c}" fill-opacity="{op}" stroke="none"/>')
        out.append(f'<path d="{_path(xs, y(fan.q[2]))}" fill="none" stroke="{c}" '
                   f'stroke-width="2.2" data-key="{escape(fan.key)}" class="median"/>')
        ends.append((float(y(fan.q[2][-1])), fan, c))
    for k, fan in enumerate(shipped):
        c = colours[k % len(colours)]
        out.append(f'<path d="{_path(xs, y(fan.q[2]))}" fill="none" stroke="{c}" '
                   f'stroke-width="1.4" stroke-dasharray="5 4" class="shipped"/>')
    for pos, fan, c in _spread(ends, gap=14):
        out.append(f'<text x="{LEFT + pw + 6}" y="{pos + 4:.1f}" fill="{c}" class="lab">'
                   f'{escape(fan.label[:18])} {end(fan.q[2][-1])}</text>')
    out.append("</svg>")
    return "".join(out)


def _spread(ends: list, gap: float) -> list:
    """End labels moved apart vertically so that none overlap (order kept)."""
    ends = sorted(ends, key=lambda e: e[0])
    placed: list = []
    for pos, fan, c in ends:
        if placed and pos - placed[-1][0] < gap:
            pos = placed[-1][0] + gap
        placed.append((pos, fan, c))
    return placed


def bloc_chart(years, fans: Sequence[Fan], shipped: Sequence[Fan], measure: str, label: str) -> str:
    """The camps' fans of one measure (shares of world GDP or population, or state counts)."""
    named = [Fan(CAMP_LABELS[f.key], f.key, f.q) for f in fans]
    top = 1.0 if measure != "states" else float(max(np.max(f.q) for f in fans)) * 1.1
    return fan_svg(years, named, title=f"Camps' share of {label}", ylabel=label,
                   yrange=(0.0, top), colours=[CAMP_COLOURS[f.key] for f in fans],
                   shipped=shipped, percent=measure != "states", chart_id="bloc-chart")


def state_chart(years, fans: Sequence[Fan], shipped: Sequence[Fan]) -> str:
    """Alignment fans of chosen states (-1 West .. +1 SCO)."""
    fans = [Fan(f.key, f.key, f.q) for f in fans]  # end labels by code: names are in the table
    return fan_svg(years, fans, title="Alignment of chosen states (+1 SCO, -1 West)",
                   ylabel="alignment", yrange=(-1.0, 1.0), colours=STATE_COLOURS,
                   shipped=shipped, chart_id="state-chart")
