"""A synthetic world CSV of N states in the built-in format, for scale tests (issue 8).

States are points in the unit square. Twenty subregions (~N/20 states each, sizes varied) are
the Voronoi cells of twenty random centres; five regions group four subregions each. Land
borders (the optional ``borders`` column) tie each state to its 3 nearest states, symmetrised:
a planar-ish graph with 3-6 neighbours a state. NATO / EU / CSTO / SCO / BRICS take about the
built-in world's shares of states (17 %, 14 %, 3 %, 5 %, 5 %) from chosen subregions; CHN, RUS,
USA and DEU are the first four codes so the trade ties of ``build_relations`` exist. GDP and
population are lognormal, alignment is in [-1, 1] (negative: West, as in the built-in data) and
tilts with the blocs. Deterministic from ``--seed``.

    python benchmarks/synthetic_world.py 10000 --out /tmp/world_10k.csv [--seed 1]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

N_SUBREGIONS, N_REGIONS, BORDER_K = 20, 5, 3
GIANTS = ("CHN", "RUS", "USA", "DEU")


def codes(n: int) -> np.ndarray:
    """State codes: the four trade partners, then S0000001, S0000002, ..."""
    rest = [f"S{i:07d}" for i in range(1, n - len(GIANTS) + 1)]
    return np.array(list(GIANTS)[:n] + rest[: max(n - len(GIANTS), 0)], dtype=object)


def synthetic_world(n: int, seed: int = 1) -> pd.DataFrame:
    """The table of ``n`` states (one row each, columns as model/data/README.md)."""
    if n < 10:
        raise ValueError("a synthetic world needs at least 10 states")
    rng = np.random.default_rng(seed)
    iso3 = codes(n)
    xy = rng.random((n, 2))
    centres = rng.random((N_SUBREGIONS, 2))
    sub = cKDTree(centres).query(xy)[1]                      # Voronoi cell = subregion
    region = sub % N_REGIONS
    # Western subregions: 0..5; SCO subregions: 10..13 (by index, so the choice is seed-stable)
    west = np.isin(sub, np.arange(0, 6))
    east = np.isin(sub, np.arange(10, 14))
    nato = west & (rng.random(n) < 0.17 * n / max(west.sum(), 1))
    eu = west & (rng.random(n) < 0.14 * n / max(west.sum(), 1))
    sco_member = east & (rng.random(n) < 0.05 * n / max(east.sum(), 1))
    csto = sco_member & (rng.random(n) < 0.6)
    brics = (east | np.isin(sub, [16, 17])) & (rng.random(n) < 0.05 * n / max(
        (east | np.isin(sub, [16, 17])).sum(), 1))
    status = np.where(sco_member, "member", "none").astype(object)
    near_east = ~sco_member & np.isin(sub, np.arange(8, 16))
    draw = rng.random(n)
    status[near_east & (draw < 0.05)] = "observer"
    status[near_east & (draw >= 0.05) & (draw < 0.15)] = "dialogue_partner"
    for i, (is_nato, is_eu, is_sco, is_csto, is_brics) in enumerate(
            ((True, False, False, False, False), (False, False, True, True, True),
             (True, False, False, False, False), (True, True, False, False, False))):
        nato[i], eu[i], csto[i], brics[i] = is_nato, is_eu, is_csto, is_brics
        status[i] = "member" if is_sco else "none"
    tilt = 0.6 * (status == "member") - 0.5 * nato - 0.2 * eu + 0.3 * brics
    alignment = np.clip(tilt + rng.normal(0.0, 0.35, n), -1.0, 1.0)
    trade_sco = rng.beta(2, 8, n) + 0.15 * (status == "member")
    trade_west = rng.beta(2, 6, n) + 0.15 * (nato | eu)
    total = trade_sco + trade_west
    shrink = np.where(total > 0.95, 0.95 / total, 1.0)
    sec_west = np.clip(nato * 0.8 + rng.beta(1, 8, n), 0, 1)
    sec_sco = np.clip(csto * 0.7 + (status == "member") * 0.2 + rng.beta(1, 10, n), 0, 1)
    _, nbr = cKDTree(xy).query(xy, k=BORDER_K + 1)          # first hit is the state itself
    borders = [";".join(iso3[j] for j in row[1:] if j != i) for i, row in enumerate(nbr)]
    return pd.DataFrame({
        "iso3": iso3,
        "name": [f"State {c}" for c in iso3],
        "region": [f"Region {r + 1}" for r in region],
        "subregion": [f"Subregion {s + 1}" for s in sub],
        "alignment": alignment.round(5),
        "gdp_usd": np.exp(rng.normal(24.0, 2.0, n)).round(0),
        "population": np.exp(rng.normal(15.5, 1.8, n)).round(0),
        "regime": rng.beta(2, 2, n).round(4),
        "trade_sco": (trade_sco * shrink).round(4),
        "trade_west": (trade_west * shrink).round(4),
        "sec_sco": sec_sco.round(4),
        "sec_west": sec_west.round(4),
        "sco_status": status,
        "nato": nato.astype(int), "eu": eu.astype(int), "csto": csto.astype(int),
        "brics": brics.astype(int),
        "borders": borders,
    })


def write_world(n: int, path: str | Path, seed: int = 1) -> Path:
    """Write the synthetic world of ``n`` states to ``path`` (CSV); returns the path."""
    path = Path(path)
    synthetic_world(n, seed).to_csv(path, index=False)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", type=int, help="number of states")
    parser.add_argument("--out", required=True, help="CSV to write")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    path = write_world(args.n, args.out, args.seed)
    print(f"{args.n} states -> {path} ({path.stat().st_size / 1e6:.1f} MB)")


if __name__ == "__main__":
    main()
