"""The command line as a user meets it: exit statuses, one-line errors, the output folder, determinism.

Real subprocesses (``python run.py ...``) only where the process boundary matters (exit status,
what reaches stderr, tracebacks); everything else calls ``model.apps.cli.main`` in-process.
"""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

import model
from model.apps.cli import main
from model.config.scenario import load_scenario
from model.core.levers import SCO_LEVERS
from model.core.seeds import replication_seeds
from model.core.simulation import DRIVERS

ROOT = Path(__file__).resolve().parents[2]
RUN_PY = ROOT / "run.py"
SHIPPED = sorted((ROOT / "scenarios").glob("*.yaml"))
BASELINE = ROOT / "scenarios" / "baseline.yaml"
BAD_DIR = Path(__file__).resolve().parents[1] / "bad_scenarios"
EXPECTED: dict[str, list[str]] = yaml.safe_load((BAD_DIR / "expected.yaml").read_text(encoding="utf-8"))
BAD = sorted(p.name for p in BAD_DIR.glob("*.yaml") if p.name != "expected.yaml")
ENV = {**os.environ, "MPLBACKEND": "Agg"}
N_STATES = 193
STRUCTURE = ["e_sco", "e_west", "s_sco", "s_west", "governance"]
CONTRIB = [f"c_{d}" for d in DRIVERS]


def blocsim(*args: object, cwd: Path) -> subprocess.CompletedProcess:
    """``python run.py ARGS`` in ``cwd``, as a user would type it."""
    return subprocess.run([sys.executable, str(RUN_PY), *map(str, args)], cwd=cwd, env=ENV,
                          capture_output=True, text=True, timeout=120)


def error_line(stderr: str) -> str:
    """The single line a user mistake must produce on stderr."""
    lines = stderr.splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("blocsim: error: "), stderr
    return lines[0]


# --- user mistakes: status 2, one line, nothing written --------------------------------------------

@pytest.fixture(scope="module")
def bad_runs(tmp_path_factory) -> dict[str, tuple[Path, subprocess.CompletedProcess]]:
    """Every bad scenario run as ``python run.py FILE`` from an empty folder, a few at a time."""
    cwds = {name: tmp_path_factory.mktemp(name.removesuffix(".yaml")) for name in BAD}
    with ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2)) as pool:
        procs = dict(zip(BAD, pool.map(lambda n: blocsim(BAD_DIR / n, cwd=cwds[n]), BAD), strict=True))
    return {name: (cwds[name], procs[name]) for name in BAD}


@pytest.mark.parametrize("name", BAD)
def test_bad_scenario_exits_2_with_one_line_and_writes_nothing(name, bad_runs):
    cwd, proc = bad_runs[name]
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    line = error_line(proc.stderr)
    missing = [part for part in EXPECTED[name] if part not in line]
    assert not missing, f"{line!r} lacks {missing}"
    assert proc.stdout == ""
    # No out/<name>, no hidden temporary folder, and (python_tag.yaml) no file from the payload.
    assert sorted(p.name for p in cwd.iterdir()) == []


