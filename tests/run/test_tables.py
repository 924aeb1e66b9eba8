"""``run.tables``: the fast CSV writer gives pandas' bytes exactly."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from model.config.build import run_ensemble
from model.config.checks import prepare_world
from model.config.scenario import load_scenario
from model.run.tables import FLOAT_FORMAT, blocs_frame, csv_text, status_frame, trajectories_frame, write_csv


def pandas_csv(df: pd.DataFrame) -> str:
    return df.to_csv(index=False, float_format=FLOAT_FORMAT, lineterminator="\n")


@pytest.fixture(scope="module")
def results():
    sc = load_scenario("scenarios/sco_expansion.yaml")
    world = prepare_world(sc)
    return world, run_ensemble(sc, [1, 2, 3], world=world).run_results()


def test_run_tables_are_written_as_pandas_writes_them(results, tmp_path):
    world, rr = results
    names = {str(c): f'State "{c}", the' if i % 7 == 0 else str(c) for i, c in enumerate(world.iso3)}
    for df in (trajectories_frame(rr, names), trajectories_frame(rr), blocs_frame(rr, 0.25),
               status_frame(rr), status_frame([])):
        assert csv_text(df, block=1000) == pandas_csv(df)
        write_csv(df, tmp_path / "t.csv")
        assert (tmp_path / "t.csv").read_bytes() == pandas_csv(df).encode()


def test_odd_values_and_columns_match_pandas():
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.normal(size=50) * 10.0 ** rng.integers(-12, 12, 50),
                        [0.0, -0.0, 1e-5, 123456.0, 1234567.0, 0.5, 2.5e-300, np.inf, -np.inf]])
    df = pd.DataFrame({"x": x, "f32": x.astype(np.float32), "i": np.arange(len(x)),
                       "quarter": np.round(np.linspace(2025, 2030, len(x)), 2),
                       "s": ["a,b", 'say "hi"', "line\nbreak", "plain"] * 14 + ["z"] * 3})
    assert csv_text(df, block=7) == pandas_csv(df)
    # missing values, empty text and booleans go to pandas
    for odd in ({"x": [1.0, np.nan]}, {"s": ["", "a"]}, {"s": [None, "a"]}, {"b": [True, False]}):
        df = pd.DataFrame(odd)
        assert csv_text(df) == pandas_csv(df)


@pytest.mark.parametrize("name", ["cr\rhere", "Korea, Republic of", 'The "Bahamas"', "Côte d'Ivoire", "中国"])
def test_a_world_names_odd_text_is_written_as_pandas_writes_it(name):
    """A user's world CSV may name a state with any text; a carriage return is quoted or not by
    the csv module's own rule (which depends on Python's version): pandas writes such a column."""
    from model.run.tables import Coded, columns_csv

    names = Coded(np.array([name, "plain"]), np.array([0, 1, 0]))
    df = pd.DataFrame({"name": names.expand(), "x": [1.0, 2.0, 3.0]})
    text = columns_csv({"name": names, "x": np.array([1.0, 2.0, 3.0])})
    assert (text if text is not None else pandas_csv(df)) == pandas_csv(df)
    assert csv_text(df) == pandas_csv(df)


def _reordered(r, order):
    """The same run with its states listed in another order."""
    import dataclasses

    return dataclasses.replace(r, iso3=r.iso3[order], alignment=r.alignment[:, order],
                               structure=r.structure[:, :, order], status=r.status[:, order],
                               contributions=r.contributions[:, :, order], gdp_usd=r.gdp_usd[order],
                               population=r.population[order])


def test_the_coded_text_columns_write_the_frames_csv(results):
    """``RunTables`` keeps state, name, camp and status as codes; its CSV is still pandas' text of
    the frame, also when the runs list their states in different orders (and a name is missing)."""
    from model.run.tables import Coded, RunTables

    world, rr = results
    names = {str(c): f"State, {c}" for c in world.iso3}
    shuffled = [rr[0], _reordered(rr[1], np.random.default_rng(1).permutation(len(rr[1].iso3)))]
    for runs, named in ((rr, names), (shuffled, names), (rr, {**names, str(world.iso3[0]): None})):
        tabs = RunTables(runs, named, 0.25)
        assert isinstance(tabs.columns["trajectories"]["camp"], Coded)
        frame = tabs.frame("trajectories")
        assert list(frame["iso3"][:3]) == [str(c) for c in runs[0].iso3[:3]]
        assert tabs.csv("trajectories") == pandas_csv(frame) == pandas_csv(trajectories_frame(runs, named))
        assert tabs.csv_bytes("trajectories") == pandas_csv(frame).encode("utf-8")  # what run writes
