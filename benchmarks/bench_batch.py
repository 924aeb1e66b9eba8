"""Speed and memory of a batch of replications: ``model.run.batch.run_batch`` against ``mesa.batch_run``.

All contenders run the same runs: the baseline scenario (``scenarios/baseline.yaml``, the whole
default world, the full horizon), N replications whose seeds are
``model.core.seeds.replication_seeds(scenario.seed, N)``, on the same number of processes, and
all keep every state's alignment at every step:

* ours: ``expand`` the design (trajectories kept) and ``run_batch`` it into a temporary folder on
  /tmp: each chunk (50 replications) runs as one ensemble (``core.ensemble``) and its Parquet
  tables stream to disk (it also computes and writes the outcomes, states and blocs tables, which
  mesa's side does not);
* mesa, lean (the headline): ``mesa.batch_run`` on ``LeanAdapter``, a ``mesa.Model`` that builds
  our ``BlocModel`` for one seed, steps it, records the 193-value alignment array once per step
  with a model-level reporter, and releases the inner model when it stops. This is how one would
  use mesa.batch_run sensibly for this model;
* mesa, heavy (second line, the set-up of earlier versions of this script): ``MesaAdapter``, the
  same model with a per-agent ``DataCollector`` (one dict per run, step and state) and no release
  (a Mesa 3.3.1 bug, mesa/mesa#3179, then keeps every model alive).

Each contender runs in a fresh subprocess of this script (``--one ours|lean|heavy``), so none
inherits another's imports, caches or heap. The batch call's clock starts at the same line on
every side: the contender's modules and the libraries its batch uses are imported (mesa imports
numpy, scipy.sparse and pandas itself; ours imports scipy.sparse and pyarrow.parquet before
the clock, which its batch would otherwise import lazily inside the call), and the scenario and
its world are loaded and checked. Inside the clock on every side: the seeds' design (ours
expands the experiment), the peer relations (mesa's workers build them), the runs, and (ours)
the files. For each we report:

* wall time of the batch call (worker start-up included) and of the whole process (from launching
  the interpreter until the batch call returns: imports and loading included, the same for
  every side), and runs per second for both;
* CPU seconds of the whole process tree, sampled from outside;
* peak resident memory: the peak of the summed RSS of the whole process tree (the contender and
  all its workers), sampled every 20 ms by this script from outside; and, from the contender
  itself, its parent process's high-water mark (``VmHWM``; ``ru_maxrss`` where there is no
  /proc), with the largest worker sampled;
* the ratios ours/lean and ours/heavy.

After its figures are taken, each mesa subprocess reads our trajectories Parquet and asserts that
every (run, year, state) alignment in its result, rounded to float32 as we store it, equals ours:
same model, same seeds, same numbers. Targets (issue 8): at least 8x lean mesa.batch_run's
throughput and at most a quarter of its peak memory, at 1,000 runs on 2 processes.

``--scale 1000,10000,100000`` instead runs ours alone at each size (trajectories kept, into a
temporary folder on /tmp deleted afterwards) and prints its peak memory per size, to see whether
memory grows with the number of runs (it should not: chunks stream to disk).

``--pss`` also samples the tree's proportional set size (RSS counts the pages of shared libraries
once in every process that maps them; PSS shares them out), every 0.5 s because reading
/proc/PID/smaps is slow. ``--no-heavy`` leaves out the heavy mesa set-up (it takes longest).

Times are wall-clock, so other work on the machine inflates them: the header prints the load
average, and the CPU seconds used by each contender's whole process tree are shown as a figure
that contention skews less.

    python benchmarks/bench_batch.py [--runs 1000] [--workers 2 | --workers 1,2] [--pss] [--no-heavy]
    python benchmarks/bench_batch.py --scale 1000,10000[,100000] [--pss]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from model.config.scenario import load_scenario  # noqa: E402
from model.core.seeds import replication_seeds  # noqa: E402

BASELINE = ROOT / "scenarios" / "baseline.yaml"
SAMPLE_EVERY = 0.02  # seconds between samples of the process tree's memory
PSS_EVERY = 0.5  # seconds between the (costlier) samples of its proportional set size
MIB = 2**20
#: Libraries whose presence in our contender's process after the batch is reported (what its
#: start-up and resident memory pay for).
LIBRARIES = ("pandas", "scipy", "pyarrow", "pyarrow.compute", "pyarrow.dataset", "pydantic", "yaml",
             "mesa", "matplotlib")

# --- the mesa side: benchmarks/mesa_adapters.py (imported by the mesa contenders only, so that
# our contender's process imports no Mesa it does not use itself) ------------------------------

# --- one contender, in its own process ----------------------------------------------------------

def rusage_mib() -> tuple[float, float, float]:
    """Peak RSS (MiB) of this process and of its largest waited-for child (Linux reports KiB),
    and the CPU seconds (user + system) of this process and all its waited-for children.

    This process's own peak is ``VmHWM`` from /proc/self/status where there is one: Linux
    carries ``ru_maxrss`` over ``exec`` from the forked copy of the parent, so a contender
    smaller than this script's driver (which has imported Mesa, about 147 MiB) would report
    the driver's size instead of its own.
    """
    own = resource.getrusage(resource.RUSAGE_SELF)
    child = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = own.ru_utime + own.ru_stime + child.ru_utime + child.ru_stime
    peak = own.ru_maxrss / 1024
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                peak = int(line.split()[1]) / 1024
    except OSError:
        pass
    return peak, child.ru_maxrss / 1024, cpu


def report(**values) -> None:
    print(json.dumps(values), flush=True)


def one_ours(runs: int, workers: int, out: Path) -> None:
    # The starting line, the same as mesa's side (``one_mesa``): what the contender's batch call
    # runs is imported (mesa imports numpy, scipy.sparse and pandas at its own import; our batch
    # uses scipy.sparse and pyarrow), and the scenario and its world are loaded and checked. The
    # peer relations are built inside the call on both sides (mesa's workers build them).
    import pyarrow.parquet  # noqa: F401
    import scipy.sparse  # noqa: F401

    from model.config.checks import prepare_world
    from model.run import chunks  # noqa: F401
    from model.run.batch import run_batch
    from model.run.design import expand, spec_from_files

    scenario = load_scenario(BASELINE)
    prepare_world(scenario)  # the call the batch makes (the world cached per world and year)
    t0 = time.perf_counter()
    spec = spec_from_files([BASELINE], [], name="bench_batch", replications=runs, seed=scenario.seed)
    spec.keep_trajectories = True
    design = expand(spec, base_dir=ROOT)
    summary = run_batch(design, out, workers=workers)
    elapsed = time.perf_counter() - t0
    own, child, cpu = rusage_mib()
    assert summary.failed == 0 and summary.runs_now == runs, summary
    traj = out / "trajectories"
    loaded = [m for m in LIBRARIES if m in sys.modules]  # before reading the parts back
    report(kind="measure", elapsed=elapsed, rss_self=own, rss_child=child, cpu=cpu,
           rows=sum(_parquet_rows(p) for p in traj.glob("part-*.parquet")),
           disk=sum(p.stat().st_size for p in out.rglob("*") if p.is_file()), loaded=loaded)


def _parquet_rows(path: Path) -> int:
    import pyarrow.parquet as pq

    return pq.ParquetFile(path).metadata.num_rows


def one_mesa(kind: str, runs: int, workers: int, check: Path | None) -> None:
    import mesa
    from mesa_adapters import ADAPTERS, baseline

    scenario, world = baseline()
    seeds = replication_seeds(scenario.seed, runs)
    t0 = time.perf_counter()
    results = mesa.batch_run(ADAPTERS[kind], parameters={"seed": seeds}, iterations=1,
                             number_processes=workers, data_collection_period=1,
                             display_progress=False)
    elapsed = time.perf_counter() - t0
    own, child, cpu = rusage_mib()
    report(kind="measure", elapsed=elapsed, rss_self=own, rss_child=child, cpu=cpu,
           rows=len(results) if kind == "heavy" else len(results) * world.n)
    if check is not None:
        report(kind="check", **compare(results, check, seeds, scenario, world))


def compare(results: list[dict], out: Path, seeds: list[int], scenario, world) -> dict:
    """Every (run, year, state) alignment of mesa's result against our trajectories Parquet."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.dataset as ds

    T = int(round(scenario.horizon / scenario.dt)) + 1
    shape = (len(seeds), T, world.n)
    ours = np.full(shape, np.nan, dtype=np.float32)
    table = ds.dataset(out / "trajectories", format="parquet").to_table()
    run = table["run_id"].to_numpy()
    step = np.rint((table["year"].to_numpy() - scenario.start_year) / scenario.dt).astype(np.int64)
    state = pc.index_in(table["iso3"], value_set=pa.array(world.iso3.astype(str))).to_numpy()
    ours[run, step, state] = table["alignment"].to_numpy()

    theirs = np.full(shape, np.nan)
    run_of = {s: i for i, s in enumerate(seeds)}
    from model.config.build import model_from_scenario

    probe = model_from_scenario(scenario, rng=np.random.default_rng(0), world=world)
    state_of = {a.unique_id: a.index for a in probe.agents}  # AgentID -> state, by creation order
    for row in results:
        if "AgentID" in row:  # heavy: one row per state
            theirs[run_of[row["seed"]], row["Step"], state_of[row["AgentID"]]] = row["alignment"]
        else:  # lean: one (n,) array per step
            theirs[run_of[row["seed"]], row["Step"]] = row["alignment"]

    assert table.num_rows == ours.size, (table.num_rows, ours.size)
    assert not np.isnan(ours).any() and not np.isnan(theirs).any(), "a cell was never filled"
    assert np.array_equal(theirs.astype(np.float32), ours), "mesa.batch_run and run_batch differ"
    samples = []
    for r, k, iso in ((0, T - 1, "KAZ"), (len(seeds) // 2, T // 2, "IND"), (len(seeds) - 1, 1, "TUR")):
        i = int(np.flatnonzero(world.iso3 == iso)[0])
        samples.append([r, scenario.start_year + k * scenario.dt, iso, float(theirs[r, k, i]),
                        float(ours[r, k, i])])
        assert theirs[r, k, i].astype(np.float32) == ours[r, k, i]
    return {"cells": int(ours.size), "samples": samples}


# --- the driver: each contender in a fresh subprocess, its memory sampled from outside --------------

def launch(args: list[str], pss: bool = False) -> dict:
    """Run this script with ``args``; wall time to its first report and its tree's peak RSS.

    The peak is taken until the contender prints its measurement, so the agreement check that
    the mesa contender does afterwards is not counted. With ``pss``, the summed proportional set
    size (shared library pages divided among the processes that map them) is sampled too, less
    often: reading /proc/PID/smaps costs milliseconds a process.
    """
    import psutil

    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, str(Path(__file__).resolve()), *args],
                            stdout=subprocess.PIPE, text=True, cwd=ROOT)
    lines: list[dict] = []
    measured = threading.Event()
    t_measured = [0.0]

    def read() -> None:
        for line in proc.stdout:
            if line.startswith("{"):
                doc = json.loads(line)
                if doc["kind"] == "measure":
                    t_measured[0] = time.perf_counter()
                    measured.set()
                lines.append(doc)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    root = psutil.Process(proc.pid)
    peak = peak_pss = 0
    next_pss = 0.0
    # Per process seen: CPU seconds and peak RSS, sampled from outside, so that no worker
    # escapes (RUSAGE_CHILDREN counts only waited-for children, and only the largest).
    cpu: dict[int, float] = {}
    rss: dict[int, int] = {}
    while proc.poll() is None and not measured.is_set():
        total = total_pss = 0
        now = time.perf_counter()
        read_pss = pss and now >= next_pss
        try:
            for p in [root, *root.children(recursive=True)]:
                try:
                    mem = p.memory_info().rss
                    total += mem
                    rss[p.pid] = max(rss.get(p.pid, 0), mem)
                    times = p.cpu_times()
                    cpu[p.pid] = max(cpu.get(p.pid, 0.0), times.user + times.system)
                    if read_pss:
                        total_pss += p.memory_full_info().pss
                except psutil.Error:
                    pass
        except psutil.Error:
            pass
        peak = max(peak, total)
        if read_pss:
            peak_pss = max(peak_pss, total_pss)
            next_pss = now + PSS_EVERY
        time.sleep(SAMPLE_EVERY)
    proc.wait()
    reader.join()
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed with exit code {proc.returncode}")
    out = {d["kind"]: d for d in lines}
    out["measure"].update(process=t_measured[0] - t0, tree_peak=peak / MIB, tree_pss=peak_pss / MIB,
                          tree_cpu=sum(cpu.values()),
                          largest_worker=max((v for k, v in rss.items() if k != proc.pid),
                                             default=0) / MIB)
    return out


