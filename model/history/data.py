"""What a hindcast may know: the world data as one table, cut at an origin, and its worlds.

A ``History`` holds the shipped panel (one row per state and year, with each state's name and
groups), the observed driver histories when the data carry them (``model.data.drivers``) and the
land borders. Everything a forecast made at an origin reads goes through ``upto(origin)``, which
drops every row after it, so a test can hand the harness data that end at the origin and check
that nothing changes (``tests/history/test_leaks.py``). The world of an origin is built from the
origin year's rows alone, on the alignment scale being scored. Imports base, data and core.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cached_property, partial

import numpy as np
import pandas as pd

from ..base.errors import ScenarioError
from ..data.volatility import MEASURED, state_shock_scale
from ..data.world import DATA, SCO_STATUSES, World, build_relations

__all__ = ["History", "load_history", "SCALES", "scales_in", "trade_levels"]

#: Alignment scales a hindcast can be scored on, in order of preference (missing ones skipped):
#: the stable scale (one constant for all years), the yearly stretched one, the ideal points.
SCALES = ("alignment", "alignment_stretched", "alignment_ideal")
#: Columns that are (or reveal) the alignment: blanked after the origin in the conditional mode.
ALIGNMENT_COLUMNS = (*SCALES, "ideal_point", "unga_index", "unga_votes")


@dataclass(frozen=True)
class History:
    """The panel (with ``name``, ``region``, ``subregion``), the drivers (or None), the borders."""

    panel: pd.DataFrame
    drivers: pd.DataFrame | None
    borders: tuple[np.ndarray, np.ndarray]

    def upto(self, year: int) -> History:
        """The same data with every row after ``year`` dropped (what an origin may know)."""
        drivers = None if self.drivers is None else self.drivers[self.drivers["year"] <= year]
        return replace(self, panel=self.panel[self.panel["year"] <= year], drivers=drivers)

    def blind_after(self, year: int, columns=None) -> History:
        """Every row kept, but the alignment scales (or ``columns``) blanked after ``year``.

        What the conditional mode may know: what happened to the drivers after the origin,
        never the alignment it is scored on.
        """
        columns = [c for c in (columns or ALIGNMENT_COLUMNS) if c in self.panel.columns]
        panel = self.panel.copy()
        panel.loc[panel["year"] > year, columns] = np.nan
        return replace(self, panel=panel)

    @cached_property
    def iso3(self) -> np.ndarray:
        """Every state of the panel, sorted by code (the order of a ``World``)."""
        return np.sort(self.panel["iso3"].unique()).astype(str)

    @cached_property
    def _panel_cells(self) -> tuple[np.ndarray, np.ndarray]:
        return _cells(self.panel, self.iso3)

    @cached_property
    def _driver_cells(self) -> tuple[np.ndarray, np.ndarray]:
        return _cells(self.drivers, self.iso3)

    def last_year(self) -> int:
        """Last year of the panel."""
        return int(self.panel["year"].max())

    def matrix(self, column: str, years) -> np.ndarray:
        """``column`` as a (years, states) float array; NaN where a year or state has no row."""
        return _pivot(self.panel, column, years, self._panel_cells, len(self.iso3))

    def status(self, years) -> np.ndarray:
        """SCO status codes (0 none .. 3 member) as a (years, states) array; -1 where unknown."""
        codes = self.panel["sco_status"].map({s: k for k, s in enumerate(SCO_STATUSES)})
        frame = self.panel.assign(sco_code=codes.astype(float))
        m = _pivot(frame, "sco_code", years, self._panel_cells, len(self.iso3))
        return np.where(np.isnan(m), -1, m).astype(np.int8)

    def driver(self, column: str, years) -> np.ndarray:
        """A driver column as a (years, states) array; NaN where unknown or not in the data."""
        if self.drivers is None or column not in self.drivers.columns:
            return np.full((len(years), len(self.iso3)), np.nan)
        return _pivot(self.drivers, column, years, self._driver_cells, len(self.iso3))

    def has(self, column: str) -> bool:
        """Whether the panel or the drivers hold ``column``."""
        return column in self.panel.columns or (
            self.drivers is not None and column in self.drivers.columns)

    def world(self, year: int, scale: str = "alignment") -> World:
        """The world of ``year`` from that year's rows only, its alignment on ``scale``.

        Mirrors ``model.data.world.load_world`` for the built-in data (a test checks it), so the
        model starts from exactly what a scenario starting in ``year`` would.
        """
        rows = self.panel[self.panel["year"] == year].sort_values("iso3")
        if rows.empty:
            raise ScenarioError(f"no data for {year}", path="origins")
        f = lambda c: rows[c].to_numpy(dtype=float)  # noqa: E731
        e_sco, e_west = trade_levels(f("trade_sco"), f("trade_west"))
        text = lambda c: rows[c].to_numpy(dtype=str)  # noqa: E731
        arrays = dict(
            iso3=text("iso3"), name=text("name"), region=text("region"),
            subregion=text("subregion"), alignment=f(scale), gdp_usd=f("gdp_usd"),
            population=f("population"), governance=f("regime"), e_sco=e_sco,
            e_west=e_west, s_sco=f("sec_sco"), s_west=f("sec_west"),
            sco_status=np.array([SCO_STATUSES.index(s) for s in rows["sco_status"]], dtype=np.int8),
            nato=f("nato") > 0, eu=f("eu") > 0, csto=f("csto") > 0, brics=f("brics") > 0)
        for a in arrays.values():
            a.setflags(write=False)
        relations = partial(build_relations, arrays,
                            {"iso_a": self.borders[0], "iso_b": self.borders[1]})
        # the scale is per state of the panel: keep those of this year's rows, in their order
        shock_scale = self.shock_scale(year, scale)[np.searchsorted(self.iso3, arrays["iso3"])]
        shock_scale.setflags(write=False)
        return World(year=int(year), relations=relations, source=f"history:{scale}",
                     index={c: i for i, c in enumerate(arrays["iso3"])},
                     shock_scale=shock_scale, **arrays)

    def measured(self, scale: str, years) -> np.ndarray:
        """(years, states) True where ``scale`` was measured that year, not filled."""
        src, value = MEASURED.get(scale, MEASURED["alignment"])
        if src not in self.panel.columns:
            return np.isfinite(self.matrix(scale, years))
        panel = self.panel.assign(_measured=(self.panel[src] == value).astype(float))
        return _pivot(panel, "_measured", years, self._panel_cells, len(self.iso3)) == 1

    def shock_scale(self, year: int, scale: str = "alignment") -> np.ndarray:
        """Each state's shock scale from its measured changes on ``scale`` up to ``year`` only.

        As ``load_world`` gives the built-in world of that year on the stable scale.
        """
        years = np.arange(int(self.panel["year"].min()), int(year) + 1)
        out = state_shock_scale(self.matrix(scale, years), self.measured(scale, years))
        out.setflags(write=False)
        return out


def trade_levels(e_sco: np.ndarray, e_west: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Trade shares as a world carries them: scaled down together where they pass 1 together."""
    total = e_sco + e_west
    with np.errstate(invalid="ignore"):
        norm = np.where(total > 1, 1 / np.maximum(total, 1e-12), 1.0)
    return e_sco * norm, e_west * norm


