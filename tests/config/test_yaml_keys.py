"""A mapping key that is not text (``~``, ``true``, ``3``) is named at its own line."""

from __future__ import annotations

import pytest

from model.base.errors import ScenarioError
from model.config.yamlfile import read_yaml


@pytest.mark.parametrize("text, line, expected", [
    ("name: x\nhorizon: 3\n~: 1\n", 3, "a key must be text, not null ('~')"),
    ("name: x\nparameters:\n  inertia: 0.5\n  true: 1\n", 4,
     "parameters: a key must be text, not true or false"),
    ("name: x\n3: y\n", 2, "a key must be text, not a number ('3')"),
])
def test_a_key_that_is_not_text(tmp_path, text, line, expected):
    path = tmp_path / "s.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        read_yaml(path)
    assert str(info.value).startswith(f"{path}:{line}: ")
    assert expected in str(info.value)


def test_a_quoted_key_is_text(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text("name: x\n'~': 1\n'3': y\n", encoding="utf-8")
    assert read_yaml(path)[0] == {"name": "x", "~": 1, "3": "y"}
