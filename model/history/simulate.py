"""The model's forecasts: the replication ensemble from an origin's world, fed what happened or not.

*Projection*: the scenario has no events, as a scenario run knows nothing after its start.
*Conditional*: the observed changes after the origin become the scenario's events, as far as the
event schema can express them (``observed_events``: statuses, memberships, sanctions, leaders,
regimes, trade shares and security ties; docs/model.md section 12 lists what is not fed). The
ensemble engine (``config.build.run_ensemble``) runs R replications whose seeds are spawned
with ``numpy.random.SeedSequence`` from the root seed and the origin, the same in both modes and
on every scale (common random numbers). Imports config, core, data and history.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..config.build import run_ensemble
from ..config.scenario import Scenario
from ..core.seeds import replication_seeds
from ..data.world import SCO_STATUSES
from .data import History, trade_levels

__all__ = ["ModelForecast", "model_forecast", "observed_events", "origin_seeds", "FLAG_ORGS",
           "REGIME_STEP", "TIES_STEP", "TIE_COLUMNS", "CONDITIONAL_PARAMETERS"]

#: Organisations whose yearly membership flags in the panel become join and leave events.
FLAG_ORGS = {"NATO": "nato", "EU": "eu", "CSTO": "csto", "BRICS": "brics"}
#: The conditional mode knows the leader changes after the origin: it scripts them and draws none
#: (the centring of their effect is kept: ``core.dynamics.leader_change_push``).
CONDITIONAL_PARAMETERS = {"leader_change_draws": 0.0}
#: A change of regime index at least this large is fed as a change of government.
REGIME_STEP = 0.05
#: A trade share or security tie is fed (a ``ties`` event) once its observed level has moved
#: more than this from the level last fed (the origin's at first): slow drifts add up and are
#: fed when they pass it, and the event lists stay short.
TIES_STEP = 0.01
#: The panel column of each channel a ``ties`` event sets.
TIE_COLUMNS = {"e_sco": "trade_sco", "e_west": "trade_west", "s_sco": "sec_sco",
               "s_west": "sec_west"}


@dataclass(frozen=True)
class ModelForecast:
    """R replications from one origin: alignment and SCO status, (runs, horizons, states)."""

    alignment: np.ndarray
    status: np.ndarray
    events: int  # number of events fed (0 in the projection mode)


def origin_seeds(root: int, origin: int, runs: int) -> list[int]:
    """The replications' seeds for one origin, spawned from (root, origin)."""
    child = np.random.SeedSequence([int(root), int(origin)])
    return replication_seeds(int(child.generate_state(1, dtype=np.uint64)[0] >> np.uint64(1)),
                             runs)


def _event(year: int, iso3: str, **what) -> dict:
    return {"year": int(year), "state": str(iso3), **what}


