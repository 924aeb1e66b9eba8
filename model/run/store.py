"""A batch folder on disk: part names, done and damaged chunks, the lock, the manifest, CSV export.

Imports base, data, core, config and run only (pyarrow lazily).
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

from ..base.errors import ScenarioError
from ..base.files import os_error, write_file_atomic
from .design import Chunk, Design

TABLES = ("trajectories", "blocs", "states", "outcomes")  # written in this order; outcomes = done



def part_name(chunk_id: int) -> str:
    """File name of a chunk's part in every table."""
    return f"part-{chunk_id:06d}.parquet"



def done_chunks(out_dir: Path) -> set[int]:
    """Chunks whose outcomes file exists (written last, so the chunk is complete)."""
    folder = out_dir / "outcomes"
    if not folder.is_dir():
        return set()
    return {int(p.stem.split("-")[1]) for p in folder.glob("part-*.parquet")}



def _cell_sizes(design: Design) -> list[tuple[int, int]]:
    """Per cell, (times recorded, states) of each run: what fixes the rows of its parts."""
    from ..config.checks import prepare_world
    from ..config.scenario import Scenario

    states: dict[tuple, int] = {}
    sizes = []
    for cell in design.cells:
        scenario = Scenario.model_validate(cell.resolved)
        key = (json.dumps(cell.resolved.get("world"), sort_keys=True, default=str), scenario.start_year)
        if key not in states:
            states[key] = len(prepare_world(scenario).iso3)
        sizes.append((int(round(scenario.horizon / scenario.dt)) + 1, states[key]))
    return sizes



def damaged_part(out_dir: Path, chunk: Chunk, times: int, states: int,
                 keep_trajectories: bool) -> tuple[Path, str] | None:
    """The first part of a done chunk that is unreadable or has the wrong rows, and why; or None.

    Expected rows: outcomes, one per run of the chunk (its run ids, in order); states, one per ok
    run and state; blocs, one per ok run and recorded time; trajectories (if kept), one per ok
    run, time and state. A chunk whose runs all failed has no states, blocs or trajectories part.
    Only the Parquet footers are read, and the outcomes part's run_id and status columns.
    """
    import pyarrow.parquet as pq

    name = part_name(chunk.chunk_id)
    path = out_dir / "outcomes" / name
    try:
        o = pq.read_table(path, columns=["run_id", "status"])
    except Exception as exc:  # pyarrow raises several types for a damaged file
        return path, _reason(exc)
    if o["run_id"].to_pylist() != list(chunk.run_ids):
        return path, f"holds runs other than those of chunk {chunk.chunk_id}"
    ok = sum(1 for v in o["status"].to_pylist() if v == "ok")
    expected = {"states": ok * states, "blocs": ok * times}
    if keep_trajectories:
        expected["trajectories"] = ok * times * states
    for table, rows in expected.items():
        path = out_dir / table / name
        if not path.exists():
            if rows:
                return path, "missing"
            continue
        try:
            found = pq.read_metadata(path).num_rows
        except Exception as exc:
            return path, _reason(exc)
        if found != rows:
            return path, f"{found} rows, expected {rows}"
    return None



def _reason(exc: Exception) -> str:
    """Why pyarrow could not read a part, without the path it repeats."""
    import re

    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    text = re.sub(r"^Could not open Parquet input source '.*?': ", "", text)
    return f"unreadable ({text.rstrip('.')})"



def check_done_chunks(out_dir: Path, design: Design, done: set[int],
                      note: Callable[[str], None] | None = None) -> set[int]:
    """The done chunks whose parts are all sound.

    A damaged chunk's parts are removed (outcomes first, so it is never half-done) and it is
    computed again; ``note`` says which part and why.
    """
    if not done:
        return done
    sizes = _cell_sizes(design)
    sound = set()
    for chunk in design.chunks:
        if chunk.chunk_id not in done:
            continue
        times, states = sizes[chunk.cell]
        bad = damaged_part(out_dir, chunk, times, states, design.spec.keep_trajectories)
        if bad is None:
            sound.add(chunk.chunk_id)
            continue
        if note:
            note(f"{bad[0]}: {bad[1]}: chunk {chunk.chunk_id} will be computed again")
        for table in TABLES[::-1]:  # outcomes first: the chunk is no longer done
            (out_dir / table / part_name(chunk.chunk_id)).unlink(missing_ok=True)
    return sound



LOCK_FILE = ".blocsim.lock"
_held: dict[Path, int] = {}  # lock files this process holds, with how many times taken



