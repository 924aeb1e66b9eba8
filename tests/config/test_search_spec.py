"""The search spec's bounds: every field in range is not enough when together they ask for years."""

from __future__ import annotations

import pytest

from model.base.errors import ScenarioError
from model.config.experiment import MAX_RUNS
from model.config.search import load_search

SPEC = """name: s
scenarios: [a.yaml, b.yaml]
budget: 10
levers: [trade_agreements]
targets: [africa]
trials: {trials}
replications: {replications}
"""


def test_a_search_of_more_runs_than_a_batch_is_refused(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text(SPEC.format(trials=100_000, replications=10_000), encoding="utf-8")
    with pytest.raises(ScenarioError, match=f"at most {MAX_RUNS:,}") as err:
        load_search(path)
    assert "2,000,000,000 model runs" in str(err.value) and "\n" not in str(err.value)
    path.write_text(SPEC.format(trials=400, replications=20), encoding="utf-8")
    assert load_search(path).trials == 400
