"""What the what-if templates show: the scenario picked, its levers, and the charts of its runs.

``whatif_context`` turns a source (a shipped scenario's name, or ``upload:<key>`` of this
session's upload) and the form's values into the template's context. It runs the what-if and
the scenario as shipped (each cached by the content of its YAML), and keeps the YAML and the
runs' inputs in the session's store, so the download links of what is on screen work for this
session only. Imports layers 0-6 and web only.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from functools import lru_cache, partial
from html import escape

import numpy as np
from markupsafe import Markup

from ..base.errors import ScenarioError
from ..config.checks import check_scenario, prepare_world
from ..core.levers import LEVERS
from ..report.run_plots import CAMP_LABELS, DRIVER_LABELS, MEASURES
from . import charts
from . import whatif as wi


@dataclass(frozen=True)
class LeverRow:
    """One lever as the form shows it."""

    name: str
    block: str
    summary: str
    intensity: float
    targets: tuple
    fixed: str  # why the slider is off ("" when it moves)
    window: str


def lever_rows(scenario) -> list[LeverRow]:
    """Every lever of the registry, with the scenario's setting (absent: intensity 0)."""
    rows = []
    for name, lever in LEVERS.items():
        block = wi.lever_block(name)
        cfg = getattr(getattr(scenario, block), name)
        summary = (lever.__doc__ or name).strip().splitlines()[0]
        fixed = ""
        if wi.fixed_lever(cfg):
            fixed = "given as a budget" if cfg.budget is not None else "per-target intensities"
        targets = tuple(cfg.targets) if cfg is not None and isinstance(cfg.targets, list) else ()
        window = ""
        if cfg is not None and (cfg.start is not None or cfg.end is not None):
            first, last = scenario.lever_window(cfg)
            window = f"{first}-{last}"
        rows.append(LeverRow(name, block, summary,
                             float(cfg.intensity) if cfg is not None and cfg.intensity is not None
                             else 0.0, targets, fixed, window))
    return rows


def resolve_source(state, sid: str, source: str):
    """The scenario a source names, and its label: a shipped name or this session's upload."""
    if source.startswith("upload:"):
        scenario = state.store.get(sid, source)
        if scenario is None:
            raise ScenarioError("that upload is not in this session (uploads last while the "
                                "server runs); upload it again", path="scenario")
        return scenario, f"uploaded: {scenario.name}"
    return wi.load_shipped(source), source


def _choices(world) -> tuple[list[str], list[tuple[str, str]]]:
    groups = sorted(world.groups())
    states = sorted(zip(world.iso3.tolist(), world.name.tolist(), strict=True), key=lambda p: p[1])
    return groups, states


@lru_cache(maxsize=8)
def _target_options(world) -> tuple[tuple[str, str], ...]:
    """(value, escaped option markup with a ``{}`` for the selected mark) per group and state."""
    groups, states = _choices(world)
    opts = [(g, f'<option value="{escape(g)}"{{}}>{escape(g)}</option>') for g in groups]
    opts += [(c, f'<option value="{escape(c)}"{{}}>{escape(c)} {escape(n)}</option>')
             for c, n in states]
    return tuple(opts)


def target_picker(world, selected) -> Markup:
    """A lever's targets as ``<optgroup>`` options, the selected ones marked.

    Built in Python, not in the template: 13 pickers of 230 options are the page's largest part.
    """
    chosen = set(selected)
    opts = _target_options(world)
    n_groups = len(world.groups())
    mark = [html.format(" selected" if v in chosen else "") for v, html in opts]
    return Markup('<optgroup label="groups">' + "".join(mark[:n_groups]) + "</optgroup>"
                  '<optgroup label="states">' + "".join(mark[n_groups:]) + "</optgroup>")


def whatif_context(state, sid: str, source: str, form: dict, first: bool = False) -> dict:
    """The what-if page's context for this session (runs the what-if and the shipped scenario).

    Raises ScenarioError for a bad source, lever value, target or state (the path names the
    field).
    """
    shipped, label = resolve_source(state, sid, source)
    world = prepare_world(shipped, wi.SCENARIO_DIR)
    scenario = wi.whatif_name(wi.apply_levers(shipped, form), shipped) if form else shipped
    check_scenario(scenario, world)
    measure = (form.get("measure") or ["gdp_share"])[0]
    if measure not in MEASURES:
        raise ScenarioError(f"unknown measure {measure[:20]!r}", path="measure")
    chosen = wi.check_states(form.get("states") or list(shipped.key_states[:3]), world)
    key, base_key = wi.digest(scenario), wi.digest(shipped)
    state.store.put(sid, f"run:{base_key}", (shipped, world, base_key))
    state.store.put(sid, f"run:{key}", (scenario, world, base_key))
    view = partial(_view, state, scenario, shipped, world, key, base_key, measure, chosen)
    # a first visit shows the shipped scenario as it is: the same page for every session
    ctx = state.cached(f"page:{key}", view) if not form else view()
    return {**ctx, "source": source, "label": label, "first": first}


