"""Robustness criteria over scenarios and replications, and the Pareto front: pure numpy.

Every candidate's outcome is an array (scenarios, replications) of runs with common random
numbers (replication k has the same seed for every candidate and scenario). Values are first
turned to the West's point of view, ``u = sign * value`` (``core.outcomes.better_sign``: more is
better), and a criterion reduces them to one score, larger is better:

- ``mean``: the mean over scenarios of each scenario's mean over replications;
- ``worst``: the worst scenario's mean (maximin);
- ``regret``: minus the largest regret over scenarios, a scenario's regret being how far the
  candidate's mean falls short of the best mean any candidate scored there (Savage's minimax
  regret, as in EMA Workbench). The final ranking (``results.search_tables``) takes the best of
  every candidate of the search. While searching, the best is only known "so far" (the journal
  up to the candidate's batch), and optuna cannot change a value once told; so the sampler is
  told regret against the best so far, which can only be smaller than the final one (the bests
  only improve). This steers where the sampler looks next, never what is ranked or written:
  ``rank``, the best allocations and the progress bar's last value are the final regrets
  (``worst``, ``mean`` and ``percentile`` depend on the candidate alone: the search and the
  final ranking use the same numbers);
- ``percentile``: the ``p``-th percentile of all runs pooled (the West's bad tail: p = 10 is the
  value 90% of runs do better than).

Imports numpy only.
"""

from __future__ import annotations

import numpy as np


def scenario_means(u: np.ndarray) -> np.ndarray:
    """(candidates, scenarios) means over replications of (candidates, scenarios, reps) values."""
    return u.mean(axis=-1)


def regrets(u: np.ndarray) -> np.ndarray:
    """(candidates,) largest regret over scenarios, against the best candidate of each scenario."""
    m = scenario_means(u)
    return (m.max(axis=0, keepdims=True) - m).max(axis=1)


def scores(u: np.ndarray, criterion: str, percentile: float = 10.0) -> np.ndarray:
    """(candidates,) score of each candidate, larger is better, from (candidates, S, R) values."""
    m = scenario_means(u)
    if criterion == "mean":
        return m.mean(axis=1)
    if criterion == "worst":
        return m.min(axis=1)
    if criterion == "regret":
        return -regrets(u)
    if criterion == "percentile":
        return np.percentile(u.reshape(len(u), -1), percentile, axis=1)
    raise ValueError(f"unknown criterion {criterion!r}")


def pareto_mask(points: np.ndarray) -> np.ndarray:
    """(n,) True where no other point is at least as good everywhere and better somewhere.

    ``points`` is (n, k), every column larger-is-better (negate a cost first). A point that is
    not finite is never on the front. Identical points are all kept.
    """
    p = np.asarray(points, dtype=float)
    ok = np.isfinite(p).all(axis=1)
    ge = (p[:, None, :] >= p[None, :, :]).all(axis=2)  # ge[j, i]: j at least as good as i
    gt = (p[:, None, :] > p[None, :, :]).any(axis=2)
    dominated = (ge & gt & ok[:, None]).any(axis=0)
    return ok & ~dominated
