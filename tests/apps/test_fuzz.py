"""Fuzzing the readers: mutated shipped scenarios, strategies and experiments must fail cleanly.

Every mutation (tags, anchors and aliases, duplicate keys, deep nesting, huge numbers, odd bytes,
truncation) goes through ``validate`` (and ``run`` when it validates) in-process. The one error
path: exit 2, exactly one line on stderr, no traceback, nothing written; or exit 0.

A few hundred examples by default; ``BLOCSIM_FUZZ=long`` selects a larger profile.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from model.apps.cli import main

ROOT = Path(__file__).resolve().parents[2]
SOURCES = sorted([*(ROOT / "scenarios").glob("*.yaml"), *(ROOT / "scenarios" / "strategies").glob("*.yaml"),
                  *(ROOT / "scenarios" / "experiments").glob("*.yaml")])
TEXTS = {p.name: p.read_bytes() for p in SOURCES}

settings.register_profile("default", max_examples=200, deadline=None,
                          suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                 HealthCheck.too_slow])
settings.register_profile("long", max_examples=2000, deadline=None,
                          suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                 HealthCheck.too_slow])
settings.load_profile("long" if os.environ.get("BLOCSIM_FUZZ") == "long" else "default")

SNIPPETS = [b"!!int abc", b"!!timestamp x", b"!!binary aGk=", b"!!set {a: null}", b"!!python/name:os.system",
            b"&a [1, *a]", b"*a", b"&x 1", b"9" * 5000, b".inf", b"-.nan", b"true", b"null", b"~",
            b"[" * 3000, b"{" * 200, b"\x00", b"\xff\xfe", b"\xef\xbb\xbf", b"\xe9", b"\t", b"---\n",
            b"'", b'"', b"? [a]\n: 1", b"<<: {horizon: 3}", b"2024-01-01", b"0x1F", b"1_000", b"..",
            b"/dev/zero", b"-1", b"1e999", b"\r\n", b": : :", b"%YAML 1.1\n"]


@st.composite
def mutated(draw):
    name = draw(st.sampled_from(sorted(TEXTS)))
    data = bytearray(TEXTS[name])
    lines = data.split(b"\n")
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["insert", "replace_value", "dup_line", "truncate", "byte"]))
        i = draw(st.integers(0, max(len(lines) - 1, 0)))
        if kind == "insert":
            at = draw(st.integers(0, len(lines[i])))
            lines[i] = lines[i][:at] + draw(st.sampled_from(SNIPPETS)) + lines[i][at:]
        elif kind == "replace_value" and b":" in lines[i]:
            key = lines[i].split(b":", 1)[0]
            lines[i] = key + b": " + draw(st.sampled_from(SNIPPETS))
        elif kind == "dup_line":
            lines.insert(draw(st.integers(0, len(lines))), lines[i])
        elif kind == "truncate":
            lines = lines[: i + 1]
            lines[-1] = lines[-1][: draw(st.integers(0, len(lines[-1])))]
        else:
            lines[i] = lines[i] + bytes([draw(st.integers(0, 255))])
    return name, b"\n".join(lines)


def check_one_error_path(code: int, err: str, out_dir: Path) -> None:
    assert "Traceback" not in err
    if code == 2:
        lines = err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("blocsim: error: "), err
        assert not out_dir.exists() or not any(out_dir.iterdir()), "wrote output on an error"
    else:
        assert code == 0, err


_COPY: dict[str, Path] = {}


def scenario_copy(factory) -> Path:
    """The scenarios folder copied once, so mutated files keep their relative paths working."""
    if "dir" not in _COPY:
        import shutil
        _COPY["dir"] = factory.mktemp("fuzz_scenarios") / "scenarios"
        shutil.copytree(ROOT / "scenarios", _COPY["dir"])
    return _COPY["dir"]


@given(case=mutated())
def test_mutated_files_fail_with_one_line_or_run(case, tmp_path_factory, capsys):
    name, data = case
    src = next(p for p in SOURCES if p.name == name)
    base = scenario_copy(tmp_path_factory)
    folder = base / src.parent.relative_to(ROOT / "scenarios")
    path = folder / f"fuzz_{name}"
    path.write_bytes(data)
    out = tmp_path_factory.mktemp("out") / "out"
    try:
        if "experiments" in src.parts:  # a batch is too costly here: expand the design only
            from model.base.errors import ScenarioError
            from model.config.experiment import load_experiment
            from model.run.design import expand
            from model.search.service import prepare
            read = prepare if b"\nlevers:" in TEXTS[name] else (lambda p: expand(load_experiment(p)))
            try:
                read(path)  # a search spec is read and checked as 'blocsim search' does
            except ScenarioError as exc:
                assert "\n" not in str(exc)
            return
        code = main(["validate", str(path)])
        check_one_error_path(code, capsys.readouterr().err, out)
        if code == 0 and "strategies" not in src.parts:
            code = main(["run", str(path), "--runs", "1", "--no-plots", "--quiet", "--out", str(out)])
            check_one_error_path(code, capsys.readouterr().err, out)
    finally:
        path.unlink(missing_ok=True)


@pytest.mark.parametrize("name", sorted(TEXTS))
def test_shipped_files_still_read(name):
    from model.config.yamlfile import read_yaml
    src = next(p for p in SOURCES if p.name == name)
    assert isinstance(read_yaml(src)[0], dict)