def _cells(frame: pd.DataFrame | None, iso3: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each row's year and state position in ``iso3`` (-1 for a state not in it)."""
    if frame is None or frame.empty:
        return np.zeros(0, dtype=int), np.zeros(0, dtype=int)
    return (frame["year"].to_numpy(dtype=int),
            pd.Index(iso3).get_indexer(frame["iso3"].to_numpy()))


def _pivot(frame: pd.DataFrame, column: str, years, cells: tuple[np.ndarray, np.ndarray],
           n: int) -> np.ndarray:
    """``column`` of a long (iso3, year) table as a (years, states) array, NaN where absent."""
    years = np.asarray(years, dtype=int)
    out = np.full((len(years), n), np.nan)
    if column not in frame.columns or frame.empty:
        return out
    row_year, si = cells
    yi = np.searchsorted(years, row_year)
    ok = (si >= 0) & (yi < len(years))
    ok[ok] = years[yi[ok]] == row_year[ok]
    vals = pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float)
    out[yi[ok], si[ok]] = vals[ok]
    return out


def scales_in(history: History, wanted=SCALES) -> list[str]:
    """The scales of ``wanted`` the panel holds, in order (a scale not yet built is skipped)."""
    return [s for s in wanted if s in history.panel.columns]


def load_history() -> History:
    """The shipped data: panel with the states' names and groups, drivers if built, borders."""
    states = pd.read_csv(DATA / "states.csv", keep_default_na=False)
    panel = pd.read_csv(DATA / "panel.csv", keep_default_na=False, na_values=[""])
    panel = panel.merge(states[["iso3", "name", "region", "subregion"]], on="iso3", how="inner")
    panel = panel.sort_values(["year", "iso3"], ignore_index=True)
    borders = pd.read_csv(DATA / "borders.csv", keep_default_na=False)
    try:
        from ..data.drivers import load_drivers
    except ImportError:  # the data without driver histories
        drivers = None
    else:
        drivers = load_drivers()
    return History(panel=panel, drivers=drivers,
                   borders=(borders["iso_a"].to_numpy(dtype=str),
                            borders["iso_b"].to_numpy(dtype=str)))
