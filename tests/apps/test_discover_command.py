"""``discover --out``: the folder is checked before any work; only discover's own output is replaced."""

from __future__ import annotations

import pandas as pd
import pytest

from model.analysis.discovery import discover
from model.apps import discover_command as dc
from model.apps.cli import main
from model.base.errors import ScenarioError


def small_discovery():
    rows = [{"run_id": i, "scenario": "base", "strategy": "none", "point": i, "replication": 0,
             "status": "ok", "param_peer_weight": i / 5, "gdp_share_sco": 0.3 + i / 100}
            for i in range(6)]
    return discover(pd.DataFrame(rows), "gdp_share_sco > 90%")


def test_a_users_folder_holding_condition_txt_is_refused_before_the_batch_is_read(tmp_path, capsys):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "condition.txt").write_text("my notes\n")
    code = main(["discover", str(tmp_path / "no_batch"), "--when", "winner loses to reference",
                 "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2 and "holds no earlier blocsim output" in err and "no_batch" not in err
    assert [p.name for p in out.iterdir()] == ["condition.txt"]
    assert (out / "condition.txt").read_text() == "my notes\n"


def test_an_earlier_output_is_replaced_but_not_one_holding_a_users_file(tmp_path):
    out = tmp_path / "d"
    disc = small_discovery()
    dc._write(disc, "first", out)
    assert (out / dc.MARKER).read_text() == "first\n" and (out / "condition.txt").is_file()
    dc._write(disc, "second", out)
    assert (out / dc.MARKER).read_text() == "second\n"
    (out / "notes.txt").write_text("mine")
    with pytest.raises(ScenarioError, match="files blocsim did not write"):
        dc._write(disc, "third", out)
    assert (out / "notes.txt").read_text() == "mine" and (out / dc.MARKER).read_text() == "second\n"
