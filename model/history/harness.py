"""The rolling-origin hindcast: every forecaster, from every origin, at every horizon, scored.

Two sets of origins are kept strictly apart. *Validation* origins (2005-2013) are scored on
target years up to ``LAST_VALIDATION_YEAR`` only; their scores are the only ones used to choose
anything (the baselines' tuning values, which baseline is "best"). *Test* origins (2014-2023,
targets 2015-2024) are reported and never used to choose. A forecast made at an origin reads
the data through ``History.upto`` (projection) or ``History.blind_after`` (conditional: the
drivers after the origin, never the alignment), so that truncating the data at the origin
changes nothing (``tests/history/test_leaks.py``). Imports history and lower layers.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..base.errors import ScenarioError
from .baselines import BASELINES, Baseline, Past, spread_members
from .data import History, scales_in
from .regression import regression_forecast
from .simulate import model_forecast

__all__ = ["HistoryConfig", "OriginForecast", "LAST_VALIDATION_YEAR", "MODES", "tune",
           "forecast_origin", "run_hindcasts", "FIRST_YEAR"]

LAST_VALIDATION_YEAR = 2014  # the held-out rule of model/data/README.md: fits read years <= 2014
FIRST_YEAR = 2000            # the panel's first year: every past starts here
MODES = ("projection", "conditional")


@dataclass(frozen=True)
class HistoryConfig:
    """What ``blocsim history`` runs: origins, horizons, replications, scales and modes."""

    validation: tuple[int, ...] = tuple(range(2005, 2014))
    test: tuple[int, ...] = tuple(range(2014, 2024))
    horizons: tuple[int, ...] = tuple(range(1, 11))
    runs: int = 30
    seed: int = 2014
    scales: tuple[str, ...] = ("alignment", "alignment_stretched", "alignment_ideal")
    modes: tuple[str, ...] = MODES
    n_boot: int = 500
    #: the model's SCO membership rule ("threshold" or "hazard"; None: the scenario default)
    membership_rule: str | None = None

    def check(self, history: History) -> None:
        """Origins, horizons and scales must fit the data; name the offending option."""
        last = history.last_year()
        for name, origins in (("--origins (validation)", self.validation),
                              ("--origins (test)", self.test)):
            bad = [o for o in origins if not FIRST_YEAR + 1 <= o < last]
            if bad:
                raise ScenarioError(f"{name}: {bad[0]} is outside {FIRST_YEAR + 1}..{last - 1}")
        if not self.validation:
            raise ScenarioError(f"--origins: at least one validation origin (before "
                                f"{LAST_VALIDATION_YEAR}) is needed to tune the baselines")
        if any(o >= LAST_VALIDATION_YEAR for o in self.validation):
            raise ScenarioError(f"--origins: validation origins must be before "
                                f"{LAST_VALIDATION_YEAR} (their targets end there)")
        if any(o < LAST_VALIDATION_YEAR for o in self.test):
            raise ScenarioError(f"--origins: test origins start at {LAST_VALIDATION_YEAR}")
        if not self.horizons or min(self.horizons) < 1 or max(self.horizons) > 20:
            raise ScenarioError("--horizons: whole numbers between 1 and 20")
        if not scales_in(history, self.scales):
            raise ScenarioError(f"--scale: none of {', '.join(self.scales)} is in the data")


@dataclass
class OriginForecast:
    """Every forecaster's forecast from one origin, with what was observed."""

    scale: str
    mode: str
    split: str                 # "validation" or "test"
    origin: int
    horizons: np.ndarray       # (H,)
    observed: np.ndarray       # (H, n)
    start: np.ndarray          # (n,) the origin's observed value
    points: dict = field(default_factory=dict)  # forecaster -> (H, n)
    ensembles: dict = field(default_factory=dict)  # "model" runs, "spread" members: (R, H, n)
    status_model: np.ndarray | None = None      # (R, H, n)

    @property
    def members(self) -> np.ndarray:
        """The model's runs at each horizon: (R, H, n)."""
        return self.ensembles["model"]
    status_observed: np.ndarray | None = None   # (H, n)
    status_start: np.ndarray | None = None      # (n,)
    events: int = 0


def _subregion_codes(history: History) -> np.ndarray:
    first = history.panel.drop_duplicates("iso3").set_index("iso3")["subregion"]
    return np.unique(first.reindex(history.iso3).to_numpy(dtype=str), return_inverse=True)[1]


def _past(history: History, scale: str, origin: int) -> Past:
    known = history.upto(origin)
    return Past(x=known.matrix(scale, np.arange(FIRST_YEAR, origin + 1)),
                subregion=_subregion_codes(known))


