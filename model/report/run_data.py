"""The numbers a run's figures and summary show, computed in numpy from a table's columns.

A table is anything whose columns read as arrays by name: the run's own columns
(``run.tables.RunTables.arrays``, what ``blocsim run`` passes) or a pandas DataFrame (a
notebook's). Keeping pandas out spares ``blocsim run`` its imports (0.3-0.5 s). Groups are
found by sorting, so rows may come in any order; quantiles interpolate linearly between the
sorted runs, as pandas and numpy do by default.

Imports core only (and numpy).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from ..core.blocs import CAMPS
from ..core.record import DRIVERS

#: Percentiles across runs: name -> quantile; ``STATS`` is the order tables list them in.
QUANTILES = {"p5": 0.05, "p25": 0.25, "median": 0.5, "p75": 0.75, "p95": 0.95}
STATS = ("median", "p5", "p25", "p75", "p95")
MEASURES = {"gdp_share": "world GDP", "pop_share": "world population", "states": "states"}

Table = Mapping[str, Sequence]


def column(table: Table, name: str) -> np.ndarray:
    """One column as a numpy array."""
    return np.asarray(table[name])


def n_runs(table: Table) -> int:
    """How many runs the table holds."""
    return len(np.unique(column(table, "run")))


def _groups(*keys: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
    """The distinct combinations of ``keys`` (sorted, one array per key) and each row's group number."""
    codes = [_distinct(k) for k in keys]
    sizes = [len(u) for u, _ in codes]
    flat = np.ravel_multi_index([inv for _, inv in codes], sizes)
    seen = np.bincount(flat, minlength=int(np.prod(sizes)))  # combinations, by counting: no sort
    present = np.flatnonzero(seen)
    number = np.zeros(len(seen), dtype=np.intp)
    number[present] = np.arange(len(present))
    where = np.unravel_index(present, sizes)
    return [u[w] for (u, _), w in zip(codes, where, strict=True)], number[flat]


def _distinct(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sorted distinct values and each row's index among them (``np.unique``'s, with its inverse).

    Text of at most three characters (state codes) is sorted as one integer per row, three times
    faster than sorting strings: the characters' code points packed in order keep its order.
    """
    if values.dtype.kind == "U" and values.dtype.itemsize <= 12 and len(values):
        points = values.view(np.uint32).reshape(len(values), -1).astype(np.uint64)
        if points.max() < 1 << 21:
            packed = np.zeros(len(values), dtype=np.uint64)
            for i in range(points.shape[1]):
                packed = (packed << np.uint64(21)) | points[:, i]
            _, first, inverse = np.unique(packed, return_index=True, return_inverse=True)
            return values[first], inverse.ravel()
    distinct, inverse = np.unique(values, return_inverse=True)
    return distinct, inverse.ravel()


def group_quantiles(group: np.ndarray, values: np.ndarray, n: int) -> dict[str, np.ndarray]:
    """``QUANTILES`` of ``values`` in each of ``n`` groups (numbered 0..n-1), linearly interpolated."""
    order = np.lexsort((values, group))
    v = values[order]
    counts = np.bincount(group, minlength=n)
    starts = np.r_[0, np.cumsum(counts)[:-1]]
    out = {}
    for name, q in QUANTILES.items():
        pos = q * (counts - 1)
        lo = np.floor(pos).astype(int)
        hi = np.minimum(lo + 1, counts - 1)
        a, b = v[starts + lo], v[starts + hi]
        out[name] = a + (b - a) * (pos - lo)
    return out


def group_means(group: np.ndarray, values: np.ndarray, n: int) -> np.ndarray:
    """Mean of ``values`` (rows, or rows x columns) within each of ``n`` groups."""
    counts = np.bincount(group, minlength=n)
    return group_sums(group, values, n) / (counts if values.ndim == 1 else counts[:, None])


def group_sums(group: np.ndarray, values: np.ndarray, n: int) -> np.ndarray:
    """Sum of ``values`` (rows, or rows x columns) within each of ``n`` groups, in row order."""
    if values.ndim == 1:
        return np.bincount(group, weights=values, minlength=n)
    return np.column_stack([np.bincount(group, weights=v, minlength=n) for v in values.T])


def bloc_shares(blocs: Table, measure: str = "gdp_share") -> tuple[np.ndarray, dict[str, dict]]:
    """Years, and per camp the median and percentiles across runs of its share of ``measure``.

    ``"states"`` counts become shares of all states. Shares are fractions of 1.
    """
    if measure not in MEASURES:
        raise ValueError(f"measure must be one of {', '.join(MEASURES)}, not {measure!r}")
    shares = np.column_stack([column(blocs, f"{measure}_{c}") for c in CAMPS]).astype(float)
    if measure == "states":
        shares = shares / shares.sum(axis=1, keepdims=True)
    (years,), group = _groups(column(blocs, "year"))
    return years, {c: group_quantiles(group, shares[:, i], len(years)) for i, c in enumerate(CAMPS)}


def names(traj: Table) -> dict[str, str]:
    """State names by ISO3 code (the code itself when the table has no names); the last row's name wins."""
    iso = column(traj, "iso3")
    name = column(traj, "name") if "name" in traj else iso
    last = len(iso) - 1 - np.unique(iso[::-1], return_index=True)[1]
    return dict(zip(iso[last].tolist(), name[last].tolist(), strict=True))