def run_ours(runs: int, workers: int, pss: bool = False) -> dict:
    tmp = Path(tempfile.mkdtemp(prefix="bench_batch_", dir="/tmp"))
    try:
        return launch(["--one", "ours", "--runs", str(runs), "--workers", str(workers),
                       "--out", str(tmp / "batch")], pss)["measure"] | {"out": tmp}
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def machine() -> str:
    import mesa

    cpu = platform.processor() or "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} CPUs ({cpu}), Python {platform.python_version()}, Mesa {mesa.__version__}"


def compare_contenders(runs: int, workers: int, pss: bool, heavy: bool = True) -> None:
    ours = run_ours(runs, workers, pss)
    others = {}
    try:
        for kind in ("lean", "heavy") if heavy else ("lean",):
            res = launch(["--one", kind, "--runs", str(runs), "--workers", str(workers),
                          "--check", str(ours["out"] / "batch")], pss)
            others[kind] = (res["measure"], res["check"])
    finally:
        shutil.rmtree(ours["out"], ignore_errors=True)
    lean = others["lean"][0]
    cols = {"ours": ours, **{k: v[0] for k, v in others.items()}}

    rows = [
        ("batch call wall time (s)", "elapsed", "{:.2f}"),
        ("whole process wall time (s)", "process", "{:.2f}"),
        ("runs/s, batch call", "rate", "{:.0f}"),
        ("runs/s, whole process", "prate", "{:.0f}"),
        ("CPU seconds, whole tree, sampled", "tree_cpu", "{:.2f}"),
        ("peak RSS, process tree, sampled (MiB)", "tree_peak", "{:.0f}"),
        ("peak RSS, parent: VmHWM (MiB)", "rss_self", "{:.0f}"),
        ("peak RSS, largest worker, sampled (MiB)", "largest_worker", "{:.0f}"),
    ] + ([("peak PSS, process tree, sampled (MiB)", "tree_pss", "{:.0f}")] if pss else [])
    for m in cols.values():
        m["rate"], m["prate"] = runs / m["elapsed"], runs / m["process"]
    print(f"\nworkers={workers}, {runs} replications")
    head = f"  {'':40}" + "".join(f"{k:>10}" for k in cols) + "".join(
        f"{'ours/' + k:>12}" for k in others)
    print(head)
    for label, key, fmt in rows:
        line = f"  {label:40}" + "".join(f"{fmt.format(m[key]):>10}" for m in cols.values())
        line += "".join(f"{ours[key] / m[key]:>12.3f}" if m[key] else f"{'-':>12}"
                        for m, _ in others.values())
        print(line)
    print(f"  {'libraries loaded by ours':40}  {', '.join(ours.get('loaded', [])) or '-'}")
    print(f"  {'alignment values kept':40}" + "".join(f"{m['rows']:>10,}" for m in cols.values())
          + f"   (ours on disk, {ours['disk'] / MIB:.0f} MiB of Parquet; mesa's in memory)")
    for kind, (_, check) in others.items():
        print(f"  check, {kind}: all {check['cells']:,} (run, year, state) alignments identical; e.g.")
        for r, year, iso, m, o in check["samples"]:
            print(f"    run {r:>5} {year:.0f} {iso}: mesa {m:+.9f}  ours {o:+.9f} (float32)")
    speed = lean["elapsed"] / ours["elapsed"]
    mem = ours["tree_peak"] / lean["tree_peak"]

    def verdict(ok: bool) -> str:
        return "met" if ok else "NOT met"

    print("  targets (issue 8), against lean mesa.batch_run:")
    print(f"    >= 8x throughput: {speed:.2f}x (batch call), "
          f"{lean['process'] / ours['process']:.2f}x (whole process), "
          f"{lean['tree_cpu'] / ours['tree_cpu']:.2f}x (CPU seconds) -> {verdict(speed >= 8)}")
    print(f"    <= 1/4 of peak memory: {mem:.3f} (process tree)"
          + (f", {ours['tree_pss'] / lean['tree_pss']:.3f} (PSS)" if pss else "")
          + f" -> {verdict(mem <= 0.25)}")
    if heavy:
        h = others["heavy"][0]
        print(f"  against the heavy set-up: {h['elapsed'] / ours['elapsed']:.2f}x throughput, "
              f"{ours['tree_peak'] / h['tree_peak']:.3f} of its peak memory")
    print(f"  load average {os.getloadavg()[0]:.2f} at the end")


