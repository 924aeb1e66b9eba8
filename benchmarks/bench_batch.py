"""Speed and memory of a batch of replications: ``model.run.batch.run_batch`` against ``mesa.batch_run``.

Both contenders run the same runs: the baseline scenario (``scenarios/baseline.yaml``, the whole
default world, the full horizon), N replications whose seeds are
``model.core.seeds.replication_seeds(scenario.seed, N)``, on the same number of worker processes, and
both keep every state's alignment at every step:

* ours: ``expand`` the design (trajectories kept) and ``run_batch`` it into a temporary folder on
  /tmp, which streams each chunk's Parquet tables to disk (it also computes and writes the
  outcomes, states and blocs tables, which mesa's side does not);
* mesa: ``mesa.batch_run`` on ``MesaAdapter``, a ``mesa.Model`` that builds our ``BlocModel`` for
  one seed, steps it, and records each agent's ``alignment`` with a ``mesa.DataCollector`` every
  step (``data_collection_period=1``); its result is a list of one dict per (run, step, state),
  held in memory.

Each contender runs in a fresh subprocess of this script (``--one ours|mesa``), so neither's
imports, caches or heap inflate the other's figures. For each we report:

* wall time of the batch call (worker start-up included) and of the whole process (from launching
  the interpreter until the batch call returns), and runs per second for both;
* peak resident memory: the peak of the summed RSS of the whole process tree (the contender and
  all its workers), sampled every 20 ms by this script from outside; and, from the contender
  itself, ``ru_maxrss`` of RUSAGE_SELF (its parent process) and of RUSAGE_CHILDREN (the largest
  single worker, as Linux reports it), with "parent + workers x largest worker" as a bound;
* the ratios ours/mesa of throughput and of peak memory.

After its figures are taken, the mesa subprocess reads our trajectories Parquet and asserts that
every (run, year, state) alignment in mesa's result, rounded to float32 as we store it, equals
ours: same model, same seeds, same numbers. Targets (issue 3): 1,000 replications in under 5 s,
at least 3x mesa.batch_run's throughput, at most a quarter of its peak memory.

``--scale 1000,10000,100000`` instead runs ours alone at each size (trajectories kept, into a
temporary folder on /tmp deleted afterwards) and prints its peak memory per size, to see whether
memory grows with the number of runs (it should not: chunks stream to disk). 100,000 runs take
about four minutes on two cores and write about 1.5 GB of Parquet.

``--pss`` also samples the tree's proportional set size (RSS counts the pages of shared libraries
once in every process that maps them; PSS shares them out), every 0.5 s because reading
/proc/PID/smaps is slow.

Times are wall-clock, so other work on the machine inflates them: the header prints the load
average, and the CPU seconds used by each contender's whole process tree are shown as a figure
that contention skews less.

    python benchmarks/bench_batch.py [--runs 1000] [--workers 2 | --workers 1,2] [--pss]
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

import mesa
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from model.config.build import model_from_scenario  # noqa: E402
from model.config.checks import prepare_world  # noqa: E402
from model.config.scenario import load_scenario  # noqa: E402
from model.core.seeds import replication_seeds  # noqa: E402

BASELINE = ROOT / "scenarios" / "baseline.yaml"
SAMPLE_EVERY = 0.02  # seconds between samples of the process tree's memory
PSS_EVERY = 0.5  # seconds between the (costlier) samples of its proportional set size
MIB = 2**20

# --- the mesa side ------------------------------------------------------------------------------

_BASELINE_CACHE: dict = {}


def baseline():
    """The baseline scenario and its world, loaded once per process (as ``run_chunk`` does per chunk)."""
    if not _BASELINE_CACHE:
        scenario = load_scenario(BASELINE)
        _BASELINE_CACHE["v"] = (scenario, prepare_world(scenario, BASELINE.parent))
    return _BASELINE_CACHE["v"]


class MesaAdapter(mesa.Model):
    """One baseline replication for ``mesa.batch_run``: our ``BlocModel`` plus a Mesa DataCollector.

    The inner model is built exactly as ``model.run.chunks.run_chunk`` builds it for a seed, so both
    sides draw the same random numbers. The collector keys records by the inner model's step
    count (0 = the start year, then 1..horizon), and ``batch_run`` reads steps
    0..``self.steps - 1``; so the adapter takes one more step than the model, which only stops
    it, for the last year to be reported.
    """

    def __init__(self, seed: int) -> None:
        super().__init__(seed=seed)
        scenario, world = baseline()
        self.bloc = model_from_scenario(scenario, rng=np.random.default_rng(seed), world=world)
        self.datacollector = mesa.DataCollector(agent_reporters={"alignment": "alignment"})
        self.datacollector.collect(self.bloc)

    def step(self) -> None:
        if self.bloc.k < self.bloc.steps_total:
            self.bloc.step()
            self.datacollector.collect(self.bloc)
        else:
            self.running = False


# --- one contender, in its own process ----------------------------------------------------------

def rusage_mib() -> tuple[float, float, float]:
    """Peak RSS (MiB) of this process and of its largest waited-for child (Linux reports KiB),
    and the CPU seconds (user + system) of this process and all its waited-for children."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    child = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = own.ru_utime + own.ru_stime + child.ru_utime + child.ru_stime
    return own.ru_maxrss / 1024, child.ru_maxrss / 1024, cpu