@pytest.mark.parametrize("name", BAD)
def test_validate_reports_the_same_error(name, capsys):
    assert main(["validate", str(BAD_DIR / name)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert all(part in error_line(captured.err) for part in EXPECTED[name])


def test_validate_accepts_every_shipped_scenario(tmp_path):
    proc = blocsim("validate", *SHIPPED, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    lines = proc.stdout.splitlines()
    assert len(lines) == len(SHIPPED)
    for path, line in zip(SHIPPED, lines, strict=True):
        assert line.startswith(f"{path}: ok ({path.stem}: ")
    assert list(tmp_path.iterdir()) == []


def test_validate_stops_at_the_first_bad_file(capsys):
    assert main(["validate", str(BASELINE), str(BAD_DIR / "wrong_type.yaml")]) == 2
    captured = capsys.readouterr()
    assert "baseline.yaml: ok" in captured.out
    assert "wrong_type.yaml:4: horizon" in error_line(captured.err)


@pytest.mark.parametrize("args, says", [
    (["--runs", "0"], "argument --runs: must be at least 1"),
    (["--runs", "two"], "argument --runs: 'two' is not a whole number"),
    (["--seed", "-1"], "argument --seed: must be between 0 and 2**63-1"),
    (["--seed", "1.5"], "argument --seed: '1.5' is not a whole number"),
])
def test_bad_arguments_exit_2(args, says, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as info:
        main(["run", str(BASELINE), *args])
    assert info.value.code == 2
    assert says in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_bad_argument_exit_status_reaches_the_shell(tmp_path):
    proc = blocsim(BASELINE, "--runs", "0", cwd=tmp_path)
    assert proc.returncode == 2
    assert "must be at least 1" in proc.stderr and "Traceback" not in proc.stderr
    assert list(tmp_path.iterdir()) == []


# --- help, list, entry points --------------------------------------------------------------------

def test_help_names_the_commands_and_run_options(capsys):
    with pytest.raises(SystemExit) as info:
        main(["--help"])
    assert info.value.code == 0
    text = capsys.readouterr().out
    for word in ("run", "validate", "list", "--out", "--seed", "--runs", "--quiet"):
        assert word in text, word
    with pytest.raises(SystemExit):
        main(["run", "--help"])
    run_help = capsys.readouterr().out
    for option in ("--out", "--seed", "--runs", "--no-plots", "--quiet"):
        assert option in run_help, option


def test_list_names_every_shipped_scenario_with_its_question(capsys):
    assert main(["list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == len(SHIPPED)
    for path, line in zip(SHIPPED, lines, strict=True):
        name, _, description = line.partition(" ")
        assert name == path.name
        assert description.strip(), line


def test_entry_points_work(tmp_path):
    for cmd in ([str(Path(sys.executable).parent / "blocsim")], [sys.executable, "-m", "model"]):
        proc = subprocess.run([*cmd, "--version"], cwd=tmp_path, capture_output=True, text=True,
                              timeout=60, env=ENV)
        assert proc.returncode == 0, (cmd, proc.stderr)
        assert proc.stdout.strip() == f"blocsim {model.__version__}", cmd


# --- a run's outputs, determinism, reruns ------------------------------------------------------

def run_quietly(*args: object) -> str:
    """``main(["run", ...])`` in-process; returns what it printed, asserts status 0."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main(["run", *map(str, args)])
    assert status == 0, err.getvalue()
    return out.getvalue()


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, Path]:
    """The baseline with 2 runs: twice alike, once with another seed, once from its resolved YAML."""
    base = tmp_path_factory.mktemp("runs")
    out = {k: base / k for k in ("a", "b", "other_seed", "rerun")}
    summary = run_quietly(BASELINE, "--runs", 2, "--out", out["a"])
    run_quietly(BASELINE, "--runs", 2, "--out", out["b"], "--no-plots", "--quiet")
    run_quietly(BASELINE, "--runs", 2, "--seed", 7, "--out", out["other_seed"], "--no-plots", "-q")
    doc = yaml.safe_load((out["a"] / "scenario.resolved.yaml").read_text(encoding="utf-8"))
    doc.pop("provenance")
    resolved = base / "resolved.yaml"
    resolved.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    run_quietly(resolved, "--out", out["rerun"], "--no-plots", "-q")
    (base / "summary.txt").write_text(summary, encoding="utf-8")
    return out


def test_run_prints_a_summary(runs):
    summary = (runs["a"].parent / "summary.txt").read_text(encoding="utf-8")
    assert summary.startswith("baseline: 2024-2035, 2 run(s)")
    assert "States that moved most" in summary
    assert f"Tables and resolved scenario in {runs['a']}/" in summary


def test_run_writes_the_tables_resolved_scenario_and_plots(runs):
    out = runs["a"]
    assert {p.name for p in out.iterdir()} == {"trajectories.csv", "blocs.csv", "status_changes.csv",
                                              "scenario.resolved.yaml", "plots"}
    pngs = sorted((out / "plots").glob("*.png"))
    assert pngs and all(p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in pngs)
    assert not (runs["b"] / "plots").exists()  # --no-plots
    assert [p.name for p in out.parent.iterdir() if p.name.startswith(".")] == []  # no temp folders


def test_trajectories_table(runs):
    traj = pd.read_csv(runs["a"] / "trajectories.csv", keep_default_na=False)
    for col in ["run", "year", "iso3", "alignment", *STRUCTURE, "sco_status"]:
        assert col in traj.columns, col
    assert [c for c in traj.columns if c.startswith("c_")] == CONTRIB
    assert set(traj["run"]) == {0, 1}
    assert sorted(set(traj["year"])) == list(range(2024, 2036))
    assert (traj.groupby(["run", "year"])["iso3"].nunique() == N_STATES).all()
    assert traj["alignment"].between(-1, 1).all()
    assert set(traj["sco_status"]) <= {"none", "dialogue_partner", "observer", "member"}
    assert (traj.loc[traj["iso3"] == "CHN", "sco_status"] == "member").all()


def test_blocs_and_status_tables(runs):
    blocs = pd.read_csv(runs["a"] / "blocs.csv")
    assert len(blocs) == 2 * 12
    counts = blocs[["states_sco", "states_nonaligned", "states_west"]].sum(axis=1)
    assert (counts == N_STATES).all()
    shares = blocs[["gdp_share_sco", "gdp_share_nonaligned", "gdp_share_west"]].sum(axis=1)
    assert np.allclose(shares, 1, atol=1e-5)
    changes = pd.read_csv(runs["a"] / "status_changes.csv")
    assert list(changes.columns) == ["run", "year", "iso3", "from_status", "to_status", "cause"]


def test_resolved_yaml_records_version_and_seeds(runs):
    doc = yaml.safe_load((runs["a"] / "scenario.resolved.yaml").read_text(encoding="utf-8"))
    prov = doc["provenance"]
    assert prov["version"] == model.__version__
    assert doc["replications"] == 2 and prov["root_seed"] == doc["seed"] == 20240
    assert prov["replication_seeds"] == replication_seeds(20240, 2)
    other = yaml.safe_load((runs["other_seed"] / "scenario.resolved.yaml").read_text(encoding="utf-8"))
    assert other["seed"] == 7 and other["provenance"]["replication_seeds"] == replication_seeds(7, 2)


@pytest.mark.parametrize("name", ["trajectories.csv", "blocs.csv", "status_changes.csv",
                                  "scenario.resolved.yaml"])
def test_same_scenario_and_seed_give_identical_bytes(runs, name):
    assert (runs["a"] / name).read_bytes() == (runs["b"] / name).read_bytes()


def test_another_seed_gives_other_trajectories(runs):
    a = pd.read_csv(runs["a"] / "trajectories.csv")
    other = pd.read_csv(runs["other_seed"] / "trajectories.csv")
    assert list(a.columns) == list(other.columns) and len(a) == len(other)
    last = a["year"] == a["year"].max()
    assert not np.allclose(a.loc[last, "alignment"], other.loc[last, "alignment"])


@pytest.mark.parametrize("name", ["trajectories.csv", "blocs.csv", "scenario.resolved.yaml"])
def test_rerun_from_the_resolved_yaml_reproduces_the_run(runs, name):
    assert (runs["rerun"] / name).read_bytes() == (runs["a"] / name).read_bytes()


def assert_attribution_adds_up(trajectories_csv: Path) -> None:
    """Per run and state, the c_* columns summed over years equal last minus first alignment."""
    traj = pd.read_csv(trajectories_csv, keep_default_na=False).sort_values(["run", "iso3", "year"])
    first_year = traj["year"] == traj["year"].min()
    assert (traj.loc[first_year, CONTRIB] == 0).all().all()
    g = traj.groupby(["run", "iso3"])
    explained = g[CONTRIB].sum().sum(axis=1)
    change = g["alignment"].last() - g["alignment"].first()
    gap = (explained - change).abs()
    assert gap.max() < 1e-4, gap.sort_values().tail()
    assert change.abs().max() > 0.01  # something moved, so the check has teeth


def test_attribution_sums_to_each_states_change(runs):
    assert_attribution_adds_up(runs["a"] / "trajectories.csv")


# --- every shipped scenario, end to end ------------------------------------------------------------

def short_version(src: Path, folder: Path, horizon: int = 2) -> Path:
    """A scenario that ``extends`` ``src`` by absolute path with a short horizon and 2 runs.

    Events after the shortened horizon are dropped (the schema refuses them) and lever start
    years after it are cleared (such a lever would never act: the CLI would print a note).
    """
    full = load_scenario(src)
    last = full.start_year + horizon
    child: dict = {"extends": str(src.resolve()), "name": f"{full.name}_short", "horizon": horizon,
                   "replications": 2}
    if any(ev.year > last for ev in full.events):
        child["events"] = [ev.model_dump(mode="json", exclude_none=True)
                           for ev in full.events if ev.year <= last]
    for name, cfg in full.lever_configs():
        if cfg.start is not None and cfg.start > last:
            child.setdefault("sco" if name in SCO_LEVERS else "west", {})[name] = {"start": None}
    path = folder / f"{full.name}_short.yaml"
    path.write_text(yaml.safe_dump(child, sort_keys=False), encoding="utf-8")
    return path


@pytest.mark.parametrize("src", SHIPPED, ids=lambda p: p.stem)
def test_every_shipped_scenario_runs_end_to_end(src, tmp_path):
    out = tmp_path / "out"
    run_quietly(short_version(src, tmp_path), "--out", out, "--quiet")
    start = load_scenario(src).start_year
    traj = pd.read_csv(out / "trajectories.csv", keep_default_na=False)
    assert sorted(set(traj["year"])) == [start, start + 1, start + 2]
    assert set(traj["run"]) == {0, 1}
    assert (out / "blocs.csv").stat().st_size > 0 and (out / "status_changes.csv").exists()
    resolved = yaml.safe_load((out / "scenario.resolved.yaml").read_text(encoding="utf-8"))
    assert resolved["horizon"] == 2 and len(resolved["provenance"]["replication_seeds"]) == 2
    assert list((out / "plots").glob("*.png"))
    assert_attribution_adds_up(out / "trajectories.csv")


def test_out_of_memory_is_one_line_and_exit_2(monkeypatch, capsys):
    import model.run.service as service

    def no_memory(*args, **kwargs):
        raise MemoryError

    monkeypatch.setattr(service, "replicate", no_memory)
    code = main(["run", str(BASELINE), "--no-plots", "--quiet", "--out", "/tmp/never-written-oom"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert len(err) == 1 and err[0].startswith("blocsim: error: out of memory")
    assert not Path("/tmp/never-written-oom").exists()


def test_the_command_line_leaves_the_callers_environment_as_it_found_it(monkeypatch, capsys):
    """``model.main`` is public: a script or REPL that calls it and then opens a pyplot window
    (or starts a program) must not find MPLBACKEND=agg left behind; a user's own value stays."""
    monkeypatch.delenv("MPLBACKEND", raising=False)
    assert main(["list"]) == 0
    assert "MPLBACKEND" not in os.environ
    monkeypatch.setenv("MPLBACKEND", "svg")
    assert main(["list"]) == 0
    assert os.environ["MPLBACKEND"] == "svg"


@pytest.mark.parametrize("command, resumes", [("list", False), ("batch", True)])
def test_ctrl_c_says_a_resume_only_of_what_resumes(command, resumes, monkeypatch, capsys):
    """Ctrl-C exits 130 with one line; a run or a compare does not resume: it was told it would."""
    import model.apps.cli as cli

    def interrupted(args):
        raise KeyboardInterrupt

    monkeypatch.setitem(cli.COMMANDS, command, interrupted)
    argv = ["list"] if command == "list" else ["batch", "scenarios/experiments/west_strategies.yaml"]
    assert main(argv) == 130
    err = capsys.readouterr().err
    assert err.startswith("blocsim: interrupted") and err.count("\n") == 1
    assert ("resumes" in err) == resumes