def _horizons(cfg: HistoryConfig, origin: int, last_target: int) -> np.ndarray:
    return np.array([h for h in sorted(set(cfg.horizons)) if origin + h <= last_target], dtype=int)


def tune(history: History, scale: str, cfg: HistoryConfig) -> dict[str, object]:
    """Each tunable baseline's value with the lowest pooled RMSE over the validation origins.

    Reads only years up to ``LAST_VALIDATION_YEAR`` (it truncates the data first).
    """
    known = history.upto(LAST_VALIDATION_YEAR)
    years = np.arange(FIRST_YEAR, LAST_VALIDATION_YEAR + 1)
    x = known.matrix(scale, years)
    chosen: dict[str, object] = {}
    for b in BASELINES:
        if not b.grid:
            continue
        sse = np.zeros(len(b.grid))
        for o in cfg.validation:
            hs = _horizons(cfg, o, LAST_VALIDATION_YEAR)
            if not len(hs):
                continue
            past, y = _past(known, scale, o), x[o + hs - FIRST_YEAR]
            for k, v in enumerate(b.grid):
                sse[k] += np.nansum((b.forecast(past, hs, v) - y) ** 2)
        chosen[b.name] = b.grid[int(np.argmin(sse))]
    return chosen


def forecast_origin(history: History, scale: str, origin: int, horizons: np.ndarray, mode: str,
                    tuned: dict, cfg: HistoryConfig) -> tuple[dict, object, np.ndarray]:
    """Every forecaster at one origin: ({name: (H, n)}, the model's ``ModelForecast``, spread).

    ``spread`` holds the members of probabilistic persistence (``baselines.spread_members``).

    Reads ``history`` only through ``upto(origin)`` or, in the conditional mode, through
    ``blind_after(origin)``.
    """
    known = history.upto(origin) if mode == "projection" else history.blind_after(origin)
    past = _past(history, scale, origin)
    points = {b.name: b.forecast(past, horizons, tuned.get(b.name)) for b in BASELINES}
    points["regression"] = regression_forecast(known, scale, origin, horizons, FIRST_YEAR,
                                               _subregion_codes(known),
                                               conditional=mode == "conditional")
    rule = {"membership_rule": cfg.membership_rule} if cfg.membership_rule else None
    model = model_forecast(known, scale, origin, int(horizons.max()), runs=cfg.runs,
                           seed=cfg.seed, conditional=mode == "conditional", parameters=rule)
    spread = spread_members(past, horizons)
    points["model"] = model.alignment[:, horizons - 1].mean(axis=0)
    points["spread"] = spread.mean(axis=0)
    return points, model, spread


def run_hindcasts(history: History, cfg: HistoryConfig, progress=None) -> tuple[list, dict]:
    """Every origin, mode and scale: the ``OriginForecast`` list and the tuned values per scale."""
    cfg.check(history)
    forecasts: list[OriginForecast] = []
    tuned_all: dict[str, dict] = {}
    last = history.last_year()
    for scale in scales_in(history, cfg.scales):
        tuned = tune(history, scale, cfg)
        tuned_all[scale] = tuned
        x = history.matrix(scale, np.arange(FIRST_YEAR, last + 1))
        status = history.status(np.arange(FIRST_YEAR, last + 1))
        for split, origins, end in (("validation", cfg.validation, LAST_VALIDATION_YEAR),
                                    ("test", cfg.test, last)):
            for origin in origins:
                hs = _horizons(cfg, origin, end)
                if not len(hs):
                    continue
                for mode in cfg.modes:
                    points, model, spread = forecast_origin(history, scale, origin, hs, mode,
                                                            tuned, cfg)
                    forecasts.append(OriginForecast(
                        scale=scale, mode=mode, split=split, origin=origin, horizons=hs,
                        observed=x[origin + hs - FIRST_YEAR], start=x[origin - FIRST_YEAR],
                        points=points,
                        ensembles={"model": model.alignment[:, hs - 1], "spread": spread},
                        status_model=model.status[:, hs - 1],
                        status_observed=status[origin + hs - FIRST_YEAR],
                        status_start=status[origin - FIRST_YEAR], events=model.events))
                if progress:
                    progress(scale, split, origin)
    return forecasts, tuned_all


def forecaster_names() -> list[str]:
    """The forecasters in report order: the model, the baselines, the regression, the spread.

    ``spread`` is probabilistic persistence (``baselines.spread_members``), the fair rival of
    the model's ensemble on CRPS and interval coverage.
    """
    return ["model", *(b.name for b in BASELINES), "regression", "spread"]


def baseline(name: str) -> Baseline | None:
    """The baseline called ``name`` (None for the model and the regression)."""
    return next((b for b in BASELINES if b.name == name), None)