def report(**values) -> None:
    print(json.dumps(values), flush=True)


def one_ours(runs: int, workers: int, out: Path) -> None:
    from model.run.batch import run_batch
    from model.run.design import expand, spec_from_files

    scenario = load_scenario(BASELINE)
    t0 = time.perf_counter()
    spec = spec_from_files([BASELINE], [], name="bench_batch", replications=runs, seed=scenario.seed)
    spec.keep_trajectories = True
    design = expand(spec, base_dir=ROOT)
    summary = run_batch(design, out, workers=workers)
    elapsed = time.perf_counter() - t0
    own, child, cpu = rusage_mib()
    assert summary.failed == 0 and summary.runs_now == runs, summary
    traj = out / "trajectories"
    report(kind="measure", elapsed=elapsed, rss_self=own, rss_child=child, cpu=cpu,
           rows=sum(_parquet_rows(p) for p in traj.glob("part-*.parquet")),
           disk=sum(p.stat().st_size for p in out.rglob("*") if p.is_file()))


def _parquet_rows(path: Path) -> int:
    import pyarrow.parquet as pq

    return pq.ParquetFile(path).metadata.num_rows


def one_mesa(runs: int, workers: int, check: Path | None) -> None:
    scenario, world = baseline()
    seeds = replication_seeds(scenario.seed, runs)
    t0 = time.perf_counter()
    results = mesa.batch_run(MesaAdapter, parameters={"seed": seeds}, iterations=1,
                             number_processes=workers, data_collection_period=1,
                             display_progress=False)
    elapsed = time.perf_counter() - t0
    own, child, cpu = rusage_mib()
    report(kind="measure", elapsed=elapsed, rss_self=own, rss_child=child, cpu=cpu, rows=len(results))
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
    probe = model_from_scenario(scenario, rng=np.random.default_rng(0), world=world)
    state_of = {a.unique_id: a.index for a in probe.agents}  # AgentID -> state, by creation order
    for row in results:
        theirs[run_of[row["seed"]], row["Step"], state_of[row["AgentID"]]] = row["alignment"]

    assert len(results) == table.num_rows == ours.size, (len(results), table.num_rows, ours.size)
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
    cpu = platform.processor() or "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} CPUs ({cpu}), Python {platform.python_version()}, Mesa {mesa.__version__}"