def state_series(traj: Table, iso3s: Sequence[str]) -> tuple[np.ndarray, dict[str, dict[str, np.ndarray]]]:
    """Years, and per state asked for (in that order) its alignment's median and percentiles across runs."""
    iso, years = column(traj, "iso3"), column(traj, "year")
    keep = np.isin(iso, list(iso3s))
    (states, ys), group = _groups(iso[keep], years[keep])
    q = group_quantiles(group, column(traj, "alignment")[keep], len(states))
    out = {}
    for code in dict.fromkeys(iso3s):  # states absent from the table are left out
        rows = states == code
        if rows.any():
            out[code] = {k: v[rows] for k, v in q.items()} | {"year": ys[rows]}
    return np.unique(years[keep]), out


def alignment_grid(traj: Table) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """States (sorted codes), years, and the mean alignment over runs, states by years."""
    (states, ys), group = _groups(column(traj, "iso3"), column(traj, "year"))
    means = group_means(group, column(traj, "alignment").astype(float), len(states))
    iso, yr = np.unique(states), np.unique(ys)
    grid = np.full((len(iso), len(yr)), np.nan)
    grid[np.searchsorted(iso, states), np.searchsorted(yr, ys)] = means
    return iso, yr, grid


def world_grid(traj: Table, world, years: Sequence | None = None) -> tuple[np.ndarray, ...]:
    """Region, subregion and code of each state, the years, and the mean alignment, states by years.

    States are grouped by region, then subregion, and within a subregion run from the most
    Western to the most SCO-leaning alignment in the first year kept, so neighbours with similar
    paths sit together. ``world`` gives regions and subregions; ``years`` keeps those columns.
    """
    iso, yr, grid = alignment_grid(traj)
    if years is not None:
        cols = [int(np.flatnonzero(yr == y)[0]) for y in years]
        yr, grid = yr[cols], grid[:, cols]
    at = {c: i for i, c in enumerate(np.asarray(world.iso3).tolist())}
    rows = [at[c] for c in iso.tolist()]
    region = np.asarray(world.region).astype(str)[rows]
    sub = np.asarray(world.subregion).astype(str)[rows]
    order = np.lexsort((grid[:, 0], sub, region))  # stable: ties keep the codes' order
    return region[order], sub[order], iso[order], yr, grid[order]


def start_end(traj: Table) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """States (sorted codes), and their mean alignment over runs in the first and the last year."""
    iso, _, grid = alignment_grid(traj)
    return iso, grid[:, 0], grid[:, -1]


def top_movers(traj: Table, n: int = 3) -> list[str]:
    """ISO3 codes of the ``n`` states whose mean alignment changed most, largest first; ties by code."""
    iso, start, end = start_end(traj)
    return iso[np.argsort(-np.abs(end - start), kind="stable")[:n]].tolist()


def contributions(traj: Table, iso3s: Sequence[str], drivers: Sequence[str] = DRIVERS) -> np.ndarray:
    """Each driver's contribution (``c_<driver>``) summed over years, mean over runs, per state asked for."""
    iso = column(traj, "iso3")
    keep = np.isin(iso, list(iso3s))
    (states,), group = _groups(iso[keep])
    values = np.column_stack([column(traj, f"c_{d}")[keep] for d in drivers]).astype(float)
    total = group_sums(group, values, len(states)).reshape(len(states), len(drivers)) / n_runs(traj)
    at = {s: i for i, s in enumerate(states.tolist())}
    missing = np.full(len(drivers), np.nan)
    return np.array([total[at[s]] if s in at else missing for s in dict.fromkeys(iso3s)])


def attribution(traj: Table, iso3s: Sequence[str], min_share: float = 0.02) -> tuple[list[str], np.ndarray]:
    """Drivers kept and their totals per state (``contributions``), the small ones summed as ``other``.

    Drivers whose largest |total| is under ``min_share`` of the largest among these states go
    into one ``other`` column (kept only if it is not all zero), so legends list what matters.
    """
    total = contributions(traj, iso3s)
    size = np.abs(total).max(axis=0)
    small = size < min_share * size.max()
    kept = [d for d, s in zip(DRIVERS, small, strict=True) if not s]
    out = total[:, ~small]
    if (size[small] > 0).any():
        kept.append("other")
        out = np.column_stack([out, total[:, small].sum(axis=1)])
    return kept, out
