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
CHECKSUMS = "checksums"  # per chunk, the SHA-256 of each of its parts: written before them



def part_name(chunk_id: int) -> str:
    """File name of a chunk's part in every table."""
    return f"part-{chunk_id:06d}.parquet"



def done_chunks(out_dir: Path) -> set[int]:
    """Chunks whose outcomes file exists (written last, so the chunk is complete)."""
    folder = out_dir / "outcomes"
    if not folder.is_dir():
        return set()
    return {int(p.stem.split("-")[1]) for p in folder.glob("part-*.parquet")
            if p.stem.split("-")[1].isdigit()}



def checksum_path(out_dir: Path, chunk_id: int) -> Path:
    """The chunk's sidecar: ``checksums/part-NNNNNN.json``, the SHA-256 of each of its parts."""
    return Path(out_dir) / CHECKSUMS / f"part-{chunk_id:06d}.json"



def _sha256(path: Path) -> str:
    import hashlib

    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()



def recorded_sha256(out_dir: Path, chunk_id: int) -> dict[str, str] | str | None:
    """The SHA-256 of each part of a chunk as recorded when written, by table.

    None for a chunk written before blocsim recorded them (no sidecar); a str saying why if the
    sidecar is damaged.
    """
    path = checksum_path(out_dir, chunk_id)
    try:
        doc = json.loads(path.read_bytes())
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        return f"unreadable ({exc})"
    if not isinstance(doc, dict) or doc.get("chunk_id") != chunk_id:
        return f"not the checksums of chunk {chunk_id}"
    digests = doc.get("sha256")
    if not isinstance(digests, dict) or not digests or not all(
            t in TABLES and isinstance(d, str) and len(d) == 64 for t, d in digests.items()):
        return "no SHA-256 per table in it"
    return digests



CHANGED = "changed since it was written (its SHA-256 differs from the one recorded then)"



def _hash_problem(out_dir: Path, chunk_id: int,
                  tables: tuple[str, ...] = TABLES) -> tuple[Path, str] | None:
    """The first part of a chunk whose bytes differ from those recorded, and why; or None."""
    recorded = recorded_sha256(out_dir, chunk_id)
    if recorded is None:
        return None
    if isinstance(recorded, str):
        return checksum_path(out_dir, chunk_id), recorded
    for table, digest in recorded.items():
        if table not in tables:
            continue
        path = out_dir / table / part_name(chunk_id)
        try:
            found = _sha256(path)
        except FileNotFoundError:
            return path, "missing"
        except OSError as exc:
            raise os_error(exc, path, "read") from None
        if found != digest:
            return path, CHANGED
    return None



def verify_parts(out_dir: Path, tables: tuple[str, ...] = TABLES) -> None:
    """Every part of ``tables`` must have the bytes recorded when it was written.

    Parts of chunks written before blocsim recorded checksums are not checked here (their
    footers still are, when read). Raises a one-line ScenarioError naming the first bad part.
    """
    out_dir = Path(out_dir)
    for chunk_id in sorted(done_chunks(out_dir)):  # a chunk not done is not read as results
        bad = _hash_problem(out_dir, chunk_id, tables)
        if bad is not None:
            what = "damaged checksum file" if bad[0].parent.name == CHECKSUMS else "damaged part"
            raise ScenarioError(f"{what} {bad[0]}: {bad[1]}; run the same 'blocsim batch' "
                                f"command again to compute its chunk again")



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
    First, a chunk written with checksums (``checksums/part-NNNNNN.json``) must have the very
    bytes recorded then: a part changed in its middle keeps a sound footer. Then only the Parquet
    footers are read, and the outcomes part's run_id and status columns.
    """
    import pyarrow.parquet as pq

    bad = _hash_problem(out_dir, chunk.chunk_id)
    if bad is not None:
        return bad
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
        checksum_path(out_dir, chunk.chunk_id).unlink(missing_ok=True)
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
    for folder in (out_dir, out_dir / CHECKSUMS, *(out_dir / t for t in TABLES)):
        for p in folder.glob(".*.tmp"):  # parts, the manifest, CSV exports, a report folder
            if p.is_dir() and not p.is_symlink():
                shutil.rmtree(p, ignore_errors=True)
            else:
                p.unlink(missing_ok=True)



def write_chunk(out_dir: Path, chunk_id: int, tables: dict[str, bytes]) -> None:
    """Write a chunk's tables atomically, outcomes last; first the SHA-256 of each."""
    import hashlib

    digests = {t: hashlib.sha256(tables[t]).hexdigest() for t in TABLES if t in tables}
    write_file_atomic(checksum_path(out_dir, chunk_id),
                      json.dumps({"chunk_id": chunk_id, "sha256": digests}, indent=1) + "\n")
    for table in TABLES:
        if table in tables:
            write_file_atomic(out_dir / table / part_name(chunk_id), tables[table])



