"""The relations operator (model/relations.py): exact, O(n k), and the built-in world unchanged."""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import sparse

from model.base.errors import ScenarioError
from model.config.build import model_from_scenario
from model.config.scenario import load_scenario
from model.core.dynamics import SCO_STATUSES
from model.core.snapshot import world_fingerprint
from model.data import world as world_mod
from model.data.relations import CLIQUE_CAP, Relations
from model.data.world import (
    ALLIANCE_WEIGHT,
    BORDER_WEIGHT,
    SUBREGION_WEIGHT,
    TRADE_WEIGHT,
    _builtin_tables,
    build_relations,
    load_world,
)

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
from synthetic_world import write_world  # noqa: E402


# The function as it was before the operator (main at 9b9798d), verbatim but for this comment:
# every group written out pair by pair.
def old_build_relations(a: dict[str, np.ndarray], borders: pd.DataFrame) -> sparse.csr_matrix:
    """Row-normalised influence matrix: borders, subregions, alliances and trade ties.

    Row i holds who influences state i. Land borders weigh most; states of one subregion and
    members of one alliance (NATO, EU, CSTO, SCO members) are tied more weakly; a state is
    influenced by its large trade partners in proportion to its trade share with them (China and
    Russia for ``trade_sco``, the United States and Germany as the EU's largest economy for
    ``trade_west``: a proxy, as bilateral trade beyond these partners is not in the data).
    """
    iso3 = a["iso3"]
    n = len(iso3)
    idx = {c: i for i, c in enumerate(iso3)}
    rows: list[np.ndarray] = []
    cols: list[np.ndarray] = []
    vals: list[np.ndarray] = []

    def add(r, c, w):
        r, c = np.asarray(r), np.asarray(c)
        keep = r != c
        rows.append(r[keep])
        cols.append(c[keep])
        vals.append(np.broadcast_to(np.asarray(w, dtype=float), r.shape)[keep])

    known = borders["iso_a"].isin(idx) & borders["iso_b"].isin(idx)
    ba = borders.loc[known, "iso_a"].map(idx).to_numpy(int)
    bb = borders.loc[known, "iso_b"].map(idx).to_numpy(int)
    add(np.r_[ba, bb], np.r_[bb, ba], BORDER_WEIGHT)

    def clique(members: np.ndarray, w: float) -> None:
        m = np.flatnonzero(members)
        r, c = np.meshgrid(m, m, indexing="ij")
        add(r.ravel(), c.ravel(), w)

    for s in np.unique(a["subregion"]):
        clique(a["subregion"] == s, SUBREGION_WEIGHT)
    for members in (a["nato"], a["eu"], a["csto"], a["sco_status"] == SCO_STATUSES.index("member")):
        clique(members, ALLIANCE_WEIGHT)
    everyone = np.arange(n)
    for partner, share in (("CHN", a["e_sco"]), ("RUS", a["e_sco"]), ("USA", a["e_west"]),
                           ("DEU", a["e_west"])):
        if partner in idx:
            add(everyone, np.full(n, idx[partner]), TRADE_WEIGHT * share / 2)
    m = sparse.coo_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                          shape=(n, n)).tocsr()
    m.sum_duplicates()
    totals = np.asarray(m.sum(axis=1)).ravel()
    inv = np.divide(1.0, totals, out=np.zeros(n), where=totals > 0)
    return sparse.diags(inv) @ m


def arrays_of(world) -> dict[str, np.ndarray]:
    return {k: getattr(world, k) for k in ("iso3", "subregion", "nato", "eu", "csto",
                                           "sco_status", "e_sco", "e_west")}


@pytest.fixture(scope="module")
def w2024():
    return load_world("builtin", 2024)


# --- the built-in world: the same bits as before ------------------------------------------------