def scale(sizes: list[int], workers: int, pss: bool) -> None:
    print(f"\nours alone, workers={workers}, trajectories kept; peak RSS per size")
    print(f"  {'runs':>8}{'wall s':>9}{'runs/s':>8}{'tree peak MiB':>15}{'parent MiB':>12}"
          f"{'worker MiB':>12}{'Parquet MiB':>13}" + (f"{'tree PSS MiB':>14}" if pss else ""))
    for n in sizes:
        m = run_ours(n, workers, pss)
        shutil.rmtree(m["out"], ignore_errors=True)
        print(f"  {n:>8,}{m['elapsed']:>9.1f}{n / m['elapsed']:>8.0f}{m['tree_peak']:>15.0f}"
              f"{m['rss_self']:>12.0f}{m['largest_worker']:>12.0f}{m['disk'] / MIB:>13.0f}"
              + (f"{m['tree_pss']:>14.0f}" if pss else ""), flush=True)


def int_list(text: str) -> list[int]:
    try:
        values = [int(v) for v in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: write whole numbers separated by commas") from None
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: every value must be at least 1")
    return values


def positive(text: str) -> int:
    values = int_list(text)
    if len(values) != 1:
        raise argparse.ArgumentTypeError(f"{text!r}: one whole number")
    return values[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=positive, default=1000, help="replications (default 1000)")
    parser.add_argument("--workers", type=int_list, default=[2],
                        help="worker processes, or a list such as 1,2 to compare each (default 2; "
                             "--scale uses the last)")
    parser.add_argument("--scale", type=int_list, metavar="N,N,...",
                        help="instead, run ours alone at each number of runs and show its memory")
    parser.add_argument("--pss", action="store_true",
                        help="also sample the tree's proportional set size (every 0.5 s; costs some CPU)")
    parser.add_argument("--no-heavy", action="store_true",
                        help="leave out mesa.batch_run with the heavy per-agent set-up")
    parser.add_argument("--one", choices=("ours", "lean", "heavy"), help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--check", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.one == "ours":
        one_ours(args.runs, args.workers[0], args.out)
        return
    if args.one in ("lean", "heavy"):
        one_mesa(args.one, args.runs, args.workers[0], args.check)
        return
    from mesa_adapters import baseline

    scenario, world = baseline()
    steps = int(round(scenario.horizon / scenario.dt))
    print(f"baseline: {world.n} states x {steps} steps ({steps + 1} years recorded per run), "
          f"seeds from SeedSequence({scenario.seed})")
    print(f"{machine()}; load average {os.getloadavg()[0]:.2f} at the start (other work skews times)")
    if args.scale:
        scale(args.scale, args.workers[-1], args.pss)
        return
    for w in args.workers:
        compare_contenders(args.runs, w, args.pss, heavy=not args.no_heavy)


if __name__ == "__main__":
    main()
