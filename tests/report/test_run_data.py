"""``report.run_data``: the figures' and summary's numbers in numpy are pandas' numbers, from a
DataFrame or from the run's own columns, in any row order; ``blocsim run`` loads no pandas."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from model.core.record import DRIVERS
from model.report import run_data
from model.report import run_plots as plots
from model.report.footed import save_footed
from model.report.summary import summary_table


@pytest.fixture(scope="module")
def run(small_run):
    return small_run


def _shuffled(columns: dict[str, np.ndarray], seed: int = 3) -> dict[str, np.ndarray]:
    order = np.random.default_rng(seed).permutation(len(next(iter(columns.values()))))
    return {k: v[order] for k, v in columns.items()}


def test_bloc_shares_are_pandas_quantiles(run):
    _, _, tables = run
    frame = tables.frame("blocs")
    for measure in ("gdp_share", "pop_share"):
        for table in (tables.arrays("blocs"), frame, _shuffled(tables.arrays("blocs"))):
            years, data = run_data.bloc_shares(table, measure)
            for camp, stats in data.items():
                q = frame.groupby("year")[f"{measure}_{camp}"].quantile(list(run_data.QUANTILES.values()))
                want = q.unstack().to_numpy()  # years x quantiles
                got = np.column_stack([stats[k] for k in run_data.QUANTILES])
                assert years.tolist() == sorted(frame["year"].unique())
                np.testing.assert_allclose(got, want, rtol=0, atol=1e-15)


def test_alignment_grid_and_contributions_are_pandas_means_and_sums(run):
    _, _, tables = run
    frame = tables.frame("trajectories")
    want = frame.pivot_table(index="iso3", columns="year", values="alignment", aggfunc="mean")
    iso, years, grid = run_data.alignment_grid(_shuffled(tables.arrays("trajectories")))
    assert iso.tolist() == want.index.tolist() and years.tolist() == want.columns.tolist()
    np.testing.assert_allclose(grid, want.to_numpy(), rtol=0, atol=1e-14)
    some = ["IND", "TUR", "KAZ"]
    sums = frame[frame["iso3"].isin(some)].groupby("iso3")[[f"c_{d}" for d in DRIVERS]].sum() / 5
    np.testing.assert_allclose(run_data.contributions(frame, some), sums.loc[some].to_numpy(), atol=1e-14)
    kept, table = run_data.attribution(tables.arrays("trajectories"), some)
    change = want.loc[some].iloc[:, -1] - want.loc[some].iloc[:, 0]
    np.testing.assert_allclose(table.sum(axis=1), change.to_numpy(), atol=1e-12)  # drivers add up
    assert set(kept) <= {*DRIVERS, "other"}


def test_state_series_keeps_the_order_asked_and_leaves_out_absent_states(run):
    _, _, tables = run
    frame = tables.frame("trajectories")
    years, data = run_data.state_series(tables.arrays("trajectories"), ["TUR", "XXX", "IND"])
    assert list(data) == ["TUR", "IND"]
    ind = frame[frame["iso3"] == "IND"].groupby("year")["alignment"]
    np.testing.assert_allclose(data["IND"]["median"], ind.median().to_numpy(), atol=1e-15)
    np.testing.assert_allclose(data["IND"]["p95"], ind.quantile(0.95).to_numpy(), atol=1e-15)
    assert years.tolist() == data["IND"]["year"].tolist()


def test_world_grid_orders_regions_subregions_then_start(run):
    _, world, tables = run
    region, sub, iso, years, grid = run_data.world_grid(tables.arrays("trajectories"), world)
    assert len(iso) == len(set(iso)) == len(world.iso3)
    keys = list(zip(region, sub, grid[:, 0], strict=True))
    assert keys == sorted(keys)


def test_the_summary_is_the_same_from_columns_and_from_frames(run):
    sc, _, tables = run
    from_columns = summary_table(sc, tables.arrays("blocs"), tables.arrays("trajectories"))
    assert from_columns == summary_table(sc, tables.frame("blocs"), tables.frame("trajectories"))
    assert from_columns == summary_table(sc, pd.DataFrame(_shuffled(tables.arrays("blocs"))),
                                         _shuffled(tables.arrays("trajectories")))


def test_run_tables_arrays_are_the_frames_columns(run):
    _, _, tables = run
    frame = tables.frame("trajectories")
    arrays = tables.arrays("trajectories")
    assert list(arrays) == list(frame.columns)
    for name, values in arrays.items():
        assert values.tolist() == frame[name].tolist(), name


def test_drawing_and_summing_up_a_run_loads_no_pandas():
    code = ("import sys, model.report.run_plots, model.report.summary, model.report.run_data; "
            "sys.exit('pandas' in sys.modules)")
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


@pytest.mark.slow
def test_a_run_with_plots_and_its_summary_loads_no_pandas(tmp_path):
    code = ("import sys; from model.apps.cli import main; "
            f"status = main(['run', 'scenarios/baseline.yaml', '--runs', '2', '--out', {str(tmp_path)!r}]); "
            "sys.exit(status or 3 * ('pandas' in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert "States that moved most" in done.stdout and len(list((tmp_path / "plots").glob("*.png"))) == 6


@pytest.mark.parametrize("draw", [
    lambda t, b, sc, w: plots.plot_key_states(t, sc.key_states),
    lambda t, b, sc, w: plots.plot_world_heatmap(t, w),
    lambda t, b, sc, w: plots.plot_attribution(t),
], ids=["key states", "world heatmap", "attribution"])
def test_a_figure_from_the_runs_columns_is_the_figure_from_its_frames(small_run, tmp_path, draw):
    """``blocsim run`` draws from numpy columns; a notebook from DataFrames: the same bytes."""
    sc, world, tables = small_run
    for i, get in enumerate((tables.arrays, tables.frame)):
        save_footed(draw(get("trajectories"), get("blocs"), sc, world), "a note", tmp_path / f"{i}.png")
    assert (tmp_path / "0.png").read_bytes() == (tmp_path / "1.png").read_bytes()


@given(st.lists(st.text(max_size=3), max_size=40), st.sampled_from([1, 2, 3, 4]))
def test_short_text_is_grouped_as_numpy_groups_it(texts, width):
    values = np.array(texts, dtype=f"<U{width}")
    distinct, inverse = run_data._distinct(values)
    want, want_inverse = np.unique(values, return_inverse=True)
    assert distinct.tolist() == want.tolist() and inverse.tolist() == want_inverse.ravel().tolist()


def test_drawing_a_runs_figures_leaves_the_collector_as_it_found_it(small_run, tmp_path):
    """The figures are drawn with the objects made before them frozen out of the collector; they
    are given back after, and a caller's own frozen objects stay frozen."""
    import gc

    sc, world, tables = small_run
    args = (tables.arrays("trajectories"), tables.arrays("blocs"), world, 0.25, [], "a note")
    assert gc.get_freeze_count() == 0
    plots.save_run_plots(["bloc_shares.png"], *args, tmp_path)
    assert gc.get_freeze_count() == 0
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        plots.save_run_plots(["bloc_shares.png"], *args, tmp_path)
        assert 0 < gc.get_freeze_count() <= frozen  # still frozen (some may have been freed)
    finally:
        gc.unfreeze()
