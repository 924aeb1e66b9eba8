"""Shared fixtures: the shipped data as a ``History`` and a tiny harness configuration."""

from __future__ import annotations

import pytest

from model.history.data import load_history
from model.history.harness import HistoryConfig


@pytest.fixture(scope="session")
def history():
    """The shipped panel, drivers and borders."""
    return load_history()


@pytest.fixture(scope="session")
def tiny():
    """Two origins per set, two horizons, a few runs: seconds, not minutes."""
    return HistoryConfig(validation=(2010,), test=(2016,), horizons=(1, 3), runs=4,
                         scales=("alignment",), n_boot=20)