def _whole(low: int):
    def check(v) -> bool:
        return isinstance(v, int) and not isinstance(v, bool) and v >= low
    return check, f"a whole number of at least {low}"


def _text(v) -> bool:
    return isinstance(v, str)


def _texts(v) -> bool:
    return isinstance(v, list) and all(isinstance(x, str) for x in v)


# What each field of a manifest must be, when present: (test, what it should be).
MANIFEST_FIELDS: dict[str, tuple[Callable[[object], bool], str]] = {
    "experiment": (_text, "text"),
    "description": (_text, "text"),
    "design_sha256": (lambda v: isinstance(v, str) and len(v) == 64
                      and all(c in "0123456789abcdef" for c in v), "64 hexadecimal digits"),
    "version": (_text, "text"),
    "root_seed": _whole(0),
    "replications": _whole(1),
    "runs": _whole(1),
    "points": _whole(1),
    "chunks": _whole(1),
    "chunk_size": _whole(1),
    "chunks_done": _whole(0),
    "runs_failed": _whole(0),
    "started_at": (_text, "text"),
    "finished_at": (lambda v: v is None or isinstance(v, str), "text or null"),
    "reference": (lambda v: v is None or isinstance(v, str), "text or null"),
    "primary": (_text, "text"),
    "design": (_text, "text"),
    "outcomes": (_texts, "a list of names"),
    "swept_parameters": (_texts, "a list of names"),
    "scenarios": (_texts, "a list of names"),
    "strategies": (_texts, "a list of names"),
    "sweep_ranges": (lambda v: isinstance(v, dict), "a mapping"),
    "keep_trajectories": (lambda v: isinstance(v, bool), "true or false"),
}



def read_manifest(path: Path, require: tuple[str, ...] = ()) -> dict:
    """A batch's ``manifest.json``: a JSON object whose fields have their types and possible values.

    Fields in ``require`` must be present. Anything else is a one-line ScenarioError naming the
    field and what it should be.
    """
    try:
        doc = json.loads(Path(path).read_bytes())
    except OSError as exc:
        raise os_error(exc, path, "read") from None
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as exc:
        raise ScenarioError(f"cannot read {path}: {exc}") from None
    if not isinstance(doc, dict):
        raise ScenarioError(f"{path} holds a JSON {type(doc).__name__}, not the batch's manifest "
                            f"(an object with 'design_sha256', 'experiment'...): is it damaged?")
    damaged = f"is {path} damaged? (a batch writes it; run the same 'blocsim batch' command " \
              f"into a new --out to make a sound one)"
    for name in require:
        if name not in doc:
            raise ScenarioError(f"{path}: no field '{name}': {damaged}")
    for name, (ok, what) in MANIFEST_FIELDS.items():
        if name in doc and not ok(doc[name]):
            shown = json.dumps(doc[name])
            shown = shown if len(shown) <= 40 else shown[:37] + "..."
            raise ScenarioError(f"{path}: field '{name}' must be {what}, not {shown}: {damaged}")
    for part, whole in (("chunks_done", "chunks"), ("runs_failed", "runs")):
        if part in doc and whole in doc and doc[part] > doc[whole]:
            raise ScenarioError(f"{path}: field '{part}' ({doc[part]}) is more than '{whole}' "
                                f"({doc[whole]}): {damaged}")
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
    """Failed runs recorded in the outcomes tables (read one part at a time: memory stays flat).

    Each part is read with ``ParquetFile`` and counted in Python: ``read_table`` would load
    ``pyarrow.dataset`` and ``pyarrow.compute`` a scalar, and both import pandas (0.3 s, 40 MiB)
    in a batch that has no other use for it. A part that cannot be read is reported as
    ``read_part`` reports it.
    """
    import pyarrow.parquet as pq

    failed = 0
    for part in sorted((out_dir / "outcomes").glob("part-*.parquet")):
        try:
            with pq.ParquetFile(part) as f:
                status = f.read(columns=["status"])["status"]
        except Exception:  # name it as every reader does
            status = read_part(part, ["status"])["status"]
        failed += status.to_pylist().count("failed")
    return failed



def export_csv(out_dir: Path) -> list[Path]:
    """Each table as one CSV beside the Parquet parts (on request: it reads them whole)."""
    import pyarrow.dataset as ds

    from .tables import FLOAT_FORMAT

    verify_parts(out_dir)
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
