"""Scoring a candidate strategy: its outcome in every scenario and replication, with common random numbers.

Every candidate runs the same replication seeds (``SeedSequence(seed).spawn(replications)``,
as a batch with that seed does) in every scenario, on the run service's one loop
(``run.service.run_group`` through ``run.chunks.records``: the ensemble engine, each run equal to
``BlocModel`` with its seed), so two candidates differ by what they do, not by their luck, and a
strategy file written from a candidate gives the same outcomes in ``blocsim batch``. Outcomes are
computed run by run exactly as the batch's outcomes table does. Candidates can be spread over
worker processes (``Evaluator.map``); the results come back in the order asked, so the number of
workers changes nothing but the time.

Imports base, data, core, config and run only.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..config.checks import load_listed_scenario, prepare_world
from ..config.scenario import Scenario, Strategy
from ..config.search import SearchSpec
from ..core.blocs import bloc_series
from ..core.seeds import replication_seeds


@dataclass(frozen=True)
class Problem:
    """What scoring needs, as plain data (picklable): resolved scenarios, seeds, outcome, swing group."""

    scenarios: tuple[dict, ...]
    seeds: tuple[int, ...]
    outcome: str
    swing_group: tuple[str, ...]

    @property
    def names(self) -> list[str]:
        """The scenarios' names, in order."""
        return [doc["name"] for doc in self.scenarios]


def load_problem(spec: SearchSpec, base_dir: Path | None = None) -> Problem:
    """Read and check the spec's scenarios (the horizon applied); errors name the spec's field."""
    base = Path(base_dir) if base_dir else Path(spec._source).parent
    docs = []
    for i, rel in enumerate(spec.scenarios):
        sc, world = load_listed_scenario(spec, base, rel, i, spec.horizon)
        try:
            world.mask(list(spec.swing_group))
        except KeyError as exc:
            raise spec.error(f"unknown state code or group {exc}", ("swing_group",)) from None
        docs.append(sc.model_dump(mode="json"))
    _one_period(spec, docs)
    names = [d["name"] for d in docs]
    if len(set(names)) != len(names):
        raise spec.error("scenario names must differ", ("scenarios",))
    return Problem(tuple(docs), tuple(replication_seeds(spec.seed, spec.replications)),
                   spec.outcome, tuple(spec.swing_group))


def _one_period(spec: SearchSpec, docs: list[dict]) -> None:
    """Refuse scenarios of other years: a candidate is costed once, over one period.

    The comparison at equal cost scales strategies over that period too.
    """
    first = docs[0]
    for i, doc in enumerate(docs[1:], start=1):
        if (doc["start_year"], doc["horizon"]) != (first["start_year"], first["horizon"]):
            span = [f"{d['start_year'] + 1}-{d['start_year'] + d['horizon']}" for d in (doc, first)]
            raise spec.error(f"{spec.scenarios[i]} simulates {span[0]} but {spec.scenarios[0]} "
                             f"{span[1]}: a search costs its allocations over one period, so every "
                             f"scenario must start in the same year and run as long", ("scenarios", i))


class Evaluator:
    """Scores strategies on a problem: ``evaluator(strategy)`` -> (scenarios, replications)."""

    def __init__(self, problem: Problem):
        self.problem = problem
        self.scenarios = [Scenario.model_validate(doc) for doc in problem.scenarios]
        self.worlds = [prepare_world(sc) for sc in self.scenarios]
        self.swing = [w.mask(list(problem.swing_group)) for w in self.worlds]

    def __call__(self, strategy: Strategy | dict) -> np.ndarray:
        """The outcome of every run (NaN for a failed run), (scenarios, replications)."""
        from ..run.chunks import records

        if isinstance(strategy, dict):
            strategy = Strategy.model_validate(strategy)
        seeds = list(self.problem.seeds)
        out = np.full((len(self.scenarios), len(seeds)), np.nan)
        for s, (sc, world) in enumerate(zip(self.scenarios, self.worlds, strict=True)):
            combined = sc.with_strategy(strategy)
            rec = records(combined, world, seeds)
            threshold = combined.parameters.lean_threshold
            for r, err in enumerate(rec.error):
                if err is None:  # run by run on its last row, as the batch's outcomes table
                    row = bloc_series(rec.alignment[r, -1:], rec.status[r, -1:], world.gdp_usd,
                                      world.population, threshold, self.swing[s])
                    out[s, r] = float(row[self.problem.outcome][0])
        return out

    def map(self, strategies: list[Strategy], workers: int = 1) -> list[np.ndarray]:
        """Score several strategies, in order; ``workers`` > 1 spreads them over processes."""
        if workers <= 1 or len(strategies) <= 1:
            return [self(s) for s in strategies]
        pool = self._pool(workers)
        docs = [s.model_dump(mode="json") for s in strategies]
        return list(pool.map(_work, docs))

    def _pool(self, workers: int):
        pool = getattr(self, "_executor", None)
        if pool is None:
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor

            pool = ProcessPoolExecutor(max_workers=workers,
                                       mp_context=multiprocessing.get_context("spawn"),
                                       initializer=_init, initargs=(self.problem,))
            self._executor = pool
        return pool

    def close(self) -> None:
        """Stop the worker processes, if any were started."""
        pool = getattr(self, "_executor", None)
        if pool is not None:
            pool.shutdown()
            self._executor = None


_WORKER: Evaluator | None = None  # one per worker process, built once by its initializer


def _init(problem: Problem) -> None:
    global _WORKER
    _WORKER = Evaluator(problem)


def _work(doc: dict) -> np.ndarray:
    return _WORKER(doc)
