"""Where the class's world falls among many model runs of the same scenario without players.

Two ensembles of the game's scenario (the game's horizon and teaching noise, so only the random
numbers differ between runs), run by the ensemble engine (``config.build.run_ensemble``; run r
equals ``BlocModel`` with seed r): *the scenario's own strategies* (its SCO and Western
programmes, no teams) and *no strategies* (every programme removed: the world left to its
peers, inertia, events and chance). Seeds are ``core.seeds.replication_seeds(game seed, runs)``.
Each compared measure is read at the year the class's game has reached, so a game ended early
is compared with runs of the same length. ``compare`` puts the class's value among the runs
(percentiles, rank) and says it in a sentence ("your class kept 3.1 points more of world GDP in
the Western camp than 90% of the model's runs").

Imports numpy, core, config and the game's own modules only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..config.build import run_ensemble
from ..core.blocs import bloc_series
from ..core.seeds import replication_seeds

RUNS = 500
#: Measures compared: name -> (what it is, is it a share of world GDP (else an alignment)).
MEASURES = {
    "gdp_share_west": ("of world GDP in the Western camp", True),
    "gdp_share_sco": ("of world GDP in the SCO camp", True),
    "gdp_weighted_alignment": ("the world's GDP-weighted mean alignment", False),
    "key_states_alignment": ("the key states' mean alignment", False),
}
SETS = {"scenario": "the scenario's own strategies, no players",
        "nothing": "no strategies at all, no players"}
#: Differences smaller than this (a share, an alignment) are "within the range": they would
#: print as zero.
SHOWN = {True: 0.0005, False: 0.0005}


@dataclass(frozen=True)
class Comparison:
    """One measure: the class's value among the runs of one ensemble, and the sentence."""

    measure: str
    ensemble: str
    value: float
    runs: np.ndarray
    rank: float        # share of runs below the class's value (ties count half)
    p10: float
    p50: float
    p90: float
    text: str

    @property
    def outside(self) -> bool:
        """Whether the class's world lies beyond the runs' 10-90% range (as the text says)."""
        return not self.text.startswith("Your class's world, with")


def no_strategies(scenario):
    """The scenario with every SCO and Western programme removed."""
    return scenario.model_copy(update={"sco": type(scenario.sco)(),
                                       "west": type(scenario.west)()})


def measures_at(alignment: np.ndarray, status: np.ndarray, world, threshold: float,
                key_idx: list[int]) -> dict[str, np.ndarray]:
    """The compared measures of many worlds at once: ``alignment``, ``status`` are (R, n)."""
    rows = bloc_series(alignment, status, world.gdp_usd, world.population, threshold)
    out = {k: np.asarray(rows[k], dtype=float) for k in MEASURES if k in rows}
    out["key_states_alignment"] = alignment[:, key_idx].mean(axis=1)
    return out


def model_runs(game, runs: int = RUNS) -> dict[str, dict[str, np.ndarray]]:
    """Per ensemble (``SETS``): each measure over ``runs`` runs, at the game's current year."""
    keys = game.spec.key_states or list(game.scenario.key_states)
    key_idx = [game.world.index[s] for s in keys]
    seeds = replication_seeds(game.spec.seed, runs)
    out = {}
    for name, scenario in (("scenario", game.scenario), ("nothing", no_strategies(game.scenario))):
        ens = run_ensemble(scenario, seeds, world=game.world, attribution=False)
        k = int(np.argmin(np.abs(ens.times - game.year)))
        out[name] = measures_at(ens.alignment[:, k], ens.status[:, k], game.world,
                                game.threshold, key_idx)
    return out


def class_measures(game) -> dict[str, float]:
    """The class's world now, in the same measures."""
    m = game.moment()
    keys = game.spec.key_states or list(game.scenario.key_states)
    vals = measures_at(m["alignment"][None], m["status"][None], game.world, game.threshold,
                       [game.world.index[s] for s in keys])
    return {k: float(v[0]) for k, v in vals.items()}


def _fmt(value: float, share: bool) -> str:
    return f"{100 * value:.1f}%" if share else f"{value:+.3f}"


def _diff(value: float, share: bool) -> str:
    return f"{100 * value:.1f} points" if share else f"{value:.3f}"


def sentence(measure: str, value: float, runs: np.ndarray, ensemble: str) -> tuple[str, float,
                                                                                   float, float,
                                                                                   float]:
    """The sentence for one measure, with the rank and the 10th, 50th and 90th percentiles."""
    what, share = MEASURES[measure]
    p10, p50, p90 = (float(q) for q in np.quantile(runs, [0.1, 0.5, 0.9]))
    rank = float((np.sum(runs < value) + 0.5 * np.sum(runs == value)) / len(runs))
    kind = f"{len(runs)} model runs with {SETS[ensemble]}"
    high, low = value - p90 >= SHOWN[share], p10 - value >= SHOWN[share]
    if share and (high or low):
        text = (f"Your class kept {_diff(abs(value - (p90 if high else p10)), share)} "
                f"{'more' if high else 'less'} {what} than 90% of the {kind} "
                f"({_fmt(value, share)}; 90% of runs {'at most' if high else 'at least'} "
                f"{_fmt(p90 if high else p10, share)}).")
    elif high or low:
        text = (f"In your class's world {what} ended "
                f"{_diff(abs(value - (p90 if high else p10)), share)} further towards "
                f"{'the SCO' if high else 'the West'} than in 90% of the {kind} "
                f"({_fmt(value, share)}; 90% of runs {'at most' if high else 'at least'} "
                f"{_fmt(p90 if high else p10, share)}).")
    else:
        subject = f"{_fmt(value, share)} {what}" if share else f"{what} at {_fmt(value, share)}"
        text = (f"Your class's world, with {subject}, is within the usual range of the {kind} "
                f"(10-90%: {_fmt(p10, share)} to {_fmt(p90, share)}; it is above {100 * rank:.0f}% "
                f"of them).")
    return text, rank, p10, p50, p90


def compare(game, runs: int = RUNS) -> list[Comparison]:
    """Every measure of the class's world against both ensembles."""
    mine = class_measures(game)
    out = []
    for ensemble, vals in model_runs(game, runs).items():
        for measure in MEASURES:
            text, rank, p10, p50, p90 = sentence(measure, mine[measure], vals[measure], ensemble)
            out.append(Comparison(measure, ensemble, mine[measure], vals[measure], rank, p10, p50,
                                  p90, text))
    return out
