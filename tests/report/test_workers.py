"""``report.workers``: figures drawn in a helper process are the same bytes as drawn at home."""

from __future__ import annotations

import os
from functools import partial

import pytest

from model.report import workers


def test_the_environment_fixes_the_number_of_helpers(monkeypatch):
    monkeypatch.setenv(workers.ENV, "0")
    assert workers.spare_workers() == 0
    monkeypatch.setenv(workers.ENV, "2")
    assert workers.spare_workers() == 2
    monkeypatch.setenv(workers.ENV, "many")  # not a number: the rule decides, within its bounds
    assert 0 <= workers.spare_workers() <= workers.MAX_WORKERS
    monkeypatch.setenv(workers.ENV, "-1")
    assert workers.spare_workers() == 0


def test_the_environment_cannot_ask_for_more_helpers_than_figures_to_share(monkeypatch):
    """Eight helpers importing matplotlib on two cores made a run three times slower, and a
    command has work for at most ``MAX_WORKERS``."""
    monkeypatch.setenv(workers.ENV, "99")
    assert workers.spare_workers() == workers.MAX_WORKERS


@pytest.mark.parametrize(("idle", "expected"), [(0.0, 0), (0.5, 0), (0.85, 1), (1.0, 1), (1.6, 1),
                                                 (2.0, 2), (7.0, workers.MAX_WORKERS)])
def test_whole_free_cores_get_a_helper_each(monkeypatch, idle, expected):
    """Idle cores as measured from the CPU counters decide, not the load average (which reads
    about 1 on some idle sandboxes)."""
    from model.base import cores

    monkeypatch.delenv(workers.ENV, raising=False)
    monkeypatch.setattr(cores, "free_cores", lambda: idle)
    monkeypatch.setattr(workers.os, "getloadavg", lambda: (64.0, 64.0, 64.0))  # not consulted
    assert workers.spare_workers() == expected


def test_without_helpers_every_job_runs_here_in_order():
    with workers.Helpers(0) as h:
        assert h.run([(pow, (2, 3)), (divmod, (7, 2))], [True, False]) == [8, (3, 1)]


def test_a_dead_helper_leaves_its_jobs_here(monkeypatch):
    """A helper killed or out of memory: its jobs are done in this process; a job's own error is raised."""
    from concurrent.futures import Future
    from concurrent.futures.process import BrokenProcessPool

    class Dead:
        def submit(self, styled, style, fn, *args):  # the job as ``Helpers.submit`` wraps it
            f = Future()
            f.set_exception(BrokenProcessPool("killed") if fn is pow else ValueError("a bug"))
            return f

    h = workers.Helpers(0)
    h._pool = Dead()
    assert h.run([(pow, (2, 5)), (abs, (-1,))], [True, False]) == [32, 1]
    with pytest.raises(ValueError, match="a bug"):
        h.run([(divmod, (7, 2))], [True])


def _pid_after(seconds: float) -> int:
    import time

    time.sleep(seconds)
    return os.getpid()


def test_jobs_a_helper_has_not_started_are_taken_back_the_last_first():
    """The caller, free, takes back queued jobs while the helper has more left than the job costs."""
    jobs = [(_pid_after, (0.6,))] + [(_pid_after, (0.0,))] * 4
    with workers.Helpers(1, warm="os") as h:
        futures = [h.submit(fn, *args) for fn, args in jobs]
        pids = h.gather(jobs, futures, cost=[0.6, 0.1, 0.1, 0.1, 0.1])
        helper = pids[0]
        assert helper != os.getpid()
        assert pids[-2:] == [os.getpid()] * 2  # not started: taken back
        theirs = [h.submit(fn, *args) for fn, args in jobs]
        assert h.gather(jobs, theirs) == [helper] * 5  # no costs: all theirs
        # taking one back would not end sooner: the helper keeps it (and the caller's imports count)
        futures = [h.submit(fn, *args) for fn, args in jobs[:3]]
        assert h.gather(jobs[:3], futures, cost=[0.2, 0.2, 0.2], start_cost=0.5) == [helper] * 3


def test_figures_are_named_not_imported():
    """A ``Plot`` describes a figure without importing its module; calling it draws it."""
    plot = workers.Plot("math", "hypot", (3.0, 4.0))
    assert plot() == 5.0 and plot.function == "hypot"


@pytest.mark.slow
def test_a_helper_draws_the_same_run_figures(tmp_path):
    """The six run figures, drawn with and without a helper process: the same files, byte for byte."""
    from model.report.run_plots import write_plots
    from model.run.service import execute_run

    out = execute_run("scenarios/baseline.yaml", runs=2, out=None)
    args = (out.tables.arrays("trajectories"), out.tables.arrays("blocs"), out.world, out.scenario)
    home = write_plots(*args, tmp_path / "home")
    with workers.Helpers(1, warm="model.report.run_plots") as h:
        away = write_plots(*args, tmp_path / "away", helpers=h)
    assert [p.name for p in home] == [p.name for p in away] and len(home) == 6
    for p, q in zip(home, away, strict=True):
        assert p.read_bytes() == q.read_bytes(), p.name


