"""Tidy tables from recorded runs, and writing a run's output folder atomically.

``trajectories.csv`` has one row per run, year and state; ``blocs.csv`` one row per run and
year; ``status_changes.csv`` one row per change of SCO status. The folder is built under a
temporary name and renamed into place, so a failure never leaves half an output behind.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import socket
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from . import __version__
from .dynamics import CHANNELS, SCO_STATUSES
from .errors import ScenarioError
from .seeds import SEED_RULE
from .simulation import DRIVERS, RunResult

CAMPS = ("sco", "nonaligned", "west")
CONTRIB_COLUMNS = tuple(f"c_{d}" for d in DRIVERS)
FLOAT_FORMAT = "%.6g"


def camp_of(alignment: np.ndarray, threshold: float) -> np.ndarray:
    """Camp codes: 0 SCO (a > t), 1 non-aligned, 2 West (a < -t)."""
    return np.where(alignment > threshold, 0, np.where(alignment < -threshold, 2, 1))


def trajectories_frame(results: Sequence[RunResult], names: dict[str, str] | None = None,
                       threshold: float = 0.25) -> pd.DataFrame:
    """One row per run, year and state: alignment, camp, structure, status, contributions."""
    frames = []
    for run, r in enumerate(results):
        T, n = r.alignment.shape
        cols: dict[str, np.ndarray] = {
            "run": np.full(T * n, run, dtype=np.int32),
            "year": np.repeat(_years(r.times), n),
            "iso3": np.tile(r.iso3, T),
            "alignment": r.alignment.ravel(),
            "camp": np.asarray(CAMPS)[camp_of(r.alignment, threshold)].ravel(),
        }
        for c, name in enumerate(CHANNELS):  # e_sco, e_west, s_sco, s_west, governance
            cols[name] = r.structure[:, c, :].ravel()
        cols["sco_status"] = np.asarray(SCO_STATUSES)[r.status].ravel()
        for d, name in enumerate(CONTRIB_COLUMNS):
            cols[name] = r.contributions[:, d, :].ravel()
        frames.append(pd.DataFrame(cols))
    df = pd.concat(frames, ignore_index=True)
    if names:
        df.insert(3, "name", df["iso3"].map(names))
    return df


def bloc_series(alignment: np.ndarray, status: np.ndarray, gdp_usd: np.ndarray,
                population: np.ndarray, threshold: float,
                swing: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """The bloc metrics over time, in one place for blocs.csv, batch tables and outcomes.

    Args:
        alignment, status: (T, n) records of a run.
        gdp_usd, population: (n,) sizes.
        threshold: |alignment| above which a state leans to a camp.
        swing: (n,) mask of the swing group, for ``swing_mean_alignment`` (left out if None).

    Returns:
        Per metric, a (T,) array: states, shares of world GDP and of population in each camp,
        SCO members and states with any status, mean and GDP-weighted mean alignment.
    """
    camps = camp_of(alignment, threshold)
    gdp = gdp_usd / gdp_usd.sum()
    pop = population / population.sum()
    out: dict[str, np.ndarray] = {}
    for c, camp in enumerate(CAMPS):
        m = camps == c
        out[f"states_{camp}"] = m.sum(axis=1)
        out[f"gdp_share_{camp}"] = m @ gdp
        out[f"pop_share_{camp}"] = m @ pop
    out["sco_members"] = (status == SCO_STATUSES.index("member")).sum(axis=1)
    out["sco_any_status"] = (status > 0).sum(axis=1)
    out["mean_alignment"] = alignment.mean(axis=1)
    out["gdp_weighted_alignment"] = alignment @ gdp
    if swing is not None:
        out["swing_mean_alignment"] = (alignment[:, swing].mean(axis=1) if swing.any()
                                       else np.full(len(alignment), np.nan))
    return out


def blocs_frame(results: Sequence[RunResult], threshold: float) -> pd.DataFrame:
    """Per run and year: states and shares of world GDP and population in each camp.

    Also the SCO's members and states with any status, and the mean and GDP-weighted mean
    alignment (``bloc_series``).
    """
    frames = []
    for run, r in enumerate(results):
        series = bloc_series(r.alignment, r.status, r.gdp_usd, r.population, threshold)
        frames.append(pd.DataFrame({"run": run, "year": _years(r.times), **series,
                                    "lean_threshold": threshold}))
    return pd.concat(frames, ignore_index=True)


def status_frame(results: Sequence[RunResult]) -> pd.DataFrame:
    """One row per change of SCO status: run, year, state, from, to, and what caused it."""
    rows = [(run, *entry) for run, r in enumerate(results) for entry in r.status_log]
    return pd.DataFrame(rows, columns=["run", "year", "iso3", "from_status", "to_status", "cause"])


def _years(times: np.ndarray) -> np.ndarray:
    """Whole years as integers; quarterly times stay fractional."""
    return times.astype(int) if np.allclose(times, np.round(times)) else np.round(times, 2)


def write_csv(df: pd.DataFrame, path: Path) -> None:
    """CSV with a fixed float format, so identical runs give identical bytes."""
    df.to_csv(path, index=False, float_format=FLOAT_FORMAT, lineterminator="\n")


def resolved_yaml(scenario, seeds: Sequence[int]) -> str:
    """The scenario with every default filled in, the seeds and the version: enough to rerun."""
    doc = scenario.model_dump(mode="json")
    doc["provenance"] = {"package": "blocsim", "version": __version__, "root_seed": scenario.seed,
                         "replication_seeds": [int(s) for s in seeds],
                         "seed_rule": SEED_RULE}
    return yaml.safe_dump(doc, sort_keys=False, allow_unicode=True)


OUT_ROOT = Path("out")
TMP_MARKER = ".blocsim-partial"  # inside a folder being built: who builds it (pid, host)


def default_out_dir(*parts: str, root: Path = OUT_ROOT) -> Path:
    """``root/parts...`` (``out/<name>``), proven to lie strictly inside ``root``.

    A name such as ``..`` or ``a/../..`` would otherwise make the default folder the working
    directory (which a second run would replace as "an earlier output") or ``out/`` itself.
    """
    base = Path(root).resolve()
    path = Path(root).joinpath(*parts)
    where = path.resolve()
    if not where.is_relative_to(base) or where == base or \
            (len(parts) > 1 and where.parent != base.joinpath(*parts[:-1]).resolve()):
        raise ScenarioError(f"the name {'/'.join(parts)!r} would put the output at {where}, not in a "
                            f"folder of its own inside {base}: rename it, or give --out")
    return path


def os_error(exc: OSError, path: Path | str | None = None, doing: str = "write") -> ScenarioError:
    """One line for an OSError: the path, the cause and its errno name (ENOSPC, EACCES...)."""
    where = path if path is not None else (exc.filename or "?")
    code = errno.errorcode.get(exc.errno or 0, "")
    cause = exc.strerror or str(exc) or type(exc).__name__
    return ScenarioError(f"cannot {doing} {where}: {cause}" + (f" ({code})" if code else ""))


def check_writable(out_dir: Path) -> None:
    """The folder ``out_dir`` can be created (or replaced) in its parent: checked before any work.

    Walks up to the nearest existing ancestor: it must be a folder we may write into. Nothing is
    created. Raises a one-line ScenarioError (ENOTDIR, EACCES, EROFS) otherwise.
    """
    out_dir = Path(out_dir).resolve()
    probe = out_dir.parent
    while not probe.exists():
        if probe.is_symlink():  # a dangling link
            break
        probe = probe.parent
    if not probe.is_dir():
        raise ScenarioError(f"cannot write {out_dir}: {probe} is a file, not a folder (ENOTDIR)")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise ScenarioError(f"cannot write {out_dir}: no permission to write in {probe} (EACCES)")
    try:
        read_only = bool(os.statvfs(probe).f_flag & os.ST_RDONLY)
    except (AttributeError, OSError):  # no statvfs here: the write itself will tell
        read_only = False
    if read_only:
        raise ScenarioError(f"cannot write {out_dir}: {probe} is on a read-only file system (EROFS)")


def check_output_dir(out_dir: Path, marker: str, owned: Callable[[Path], bool] | None = None) -> None:
    """``out_dir`` must be new, empty, or an earlier output (it holds ``marker``).

    ``owned(out_dir)``, if given, may also accept a folder recognised as ours by other means
    (a report folder left half-written by an older version, holding only the report's files).
    """
    out_dir = Path(out_dir).resolve()
    if out_dir.exists() and not out_dir.is_dir():
        raise ScenarioError(f"--out {out_dir} is a file, not a folder")
    if out_dir.is_dir() and any(out_dir.iterdir()) and not (out_dir / marker).is_file() \
            and not (owned and owned(out_dir)):
        raise ScenarioError(f"--out {out_dir} is not empty and holds no earlier blocsim output "
                            f"({marker}); nothing was written: choose another folder")


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        return True
    return True


def clean_stale_temporaries(parent: Path, name: str) -> list[Path]:
    """Remove ``.<name>.*.tmp`` folders in ``parent`` left by killed runs; returns them.

    A folder is removed only if it is clearly ours and stale: it holds our marker file
    (``.blocsim-partial``, written first when the folder is made) naming a process on this host
    that no longer runs. Anything else (no marker, another host, a live process) is left alone.
    """
    removed = []
    host = socket.gethostname()
    for tmp in Path(parent).glob(f".{name}.*.tmp"):
        try:
            owner = json.loads((tmp / TMP_MARKER).read_text(encoding="utf-8"))
            pid, their_host = int(owner["pid"]), owner["host"]
        except (OSError, ValueError, KeyError, TypeError):
            continue
        if their_host == host and pid != os.getpid() and not _pid_alive(pid):
            shutil.rmtree(tmp, ignore_errors=True)
            removed.append(tmp)
    return removed


def write_atomic_dir(out_dir: Path, fill: Callable[[Path], None], marker: str,
                     owned: Callable[[Path], bool] | None = None) -> Path:
    """Build a folder under a temporary name with ``fill(tmp)``, then rename it into place.

    An existing folder of the same name is replaced only after the new one is complete, and only
    if it holds an earlier output (``marker`` names the file that shows it, ``owned`` may accept
    more): anything else there is the user's, and is refused with a ScenarioError before any work
    is done. An OSError (full disk, no permission, a file in the way) becomes a one-line
    ScenarioError naming the path and the cause, and the temporary folder is removed. Temporary
    folders of killed runs into the same parent are removed first (``clean_stale_temporaries``).
    """
    out_dir = Path(out_dir).resolve()
    check_output_dir(out_dir, marker, owned)
    check_writable(out_dir)
    tmp = None
    try:
        out_dir.parent.mkdir(parents=True, exist_ok=True)
        clean_stale_temporaries(out_dir.parent, out_dir.name)
        tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", suffix=".tmp", dir=out_dir.parent))
        (tmp / TMP_MARKER).write_text(json.dumps({"pid": os.getpid(), "host": socket.gethostname()}),
                                      encoding="utf-8")
        os.chmod(tmp, 0o755)  # mkdtemp makes it private; results are meant to be shared
        fill(tmp)
        (tmp / TMP_MARKER).unlink()
        if out_dir.exists():
            old = out_dir.with_name(f".{out_dir.name}.old-{os.getpid()}")
            os.replace(out_dir, old)
            os.replace(tmp, out_dir)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, out_dir)
    except BaseException as exc:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
        if isinstance(exc, OSError):
            where = Path(exc.filename) if exc.filename else out_dir
            if tmp is not None and where.is_relative_to(tmp):  # name the file as it would be
                where = out_dir / where.relative_to(tmp)
            raise os_error(exc, where) from None
        raise
    return out_dir


def write_file_atomic(path: Path, text: str | bytes) -> None:
    """Write one file under a temporary name in the same folder, then rename it into place.

    An OSError becomes a one-line ScenarioError naming the file and the cause; the temporary file
    is removed.
    """
    path = Path(path)
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        os.chmod(tmp, 0o644)  # mkstemp makes it private; results are meant to be shared
        with os.fdopen(fd, "wb") as fh:
            fh.write(text.encode("utf-8") if isinstance(text, str) else text)
        os.replace(tmp, path)
    except BaseException as exc:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise os_error(exc, path) from None
        raise
