"""The shipped model's headline hindcast scores, pinned: any change of the model shows here.

The pinned table is ``headline.csv`` of the default run (test origins 2014-2023, horizons 1, 3,
5 and 10, both modes, every scale), the figures docs/model.md section 12 and the README quote.
When a change to the model or the data moves them on purpose, regenerate it and let the diff be
reviewed (and update the docs):

    python -m model history --out out/history -q
    cp out/history/headline.csv tests/history/pinned_headline.csv
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from model.history.data import load_history
from model.history.harness import HistoryConfig, run_hindcasts
from model.history.tables import headline, score_table

PINNED = Path(__file__).with_name("pinned_headline.csv")
TOLERANCE = 2e-6  # the table is written with 6 decimals


@pytest.mark.slow
def test_headline_scores_are_the_published_ones():
    cfg = HistoryConfig()
    forecasts, _ = run_hindcasts(load_history(), cfg)
    now = headline(score_table(forecasts, n_boot=cfg.n_boot, seed=cfg.seed)).round(6)
    pinned = pd.read_csv(PINNED)
    assert list(now.columns) == list(pinned.columns)
    keys = ["scale", "mode", "horizon"]
    now, pinned = now.sort_values(keys, ignore_index=True), pinned.sort_values(keys, ignore_index=True)
    numbers = [c for c in now.columns if pd.api.types.is_numeric_dtype(pinned[c])]
    text = [c for c in now.columns if c not in numbers]
    assert now[text].astype(str).values.tolist() == pinned[text].astype(str).values.tolist()
    assert np.allclose(now[numbers].to_numpy(float), pinned[numbers].to_numpy(float),
                       atol=TOLERANCE, rtol=0), (now[numbers] - pinned[numbers]).abs().max()
