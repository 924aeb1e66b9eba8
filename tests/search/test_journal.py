"""A damaged search journal: only a torn last line is dropped, anything else is refused as is."""

from __future__ import annotations

import json

import numpy as np
import pytest

from model.base.errors import ScenarioError
from model.search import optimise
from model.search.optimise import Journal, Trial

HEADER = json.dumps({"journal": "blocsim search", "digest": "d" * 64}) + "\n"


def trial_line(n: int) -> str:
    return json.dumps({"trial": n, "params": {"a": 0.5}, "values": [[0.1, 0.2]]}) + "\n"


def write(tmp_path, *lines: str):
    path = tmp_path / "journal.jsonl"
    path.write_text("".join(lines), encoding="utf-8")
    return path


def test_a_good_journal_reads_and_a_torn_last_line_is_dropped(tmp_path):
    path = write(tmp_path, HEADER, trial_line(0), trial_line(1)[:-9])
    j = Journal(path, "d" * 64)
    assert list(j.trials) == [0]
    assert path.read_text() == HEADER + trial_line(0)
    j.add(Trial(1, {"a": 0.25}, np.array([[0.3, 0.4]])))
    assert set(Journal(path, "d" * 64).trials) == {0, 1}


@pytest.mark.parametrize("bad, says", [
    ("[" * 100_000 + "\n", "nested deeper"),
    ("[1,2]\n", "not a JSON object"),
    ('{"trial":"x"}\n', "'trial'"),
    ('{"trial":2,"params":{"a":0.5}}\n', "'values'"),
    ('{"trial":2,"params":[1],"values":[[1]]}\n', "'params'"),
    ('{"trial":2,"params":{"a":0.5},"values":[[1],[1,2]]}\n', "'values'"),
    ("not json\n", "not JSON"),
])
def test_a_bad_line_in_the_middle_is_refused_naming_it_and_nothing_changes(tmp_path, bad, says):
    path = write(tmp_path, HEADER, trial_line(0), bad, trial_line(1))
    before = path.read_bytes()
    with pytest.raises(ScenarioError) as err:
        Journal(path, "d" * 64)
    assert f"{path}:3:" in str(err.value) and says in str(err.value)
    assert "\n" not in str(err.value)
    assert path.read_bytes() == before


def test_a_header_that_is_not_an_object_is_refused(tmp_path):
    path = write(tmp_path, "[1]\n", trial_line(0))
    with pytest.raises(ScenarioError, match=":1: a list, not a JSON object"):
        Journal(path, "d" * 64)


def test_a_journal_over_the_size_limit_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(optimise, "MAX_JOURNAL", 100)
    path = write(tmp_path, HEADER, trial_line(0), trial_line(1))
    with pytest.raises(ScenarioError, match="larger than"):
        Journal(path, "d" * 64)


def test_the_command_prints_one_line_and_exits_2(tmp_path, capsys):
    from model.apps.cli import main

    from .conftest import write_spec
    spec = write_spec(tmp_path, trials=4)
    out = tmp_path / "out"
    assert main(["search", str(spec), "--out", str(out)]) == 0
    journal = out / "journal.jsonl"
    lines = journal.read_text(encoding="utf-8").splitlines(keepends=True)
    journal.write_text(lines[0] + '{"trial":"x"}\n' + "".join(lines[2:]), encoding="utf-8")
    before = journal.read_bytes()
    capsys.readouterr()
    assert main(["search", str(spec), "--out", str(out), "--trials", "6"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "journal.jsonl:2:" in err
    assert journal.read_bytes() == before


def test_brackets_inside_strings_do_not_count_as_nesting(tmp_path):
    name = '[[[[[[[[[[{{{{{{{{{"\\'  # a weight's name is text: only nesting outside strings counts
    line = json.dumps({"trial": 0, "params": {name: 0.5}, "values": [[0.1]] * 12}) + "\n"
    j = Journal(write(tmp_path, HEADER, line), "d" * 64)
    assert j.trials[0][0] == {name: 0.5} and j.trials[0][1].shape == (12, 1)
