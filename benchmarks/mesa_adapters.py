"""The mesa.batch_run contenders of ``bench_batch.py``: our ``BlocModel`` wrapped as ``mesa.Model``s.

Kept apart from ``bench_batch.py`` so that its own contender's process (``--one ours``) does not
import Mesa for the benchmark's sake: it imports what ``run_batch`` imports, nothing more.
"""

from __future__ import annotations

import sys
from pathlib import Path

import mesa
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from model.config.build import model_from_scenario  # noqa: E402
from model.config.checks import prepare_world  # noqa: E402
from model.config.scenario import load_scenario  # noqa: E402

BASELINE = ROOT / "scenarios" / "baseline.yaml"

_BASELINE_CACHE: dict = {}


def baseline():
    """The baseline scenario and its world, loaded once per process (as ``run_chunk`` does per chunk)."""
    if not _BASELINE_CACHE:
        scenario = load_scenario(BASELINE)
        _BASELINE_CACHE["v"] = (scenario, prepare_world(scenario, BASELINE.parent))
    return _BASELINE_CACHE["v"]


class MesaAdapter(mesa.Model):
    """One baseline replication for ``mesa.batch_run``: our ``BlocModel`` plus a Mesa DataCollector.

    The inner model is built exactly as ``model.run.chunks.run_chunk`` builds it for a seed, so both
    sides draw the same random numbers. The collector keys records by the inner model's step
    count (0 = the start year, then 1..horizon), and ``batch_run`` reads steps
    0..``self.steps - 1``; so the adapter takes one more step than the model, which only stops
    it, for the last year to be reported.
    """

    def __init__(self, seed: int) -> None:
        super().__init__(seed=seed)
        scenario, world = baseline()
        self.bloc = model_from_scenario(scenario, rng=np.random.default_rng(seed), world=world)
        self.datacollector = mesa.DataCollector(agent_reporters={"alignment": "alignment"})
        self.datacollector.collect(self.bloc)

    def step(self) -> None:
        if self.bloc.k < self.bloc.steps_total:
            self.bloc.step()
            self.datacollector.collect(self.bloc)
        else:
            self.running = False


class LeanAdapter(mesa.Model):
    """One baseline replication, recorded lean: one alignment array per step, released at the end.

    The same inner model as ``MesaAdapter``; a model-level reporter copies the (n,) alignment
    array each step, and the inner model is released (``BlocModel.release``) when it stops.
    """

    def __init__(self, seed: int) -> None:
        super().__init__(seed=seed)
        scenario, world = baseline()
        self.bloc = model_from_scenario(scenario, rng=np.random.default_rng(seed), world=world)
        self.datacollector = mesa.DataCollector(model_reporters={"alignment": _alignment})
        self.datacollector.collect(self)

    def step(self) -> None:
        if self.bloc.k < self.bloc.steps_total:
            self.bloc.step()
            self.datacollector.collect(self)
        else:
            self.running = False
            self.bloc.release()


def _alignment(model: LeanAdapter) -> np.ndarray:
    return model.bloc.a.copy()


ADAPTERS = {"lean": LeanAdapter, "heavy": MesaAdapter}