@contextlib.contextmanager
def batch_lock(out_dir: Path) -> Iterator[None]:
    """Hold an exclusive lock on a batch folder; a second process is refused with a ScenarioError.

    ``fcntl.flock`` on ``<out_dir>/.blocsim.lock``: the kernel releases it when its holder exits
    in any way (even ``kill -9``), so a lock is never stale after a crash; a leftover file is
    simply locked again. The file is removed when the lock is released (after checking, when
    taking it, that the locked file is still the one at that path). Re-entrant in one process.
    """
    path = (Path(out_dir) / LOCK_FILE).resolve()
    if path in _held:
        _held[path] += 1
        try:
            yield
        finally:
            _held[path] -= 1
        return
    while True:
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise os_error(exc, path, "lock") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            try:
                owner = os.read(fd, 64).decode("ascii", "replace").strip()
            finally:
                os.close(fd)
            if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise ScenarioError(
                    f"{out_dir} is in use by another blocsim process"
                    + (f" (pid {owner})" if owner.isdigit() else "")
                    + ": wait for it to finish, or choose another --out") from None
            raise os_error(exc, path, "lock") from None
        try:
            same = os.fstat(fd).st_ino == os.stat(path).st_ino
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)  # removed by its holder as we opened it: take the new one
    try:
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
    except OSError:
        pass  # the pid is only for the message
    _held[path] = 1
    try:
        yield
    finally:
        del _held[path]
        with contextlib.suppress(OSError):
            path.unlink()
        os.close(fd)



def clean_temporaries(out_dir: Path) -> None:
    """Remove temporaries of killed writers: only the lock holder calls this, so none is live."""
    for folder in (out_dir, *(out_dir / t for t in TABLES)):
        for p in folder.glob(".*.tmp"):  # parts, the manifest, CSV exports, a report folder
            if p.is_dir() and not p.is_symlink():
                shutil.rmtree(p, ignore_errors=True)
            else:
                p.unlink(missing_ok=True)



def write_chunk(out_dir: Path, chunk_id: int, tables: dict[str, bytes]) -> None:
    """Write a chunk's tables atomically, outcomes last."""
    for table in TABLES:
        if table in tables:
            write_file_atomic(out_dir / table / part_name(chunk_id), tables[table])



def read_manifest(path: Path) -> dict:
    """A batch's ``manifest.json``: a JSON object, or a one-line ScenarioError saying what is wrong."""
    try:
        doc = json.loads(Path(path).read_bytes())
    except OSError as exc:
        raise os_error(exc, path, "read") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ScenarioError(f"cannot read {path}: {exc}") from None
    if not isinstance(doc, dict):
        raise ScenarioError(f"{path} holds a JSON {type(doc).__name__}, not the batch's manifest "
                            f"(an object with 'design_sha256', 'experiment'...): is it damaged?")
    return doc



def read_part(path: Path, columns: list[str] | None = None):
    """One Parquet part as an Arrow table; a damaged one is a one-line ScenarioError naming it."""
    import pyarrow.parquet as pq

    try:
        return pq.read_table(path, columns=columns)
    except OSError as exc:
        if exc.errno is not None:  # the disk or the file system, not the file's contents
            raise os_error(exc, path, "read") from None
        raise ScenarioError(f"damaged part {path}: {_reason(exc)}; run the same 'blocsim batch' "
                            f"command again to compute its chunk again") from None
    except Exception as exc:  # pyarrow raises several types for a damaged file
        raise ScenarioError(f"damaged part {path}: {_reason(exc)}; run the same 'blocsim batch' "
                            f"command again to compute its chunk again") from None



def count_failures(out_dir: Path) -> int:
    """Failed runs recorded in the outcomes tables (read one part at a time: memory stays flat)."""
    import pyarrow.compute as pc

    failed = 0
    for part in sorted((out_dir / "outcomes").glob("part-*.parquet")):
        status = read_part(part, ["status"])["status"]
        failed += int(pc.sum(pc.equal(status, "failed")).as_py() or 0)
    return failed



def export_csv(out_dir: Path) -> list[Path]:
    """Each table as one CSV beside the Parquet parts (on request: it reads them whole)."""
    import pyarrow.dataset as ds

    from .tables import FLOAT_FORMAT

    written = []
    for table in TABLES:
        folder = out_dir / table
        if not folder.is_dir() or not any(folder.glob("part-*.parquet")):
            continue
        try:
            data = ds.dataset(folder, format="parquet").to_table()
        except Exception:  # name the damaged part: read them one by one
            for part in sorted(folder.glob("part-*.parquet")):
                read_part(part)
            raise
        df = data.to_pandas().sort_values(["run_id"], kind="stable")
        path = out_dir / f"{table}.csv"
        write_file_atomic(path, df.to_csv(index=False, float_format=FLOAT_FORMAT,
                                          lineterminator="\n"))
        written.append(path)
    return written
