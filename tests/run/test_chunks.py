"""``run.chunks``: consecutive chunks of a cell run as one ensemble give each chunk's own bytes."""

from __future__ import annotations

from pathlib import Path

import pytest

from model.config.experiment import ExperimentSpec
from model.run.chunks import ChunkTask, compute_chunk, compute_group, groups
from model.run.design import expand

ROOT = Path(__file__).resolve().parents[2]
SCEN = ROOT / "scenarios"


@pytest.fixture(scope="module")
def tasks() -> list[ChunkTask]:
    """Two cells (baseline, classroom) of 5 runs in chunks of 2, 2 and 1; trajectories kept."""
    spec = ExperimentSpec.model_validate({
        "name": "grouped", "scenarios": [str(SCEN / "baseline.yaml"), str(SCEN / "classroom.yaml")],
        "replications": 5, "seed": 11, "horizon": 3, "chunk_size": 2, "keep_trajectories": True})
    design = expand(spec, base_dir=ROOT)
    return [ChunkTask(c, design.cells[c.cell], tuple(design.swept), tuple(spec.swing_group), True)
            for c in design.chunks]


def test_groups_keep_to_one_cell_and_a_number_of_runs(tasks):
    sizes = [[len(t.chunk.run_ids) for t in g] for g in groups(tasks, runs=4)]
    assert sizes == [[2, 2], [1], [2, 2], [1]]  # a cell's 5 runs: 4, then the rest; never across cells
    assert [[t.chunk.chunk_id for t in g] for g in groups(tasks, runs=100)] == [[0, 1, 2], [3, 4, 5]]
    assert [len(g) for g in groups(tasks, runs=1)] == [1] * 6  # a chunk larger than ``runs``: alone
    assert [t for g in groups(tasks, runs=3) for t in g] == tasks  # order kept


def test_a_group_gives_each_chunk_the_bytes_it_has_alone(tasks):
    for group in groups(tasks, runs=100):
        together = [t.encode() for t in compute_group(group)]
        assert together == [compute_chunk(t).encode() for t in group]
        assert all(set(tables) == {"outcomes", "states", "blocs", "trajectories"} for tables in together)