def compare_contenders(runs: int, workers: int, pss: bool) -> None:
    ours = run_ours(runs, workers, pss)
    try:
        res = launch(["--one", "mesa", "--runs", str(runs), "--workers", str(workers),
                      "--check", str(ours["out"] / "batch")], pss)
    finally:
        shutil.rmtree(ours["out"], ignore_errors=True)
    theirs, check = res["measure"], res["check"]

    def bound(m: dict) -> float:
        return m["rss_self"] + (workers if workers > 1 else 0) * m["largest_worker"]

    rows = [
        ("batch call wall time (s)", ours["elapsed"], theirs["elapsed"], "{:.2f}"),
        ("whole process wall time (s)", ours["process"], theirs["process"], "{:.2f}"),
        ("runs/s, batch call", runs / ours["elapsed"], runs / theirs["elapsed"], "{:.0f}"),
        ("runs/s, whole process", runs / ours["process"], runs / theirs["process"], "{:.0f}"),
        ("CPU seconds, whole tree, sampled", ours["tree_cpu"], theirs["tree_cpu"], "{:.2f}"),
        ("peak RSS, process tree, sampled (MiB)", ours["tree_peak"], theirs["tree_peak"], "{:.0f}"),
        ("peak RSS, parent: ru_maxrss (MiB)", ours["rss_self"], theirs["rss_self"], "{:.0f}"),
        ("peak RSS, largest worker, sampled (MiB)", ours["largest_worker"],
         theirs["largest_worker"], "{:.0f}"),
        (f"parent + {workers} x largest worker (MiB)", bound(ours), bound(theirs), "{:.0f}"),
    ]
    if pss:
        rows.append(("peak PSS, process tree, sampled (MiB)", ours["tree_pss"], theirs["tree_pss"],
                     "{:.0f}"))
    print(f"\nworkers={workers}, {runs} replications")
    print(f"  {'':40}{'ours':>12}{'mesa':>12}{'ours/mesa':>11}")
    for label, a, b, fmt in rows:
        ratio = f"{a / b:.2f}" if b else "-"
        print(f"  {label:40}{fmt.format(a):>12}{fmt.format(b):>12}{ratio:>11}")
    print(f"  {'alignment rows kept':40}{ours['rows']:>12,}{theirs['rows']:>12,}"
          f"   (ours on disk, {ours['disk'] / MIB:.0f} MiB of Parquet; mesa's in memory)")
    print(f"  check: all {check['cells']:,} (run, year, state) alignments identical; e.g.")
    for r, year, iso, m, o in check["samples"]:
        print(f"    run {r:>5} {year:.0f} {iso}: mesa {m:+.9f}  ours {o:+.9f} (float32)")
    speed = theirs["elapsed"] / ours["elapsed"]
    mem = ours["tree_peak"] / theirs["tree_peak"]

    def verdict(ok: bool) -> str:
        return "met" if ok else "NOT met"

    print("  targets (issue 3):")
    print(f"    {runs} replications in under 5 s: batch call {ours['elapsed']:.2f} s, whole process "
          f"{ours['process']:.2f} s -> {verdict(ours['elapsed'] < 5 * runs / 1000)} / "
          f"{verdict(ours['process'] < 5 * runs / 1000)}"
          + ("" if runs == 1000 else " (5 s scaled to the number of runs)"))
    print(f"    >= 3x mesa throughput: {speed:.2f}x (batch call), "
          f"{theirs['process'] / ours['process']:.2f}x (whole process), "
          f"{theirs['tree_cpu'] / ours['tree_cpu']:.2f}x (CPU seconds) -> {verdict(speed >= 3)}")
    print(f"    <= 1/4 of mesa peak memory: {mem:.3f} (process tree), "
          f"{bound(ours) / bound(theirs):.3f} (ru_maxrss bound)"
          + (f", {ours['tree_pss'] / theirs['tree_pss']:.3f} (PSS)" if pss else "")
          + f" -> {verdict(mem <= 0.25)}")
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
    parser.add_argument("--one", choices=("ours", "mesa"), help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--check", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.one == "ours":
        one_ours(args.runs, args.workers[0], args.out)
        return
    if args.one == "mesa":
        one_mesa(args.runs, args.workers[0], args.check)
        return
    scenario, world = baseline()
    steps = int(round(scenario.horizon / scenario.dt))
    print(f"baseline: {world.n} states x {steps} steps ({steps + 1} years recorded per run), "
          f"seeds from SeedSequence({scenario.seed})")
    print(f"{machine()}; load average {os.getloadavg()[0]:.2f} at the start (other work skews times)")
    if args.scale:
        scale(args.scale, args.workers[-1], args.pss)
        return
    for w in args.workers:
        compare_contenders(args.runs, w, args.pss)


if __name__ == "__main__":
    main()