@pytest.mark.parametrize("year", [2000, 2014, 2024])
def test_builtin_relations_are_bit_identical_to_the_old_csr(year):
    w = load_world("builtin", year)
    old = old_build_relations(arrays_of(w), _builtin_tables()[2])
    rel = w.relations
    assert isinstance(rel, Relations) and not rel.factored
    new = rel.tocsr()
    for part in ("data", "indices", "indptr"):
        a, b = getattr(new, part), getattr(old, part)
        assert a.dtype == b.dtype and a.tobytes() == b.tobytes(), part
    x = np.random.default_rng(year).normal(size=(w.n, 7))
    assert (rel @ x).tobytes() == (old @ x).tobytes()
    assert (rel @ x[:, 2]).tobytes() == (old @ x[:, 2]).tobytes()
    assert np.array_equal(rel.has_relations, np.asarray(old.sum(axis=1)).ravel() > 0)
    assert np.array_equal(np.asarray(rel.sum(axis=1)).ravel(), np.asarray(old.sum(axis=1)).ravel())


def test_builtin_fingerprint_hashes_the_same_csr_as_before(w2024):
    old = old_build_relations(arrays_of(w2024), _builtin_tables()[2])
    assert world_fingerprint(w2024) == world_fingerprint(dataclasses.replace(w2024, relations=old))


def test_builtin_world_has_no_group_above_the_cap(w2024):
    for sub in np.unique(w2024.subregion):
        assert (w2024.subregion == sub).sum() <= CLIQUE_CAP
    assert (w2024.sco_status == SCO_STATUSES.index("member")).sum() <= CLIQUE_CAP
    for org in ("nato", "eu", "csto"):
        assert getattr(w2024, org).sum() <= CLIQUE_CAP
    assert w2024.relations.members.shape[0] == 0


# --- random worlds with large groups: the operator is the written-out matrix --------------------

def random_world(n: int, seed: int) -> tuple[dict[str, np.ndarray], pd.DataFrame]:
    rng = np.random.default_rng(seed)
    iso3 = np.array(["CHN", "DEU", "RUS", "USA"] + [f"X{i:04d}" for i in range(n - 4)])
    sizes = rng.integers(1, 6)
    a = {
        "iso3": iso3,
        "subregion": rng.choice([f"s{k}" for k in range(sizes)], n).astype(object),
        "nato": rng.random(n) < 0.4, "eu": rng.random(n) < 0.3, "csto": rng.random(n) < 0.05,
        "sco_status": rng.choice(len(SCO_STATUSES), n).astype(np.int8),
        "e_sco": rng.random(n) * 0.5, "e_west": rng.random(n) * 0.5,
    }
    if seed % 3 == 0:  # some states with no tie at all: a zero row
        a["e_sco"][-3:] = a["e_west"][-3:] = 0.0
        a["subregion"][-3:] = ["lone1", "lone2", "lone3"]
        for k in ("nato", "eu", "csto"):
            a[k][-3:] = False
        a["sco_status"][-3:] = 0
    i, j = rng.integers(0, n, (2, 3 * n))
    borders = pd.DataFrame({"iso_a": iso3[i], "iso_b": iso3[j]})
    return a, borders


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("cap", [0, 5, 20])
def test_factored_operator_equals_the_written_out_matrix(seed, cap):
    a, borders = random_world(120, seed)
    if seed % 3 == 0:  # lone states must not border anyone
        keep = ~borders["iso_a"].isin(a["iso3"][-3:]) & ~borders["iso_b"].isin(a["iso3"][-3:])
        borders = borders[keep]
    ref = old_build_relations(a, borders)
    rel = build_relations(a, borders, clique_cap=cap)
    assert rel.factored
    np.testing.assert_allclose(rel.toarray(), ref.toarray(), rtol=0, atol=1e-12)
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, 120)
    X = rng.uniform(-1, 1, (120, 9))
    np.testing.assert_allclose(rel @ x, ref @ x, rtol=0, atol=1e-12)
    np.testing.assert_allclose(rel.dot(X), ref @ X, rtol=0, atol=1e-12)
    np.testing.assert_allclose(rel @ X[:, 4], (rel @ X)[:, 4], rtol=0, atol=1e-15)
    has = np.asarray(ref.sum(axis=1)).ravel() > 0
    assert np.array_equal(rel.has_relations, has)
    np.testing.assert_allclose(rel.row_sums(), np.asarray(ref.sum(axis=1)).ravel(), atol=1e-12)
    assert (seed % 3 == 0) == (not has.all())


