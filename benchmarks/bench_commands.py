"""Issue 8's command-line targets, each command timed as a fresh process against its target.

    .venv/bin/python benchmarks/bench_commands.py [--repeat 5]

Times, in fresh processes from the project's own environment (the `blocsim` next to this Python):
``blocsim run scenarios/baseline.yaml --runs 100 --no-plots --quiet`` (target 1.5 s), the run
that ``make run`` makes (``run.py scenarios/baseline.yaml``: 20 runs, 6 plots; target 2.5 s; the
``make`` wrapper itself is not timed) and ``blocsim compare`` on the shipped ``west_strategies``
batch (made once first, not timed; target 2.5 s), with and without figures. Prints wall and CPU
seconds (children's ``ru_utime + ru_stime``) per repeat, the median, the load average before and
after, and says for each target whether the median meets it. Other work on the machine inflates
wall times: read the load average beside them. Outputs go to a temporary folder, deleted after.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BLOCSIM = str(Path(sys.executable).with_name("blocsim"))


def timed(cmd: list[str]) -> tuple[float, float]:
    """Wall and CPU seconds of one fresh process (raises if it fails)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run(cmd, cwd=ROOT, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5, help="times each command is run (default 5)")
    args = ap.parse_args(argv)
    print(f"{os.cpu_count()} CPUs, Python {sys.version.split()[0]}; "
          f"load average {os.getloadavg()[0]:.2f} at the start")
    with tempfile.TemporaryDirectory(prefix="bench_commands_") as tmp:
        batch = Path(tmp) / "ws"
        subprocess.run([BLOCSIM, "batch", "scenarios/experiments/west_strategies.yaml", "--out",
                        str(batch), "--quiet"], cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
        cases = [
            ("run --runs 100 --no-plots --quiet", 1.5,
             lambda k: [BLOCSIM, "run", "scenarios/baseline.yaml", "--runs", "100", "--no-plots",
                        "--quiet", "--out", f"{tmp}/r100_{k}"]),
            ("run.py scenarios/baseline.yaml (make run)", 2.5,
             lambda k: [sys.executable, "run.py", "scenarios/baseline.yaml", "--out",
                        f"{tmp}/base_{k}"]),
            ("compare on west_strategies", 2.5,
             lambda k: [BLOCSIM, "compare", str(batch), "--out", f"{tmp}/cmp_{k}"]),
            ("compare on west_strategies --no-plots", None,
             lambda k: [BLOCSIM, "compare", str(batch), "--no-plots", "--out", f"{tmp}/cmpn_{k}"]),
        ]
        for name, target, cmd in cases:
            walls, cpus = zip(*(timed(cmd(k)) for k in range(args.repeat)), strict=True)
            med = statistics.median(walls)
            verdict = "" if target is None else (
                f"target <= {target} s: {'met' if med <= target else 'MISSED'}")
            print(f"\n{name}\n  wall s: {' '.join(f'{w:.2f}' for w in walls)}  (median {med:.2f})"
                  f"\n  CPU s:  {' '.join(f'{c:.2f}' for c in cpus)}  (median "
                  f"{statistics.median(cpus):.2f})\n  {verdict}")
    print(f"\nload average {os.getloadavg()[0]:.2f} at the end")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
