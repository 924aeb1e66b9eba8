"""``EnsembleResult``: R runs of one scenario, shared parts stored once, one run put together on demand.

Part of the core: imports numpy, the core's own modules and ``ensemble.columns`` only.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..record import DRIVERS, RunResult
from .columns import replay_contributions, shared_parts


@dataclass
class EnsembleResult:
    """R runs of one scenario: per-run arrays (R, T+1, n), shared parts once, divergence sparsely.

    ``structure`` and ``contributions`` are stored as the shared array plus, per step, the
    (state, run) columns that diverged; ``structure_of(r)``, ``contributions_of(r)`` and
    ``run_result(r)`` put one run together, equal to what ``BlocModel`` records.
    """

    seeds: list
    times: np.ndarray             # (T+1,)
    iso3: np.ndarray              # (n,)
    alignment: np.ndarray         # (R, T+1, n)
    status: np.ndarray            # (R, T+1, n) int8
    structure_shared: np.ndarray  # (T+1, channels, n)
    structure_pairs: list         # per step: (states, runs, (channels, m) values)
    status_logs: list             # per run: [(year, iso3, old, new, source)]
    gdp_usd: np.ndarray
    population: np.ndarray
    attribution: bool
    pushes_shared: np.ndarray | None = None  # (T+1, sources, n); row 0 unused
    pushes_pairs: list | None = None         # per step: (states, runs, (sources, m))
    peer: np.ndarray | None = None           # (T+1, n, R) peer pushes
    shock: np.ndarray | None = None          # (T+1, n, R) shock pushes
    a0: np.ndarray | None = None             # (n,) start alignment (the anchor)
    dt: float = 1.0
    inertia: float = 0.0
    _parts: tuple | None = field(default=None, repr=False)  # shared_parts, once asked for

    @property
    def runs(self) -> int:
        """Number of replications R."""
        return self.alignment.shape[0]

    def structure_of(self, r: int) -> np.ndarray:
        """Run ``r``'s structure (T+1, channels, n): the shared one with its diverged columns."""
        out = self.structure_shared.copy()
        for k, (states, runs, vals) in enumerate(self.structure_pairs):
            sel = runs == r
            if sel.any():
                out[k][:, states[sel]] = vals[:, sel]
        return out

    def contributions_of(self, r: int) -> np.ndarray:
        """Run ``r``'s contributions (T+1, drivers, n), row 0 zeros, as ``BlocModel`` records them."""
        if not self.attribution:
            raise ValueError("run with attribution=True to get contributions")
        if self._parts is None:
            self._parts = shared_parts(self.pushes_shared)
        pairs = [(states[runs == r], vals[:, runs == r]) for states, runs, vals in self.pushes_pairs]
        return replay_contributions(self.alignment[r], self._parts, pairs,
                                    np.ascontiguousarray(self.peer[..., r]),
                                    np.ascontiguousarray(self.shock[..., r]), self.a0, self.inertia,
                                    self.dt)

    def run_result(self, r: int) -> RunResult:
        """Run ``r`` as the ``RunResult`` that ``BlocModel`` with seed ``seeds[r]`` returns."""
        t1, n = self.alignment.shape[1], self.alignment.shape[2]
        contrib = self.contributions_of(r) if self.attribution else np.zeros((t1, len(DRIVERS), n))
        return RunResult(times=self.times, iso3=self.iso3, alignment=self.alignment[r],
                         structure=self.structure_of(r), status=self.status[r],
                         contributions=contrib, gdp_usd=self.gdp_usd, population=self.population,
                         status_log=list(self.status_logs[r]))

    def run_results(self) -> list[RunResult]:
        """Every run as a ``RunResult``, in seed order (what ``BlocModel`` returns seed by seed)."""
        return [self.run_result(r) for r in range(self.runs)]
