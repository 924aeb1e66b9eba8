"""Time and peak memory of every hostile or mistaken input, each as a fresh ``blocsim`` process.

Issue 6 asks that each such file gives its one-line error (exit 2) in under two seconds and
under 200 MB. The cases are the table of bad scenarios in ``tests/bad_scenarios/`` plus a few
that are made here because they are large or special (a 200 MiB file, a device, a FIFO, an
``extends`` chain of 1,500 files, nesting 5,000 deep). Each runs through ``run`` (the path that
loads most) from an empty folder; the script prints exit status, wall seconds and peak RSS
(``ru_maxrss`` of the child) and says which cases miss either bound.

    .venv/bin/python benchmarks/bench_hostile.py            # every case once
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BAD = ROOT / "tests" / "bad_scenarios"
LIMIT_S, LIMIT_MB = 2.0, 200.0


def made_cases(tmp: Path) -> dict[str, Path]:
    """The cases too large or too special to keep as files in the repository."""
    cases = {}
    big = tmp / "huge.yaml"
    with big.open("wb") as f:  # sparse: 200 MiB on paper, nothing on disk
        f.truncate(200 << 20)
    cases["200 MiB file"] = big
    laughs = ["a: &a [1,1,1,1,1,1,1,1,1]"] + [
        f"{c}: &{c} [{','.join(['*' + p] * 9)}]" for p, c in zip("abcdefgh", "bcdefghi", strict=True)]
    (tmp / "laughs9.yaml").write_text("\n".join(laughs) + "\n", encoding="utf-8")
    cases["billion laughs, 9 deep"] = tmp / "laughs9.yaml"
    (tmp / "deep.yaml").write_text("name: deep\nkey_states: " + "[" * 5000 + "]" * 5000 + "\n")
    cases["5,000 nested ["] = tmp / "deep.yaml"
    for i in range(1500):
        (tmp / f"c{i}.yaml").write_text(f"extends: c{i + 1}.yaml\n", encoding="utf-8")
    cases["extends chain of 1,500 files"] = tmp / "c0.yaml"
    (tmp / "digits.yaml").write_text("name: d\nseed: " + "9" * 4400 + "\n", encoding="utf-8")
    cases["integer of 4,400 digits"] = tmp / "digits.yaml"
    (tmp / "zero.yaml").write_text("extends: /dev/zero\n", encoding="utf-8")
    cases["extends: /dev/zero"] = tmp / "zero.yaml"
    fifo = tmp / "fifo.yaml"
    os.mkfifo(fifo)
    cases["a FIFO"] = fifo
    cases["a folder"] = tmp
    return cases


def measure(path: Path, cwd: Path) -> tuple[int, float, float, str]:
    """Exit status, wall seconds, peak MB of one ``run`` of ``path``, and its last line.

    ``os.wait4`` gives the resource usage of that one child (``RUSAGE_CHILDREN`` would be the
    largest child so far).
    """
    err = cwd.parent / "stderr.txt"
    with err.open("wb") as stderr:
        t0 = time.perf_counter()
        proc = subprocess.Popen([sys.executable, str(ROOT / "run.py"), "run", str(path), "--no-plots"],
                                cwd=cwd, stdout=subprocess.DEVNULL, stderr=stderr)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    lines = err.read_text(encoding="utf-8", errors="replace").strip().splitlines()
    return proc.returncode, wall, usage.ru_maxrss / 1024, (lines or [""])[-1] if len(lines) <= 1 else \
        f"[{len(lines)} lines] " + lines[-1]


def main() -> None:
    argparse.ArgumentParser(description=__doc__.split("\n\n")[0]).parse_args()  # --help, no options
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        (tmp / "cwd").mkdir()
        made = tmp / "made"
        made.mkdir()
        cases = {p.name: p for p in sorted(BAD.glob("*.yaml")) if p.name != "expected.yaml"}
        cases.update(made_cases(made))
        print(f"{'case':40} {'exit':>4} {'s':>6} {'MB':>6}  message")
        misses = []
        for name, path in cases.items():
            code, wall, mb, line = measure(path, tmp / "cwd")
            print(f"{name[:40]:40} {code:>4} {wall:6.2f} {mb:6.0f}  {line[:90]}")
            if code != 2 or wall > LIMIT_S or mb > LIMIT_MB or line.startswith("["):
                misses.append(name)
        leftovers = [p for p in (tmp / "cwd").rglob("*")]
        print(f"\n{len(cases)} cases; bounds {LIMIT_S} s and {LIMIT_MB:.0f} MB, exit 2, one line; "
              f"files left in the working folder: {len(leftovers)}")
        print("missed: " + (", ".join(misses) if misses else "none"))


if __name__ == "__main__":
    main()