def _view(state, scenario, shipped, world, key: str, base_key: str, measure: str,
          chosen: list[str]) -> dict:
    """Runs (cached by content) and what the templates draw of them."""
    started = time.perf_counter()
    out = state.cached(key, lambda: wi.run_outcome(scenario, world))
    base = state.cached(base_key, lambda: wi.run_outcome(shipped, world))
    seconds = time.perf_counter() - started
    fans, base_fans = wi.bloc_fans(out, measure), wi.bloc_fans(base, measure)
    sfans, base_sfans = wi.state_fans(out, chosen), wi.state_fans(base, chosen)
    _, states = _choices(world)
    return {
        "scenario": scenario, "shipped": shipped,
        "shipped_names": list(wi.shipped_scenarios()), "levers": lever_rows(shipped),
        "states": states, "chosen": chosen, "measure": measure,
        "measures": MEASURES, "runs": wi.RUNS, "key": key, "seconds": seconds,
        "max_upload_kb": wi.MAX_UPLOAD // 1024, "max_chosen": wi.MAX_CHOSEN,
        "bloc_svg": charts.bloc_chart(out.years, fans, base_fans, measure, MEASURES[measure]),
        "state_svg": charts.state_chart(out.years, sfans, base_sfans) if chosen else "",
        "differences": _differences(fans, base_fans, sfans, base_sfans, measure),
        "numbers": _numbers(out.years, fans, measure),
        "end_year": int(out.years[-1]),
    }


def picker_context(state, sid: str, source: str, lever: str, targets: list[str]) -> dict:
    """A lever's targets picker (loaded when its details open), the given targets selected."""
    if lever not in LEVERS:
        raise ScenarioError(f"unknown lever {lever[:40]!r}", path="lever")
    shipped, _ = resolve_source(state, sid, source)
    world = prepare_world(shipped, wi.SCENARIO_DIR)
    return {"lever": lever, "options": target_picker(world, targets)}


def drivers_context(state, sid: str, key: str) -> dict | None:
    """The drivers table of this session's what-if ``key`` against its shipped scenario."""
    entry = state.store.get(sid, f"run:{key}")
    if entry is None:
        return None
    scenario, world, base_key = entry
    shipped = state.store.get(sid, f"run:{base_key}")
    if shipped is None:
        return None
    out = state.cached(key, lambda: wi.run_outcome(scenario, world))
    base = state.cached(base_key, lambda: wi.run_outcome(shipped[0], world))
    return {"drivers": [(DRIVER_LABELS.get(r.driver, r.driver), r)
                        for r in wi.driver_rows(out, base)]}


def _differences(fans, base_fans, sfans, base_sfans, measure: str) -> list[tuple[str, str, str, str]]:
    """Rows (what, shipped, what-if, change) of the last year's medians."""
    pct = measure != "states"

    def f(v: float) -> str:
        return f"{v:.1%}" if pct else f"{v:.1f}"

    def d(v: float) -> str:
        return (f"{v * 100:+.1f} points" if pct else f"{v:+.1f}")

    rows = [(CAMP_LABELS[a.key], f(b.q[2, -1]), f(a.q[2, -1]), d(a.q[2, -1] - b.q[2, -1]))
            for a, b in zip(fans, base_fans, strict=True)]
    rows += [(a.label, f"{b.q[2, -1]:+.3f}", f"{a.q[2, -1]:+.3f}", f"{a.q[2, -1] - b.q[2, -1]:+.3f}")
             for a, b in zip(sfans, base_sfans, strict=True)]
    return rows


def _numbers(years: np.ndarray, fans, measure: str) -> list[tuple]:
    """The chart's numbers by year and camp: 5, 25, 50, 75 and 95% across runs (``%.6g``)."""
    return [(int(y) if float(y).is_integer() else float(y), f.key,
             *(f"{v:.6g}" for v in f.q[:, t]))
            for f in fans for t, y in enumerate(years)]