@pytest.mark.slow
def test_a_helper_draws_the_same_compare_figure():
    import numpy as np
    import pandas as pd

    from model.report import compare_plots as cp

    o = pd.DataFrame({"run_id": range(8), "scenario": "s1", "strategy": ["none", "a"] * 4,
                      "point": 0, "replication": np.repeat(range(4), 2), "status": "ok",
                      "gdp_share_west": np.linspace(0.4, 0.6, 8)})
    make = partial(cp.plot_outcome_distributions, o, "gdp_share_west", reference="none")
    with workers.Helpers(1, warm="model.report.compare_plots") as h:
        away, home = h.run([(workers.draw_png, (make,))] * 2, [True, False])
    assert away == home and home.startswith(b"\x89PNG")


def _gone(pid: int, seconds: float) -> bool:
    """True once process ``pid`` has ended (absent or a zombie) within ``seconds``."""
    import time
    from pathlib import Path

    stat = Path(f"/proc/{pid}/stat")
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            if stat.read_text().rsplit(")", 1)[1].split()[0] == "Z":
                return True
        except (FileNotFoundError, ProcessLookupError):
            return True
        time.sleep(0.1)
    return False


@pytest.mark.slow
@pytest.mark.skipif(not __import__("pathlib").Path("/proc/self/stat").exists(), reason="needs /proc")
def test_a_helper_ends_when_its_caller_dies_without_closing_it(tmp_path):
    """A caller killed (SIGTERM, SIGKILL: no ``finally``) leaves no helper process behind (one
    would also hold the caller's output pipe open, so a ``blocsim run | tee`` never ended)."""
    import os
    import subprocess
    import sys

    code = ("import os\nfrom model.report.workers import Helpers\nh = Helpers(1, warm='os')\n"
            "print(*h._pool._processes, flush=True)\nos._exit(0)\n")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    with open(tmp_path / "pids", "w") as out:  # not a pipe: the helper would hold it open
        subprocess.run([sys.executable, "-c", code], stdout=out, env=env, timeout=60, check=True)
    pids = [int(p) for p in (tmp_path / "pids").read_text().split()]
    assert pids
    try:
        assert all(_gone(p, 20) for p in pids)
    finally:
        for p in pids:
            if not _gone(p, 0.1):
                os.kill(p, 9)


def test_ctrl_c_is_left_to_the_calling_process():
    """Ctrl-C reaches every process of the terminal's group; a helper ignores it (no traceback of
    its own): the caller stops and ends its helpers."""
    import signal

    with workers.Helpers(1, warm="os") as h:
        assert h.run([(signal.getsignal, (signal.SIGINT,))], [True]) == [signal.SIG_IGN]


def _write_later(path: str) -> None:
    """A helper's job that writes a file after a while (as a figure is saved at its end)."""
    import time
    from pathlib import Path

    Path(path + ".started").touch()
    time.sleep(1.0)
    Path(path).write_text("late")


def _fail_once_started(path: str) -> None:
    """Fail once the helper's job has started (a job not started yet is cancelled instead)."""
    import time
    from pathlib import Path

    end = time.monotonic() + 30
    while not Path(path + ".started").exists() and time.monotonic() < end:
        time.sleep(0.01)
    raise ValueError("a figure here failed")


def test_a_failure_here_waits_for_the_helpers_jobs(tmp_path):
    """``blocsim run``'s helper saves into the same temporary folder: when a figure drawn here
    fails (or Ctrl-C), the caller removes that folder, so the helper must be done writing first,
    or its file would land in a folder being removed and leave a stray temporary."""
    late = tmp_path / "late.png"
    with workers.Helpers(1, warm="os") as h:
        with pytest.raises(ValueError, match="failed"):
            h.run([(_write_later, (str(late),)), (_fail_once_started, (str(late),))],
                      [True, False])
        assert late.exists()


def test_a_script_calling_blocsim_is_not_run_again_by_a_helper(tmp_path):
    """``model.main`` called from a script with no ``if __name__ == "__main__"`` guard: a
    'spawn' helper would import the script as its main module and run its body again (a whole
    second ``blocsim run`` into the same folder). The helper needs blocsim's functions only."""
    import subprocess
    import sys

    log = tmp_path / "body.log"
    script = tmp_path / "script.py"
    script.write_text("import os\n"
                      f"open({str(log)!r}, 'a').write(f'{{os.getpid()}}\\n')\n"
                      "from model.report.workers import Helpers\n"
                      "with Helpers(1, warm='os') as h:\n"
                      "    print(h.workers, h.run([(os.getpid, ())], [True])[0] != os.getpid())\n")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=env,
                         timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["1", "True"]  # the job did run in a helper
    assert len(log.read_text().split()) == 1  # and the script's body ran once


def _setting(name: str):
    """A helper's job: one of its matplotlib settings while it draws."""
    import matplotlib

    return matplotlib.rcParams[name]


def test_a_helper_draws_with_the_callers_matplotlib_settings():
    """A script or notebook that set its own style (a font size) before ``model.main(["run", ...])``
    had the figures drawn here in its style and those a helper drew in the defaults: the same
    run gave other bytes depending on whether a core happened to be idle."""
    import matplotlib

    default = matplotlib.rcParams["font.size"]
    with matplotlib.rc_context({"font.size": default + 7.0, "lines.linewidth": 3.25}):
        with workers.Helpers(1, warm="os") as h:
            got = h.run([(_setting, ("font.size",)), (_setting, ("lines.linewidth",))], [True, True])
    assert got == [default + 7.0, 3.25]
    with workers.Helpers(1, warm="os") as h:  # the caller's settings back to the defaults
        assert h.run([(_setting, ("font.size",))], [True]) == [default]