def observed_events(known: History, origin: int, horizon: int) -> list[dict]:
    """What happened in ``origin+1 .. origin+horizon`` as scenario events, year by year.

    SCO status rises (``join`` at the new status) and exits (``leave``); joining and leaving
    NATO, the EU, the CSTO and BRICS; a new Western sanctions case (``sanctions``, the schema's
    default intensity, one year); a coup, a leader change or a regime index change of at least
    ``REGIME_STEP`` (``government_change`` to that year's observed regime index); each leader
    change (a successful coup counts as one) also as a ``leader_change``, which the conditional
    mode feeds instead of drawing leader changes at random (``CONDITIONAL_PARAMETERS``). An SCO
    step down short of leaving cannot be expressed (a ``join`` never demotes) and is not fed.
    Last in each year, so that they win over the ties a status change brings, the observed trade
    shares and security ties (``ties``: ``_observed_ties``).
    """
    years = np.arange(origin, origin + horizon + 1)
    iso3 = known.iso3
    events: list[dict] = []
    status = known.status(years)
    for t in range(1, len(years)):
        up = (status[t] > status[t - 1]) & (status[t - 1] >= 0)
        out = (status[t] == 0) & (status[t - 1] > 0)
        events += [_event(years[t], iso3[i], type="join", org="SCO",
                          status=SCO_STATUSES[status[t, i]]) for i in np.flatnonzero(up)]
        events += [_event(years[t], iso3[i], type="leave", org="SCO") for i in np.flatnonzero(out)]
    for org, col in FLAG_ORGS.items():
        flag = known.matrix(col, years)
        for t in range(1, len(years)):
            for kind, moved in (("join", (flag[t] == 1) & (flag[t - 1] == 0)),
                                ("leave", (flag[t] == 0) & (flag[t - 1] == 1))):
                events += [_event(years[t], iso3[i], type=kind, org=org)
                           for i in np.flatnonzero(moved)]
    cases = known.driver("sanctions_west", years)
    regime = known.matrix("regime", years)
    leaders = np.nan_to_num(known.driver("leader_change", years))
    shake = np.nan_to_num(known.driver("coup", years)) + leaders
    with np.errstate(invalid="ignore"):
        for t in range(1, len(years)):
            new_cases = cases[t] > cases[t - 1]
            events += [_event(years[t], iso3[i], type="sanctions", by="west", duration=1)
                       for i in np.flatnonzero(new_cases)]
            changed = ((shake[t] > 0) | (np.abs(regime[t] - regime[t - 1]) >= REGIME_STEP)) \
                & np.isfinite(regime[t])
            events += [_event(years[t], iso3[i], type="government_change",
                              regime=float(np.clip(regime[t, i], 0, 1)))
                       for i in np.flatnonzero(changed)]
            events += [_event(years[t], iso3[i], type="leader_change")
                       for i in np.flatnonzero(leaders[t] > 0)]
    return events + _observed_ties(known, years)


def _observed_ties(known: History, years: np.ndarray) -> list[dict]:
    """The observed trade shares and security ties after the origin as ``ties`` events.

    Each channel of ``TIE_COLUMNS`` that has moved more than ``TIES_STEP`` from the level last fed
    is set to the year's observed level (trade shares scaled as the world scales them,
    ``data.trade_levels``). Unknown (non-finite) levels are never fed. Trade after 2020 is carried
    forward in the data, so it gives no event then.
    """
    e_sco, e_west = trade_levels(known.matrix("trade_sco", years),
                                 known.matrix("trade_west", years))
    levels = np.stack([e_sco, e_west, known.matrix("sec_sco", years),
                       known.matrix("sec_west", years)])  # (channels, years, states)
    names = list(TIE_COLUMNS)
    fed = levels[:, 0].copy()
    events: list[dict] = []
    for t in range(1, len(years)):
        now = levels[:, t]
        with np.errstate(invalid="ignore"):
            moved = np.isfinite(now) & ~(np.abs(now - fed) <= TIES_STEP)
        fed[moved] = now[moved]
        for i in np.flatnonzero(moved.any(axis=0)):
            events.append(_event(years[t], known.iso3[i], type="ties", **{
                names[c]: float(np.clip(now[c, i], 0.0, 1.0)) for c in np.flatnonzero(moved[:, i])}))
    return events


def model_forecast(known: History, scale: str, origin: int, horizon: int, *, runs: int,
                   seed: int, conditional: bool, parameters: dict | None = None) -> ModelForecast:
    """Run the model's R replications from the origin's world on ``scale``.

    ``known`` is what the mode may know: the world is built from the origin year's rows and,
    in the conditional mode, the events from the rows after it (never their alignment).
    ``parameters`` override the defaults (a candidate rule scored by a tool; the harness
    passes none).
    """
    world = known.world(origin, scale)
    events = observed_events(known, origin, horizon) if conditional else []
    scenario = Scenario.model_validate({
        "name": f"history_{origin}", "start_year": origin, "horizon": horizon, "seed": seed,
        "replications": runs, "events": events,
        "parameters": {**(parameters or {}),
                       **(CONDITIONAL_PARAMETERS if conditional else {})}})
    result = run_ensemble(scenario, origin_seeds(seed, origin, runs), world=world,
                          attribution=False)
    return ModelForecast(alignment=result.alignment[:, 1:, :], status=result.status[:, 1:, :],
                         events=len(events))