def test_no_cap_writes_every_pair_out_as_before():
    a, borders = random_world(80, 4)
    rel = build_relations(a, borders, clique_cap=None)
    ref = old_build_relations(a, borders)
    assert not rel.factored
    assert rel.tocsr().data.tobytes() == ref.data.tobytes()


def test_fingerprint_tells_factored_worlds_apart():
    a, borders = random_world(100, 1)
    r1 = build_relations(a, borders, clique_cap=5)
    a2 = dict(a, nato=a["nato"].copy())
    a2["nato"][np.flatnonzero(a2["nato"])[0]] = False
    r2 = build_relations(a2, borders, clique_cap=5)
    b1 = b"".join(np.ascontiguousarray(p).tobytes() for p in r1.fingerprint_parts())
    b2 = b"".join(np.ascontiguousarray(p).tobytes() for p in r2.fingerprint_parts())
    assert b1 != b2


# --- stored entries grow as n k, not n^2 ---------------------------------------------------------

@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    d = tmp_path_factory.mktemp("worlds")
    return {n: write_world(n, d / f"world_{n}.csv", seed=3) for n in (500, 2000, 8000)}


def test_stored_entries_are_o_n_k(synthetic):
    stored, peers = {}, {}
    for n, path in synthetic.items():
        rel = load_world(str(path), 2024).relations
        stored[n], peers[n] = rel.stored_per_state(), rel.peers_per_state()
        # explicit entries per state: a few borders, small groups (< cap each), 4 trade partners
        assert rel.stored_per_state() < 6 * CLIQUE_CAP
    assert stored[8000] <= stored[500] * 1.5
    assert stored[8000] <= stored[2000] * 1.5
    assert peers[8000] > 10 * stored[8000]  # the matrix it stands for is far denser


def test_a_world_above_the_cap_runs_as_the_written_out_model(synthetic, tmp_path):
    path = synthetic[2000]
    world = load_world(str(path), 2024)
    assert world.relations.factored and world.nato.sum() > CLIQUE_CAP
    # the same world with every group written out pair by pair (borders as the loader reads them)
    borders = world_mod._table_borders(pd.read_csv(path, keep_default_na=False, na_values=[""]))
    explicit = dataclasses.replace(world, relations=build_relations(
        arrays_of(world), borders, clique_cap=None))
    assert not explicit.relations.factored
    np.testing.assert_allclose(world.relations.toarray(), explicit.relations.toarray(),
                               rtol=0, atol=1e-12)
    yaml = tmp_path / "big.yaml"
    yaml.write_text(f"name: big\nstart_year: 2024\nhorizon: 6\nseed: 5\nreplications: 1\n"
                    f"world: {path}\nkey_states: [CHN, RUS, USA, DEU]\n"
                    "sco:\n  trade_facilitation:\n    intensity: 0.5\n    targets: [sco_members]\n"
                    "west:\n  trade_agreements:\n    intensity: 0.4\n    targets: [nato, eu]\n")
    scenario = load_scenario(yaml)
    runs = []
    for w in (world, explicit):
        m = model_from_scenario(scenario, rng=np.random.default_rng(5), world=w)
        runs.append(m.run().alignment.copy())
    assert runs[0].shape == (7, 2000)
    np.testing.assert_allclose(runs[0], runs[1], rtol=0, atol=1e-12)
    assert not np.array_equal(runs[0][-1], runs[0][0])


# --- the borders column -------------------------------------------------------------------------

def test_borders_column_unknown_code_is_a_user_error(tmp_path):
    path = write_world(50, tmp_path / "w.csv", seed=2)
    table = pd.read_csv(path, keep_default_na=False)
    table.loc[7, "borders"] = "S0000001;NOPE"
    table.to_csv(path, index=False)
    with pytest.raises(ScenarioError, match="row 9, column borders: 'NOPE'"):
        load_world(str(path), 2024)


def test_borders_column_ties_neighbours_both_ways(tmp_path):
    path = write_world(50, tmp_path / "w.csv", seed=2)
    table = pd.read_csv(path, keep_default_na=False)
    w = load_world(str(path), 2024)
    a, b = w.index[table.loc[10, "iso3"]], w.index[table.loc[10, "borders"].split(";")[0]]
    dense = w.relations.toarray()
    assert dense[a, b] > 0 and dense[b, a] > 0
