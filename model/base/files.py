"""Bounded reading and safe writing of files: the only place blocsim touches the disk raw.

``read_bounded`` reads a regular file of limited size (every user input goes through it);
``write_file_atomic`` and ``write_atomic_dir`` write a file or a whole output folder under a
temporary name and rename it into place, so a failure never leaves half an output behind.
Imports the standard library and ``base.errors`` only.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import socket
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path

from .errors import ScenarioError


def _human_size(n: int) -> str:
    return f"{n / (1 << 20):g} MiB" if n >= 1 << 20 else f"{n / 1024:g} KiB"



def _not_regular(mode: int, what: str) -> str:
    kind = ("a folder" if stat.S_ISDIR(mode) else "a device" if stat.S_ISCHR(mode)
            or stat.S_ISBLK(mode) else "a FIFO" if stat.S_ISFIFO(mode)
            else "a socket" if stat.S_ISSOCK(mode) else "not a file")
    return f"not a regular file ({kind}); give a {what}"


def file_problem(path: Path, what: str = "file") -> str | None:
    """Why ``path`` cannot be read as a ``what`` (``read_bounded``'s words), or None if it can.

    For a spec naming other files: checked up front so the error can name the spec's field.
    """
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return f"{what} not found"
    except OSError as exc:
        return f"cannot read {what}: {exc.strerror or exc}"
    return None if stat.S_ISREG(st.st_mode) else _not_regular(st.st_mode, what)


def read_bounded(path: Path, limit: int, *, what: str = "file") -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes, or a one-line ScenarioError."""
    label = str(path)
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise ScenarioError(f"{what} not found", file=label) from None
    except OSError as exc:
        raise ScenarioError(f"cannot read {what}: {exc.strerror or exc}", file=label) from None
    if not stat.S_ISREG(st.st_mode):
        raise ScenarioError(_not_regular(st.st_mode, what), file=label)
    too_big = f"{what} is larger than the {_human_size(limit)} limit"
    if st.st_size > limit:
        raise ScenarioError(f"{too_big} ({_human_size(st.st_size)})", file=label)
    try:
        with open(path, "rb") as f:
            data = f.read(limit + 1)
    except OSError as exc:
        raise ScenarioError(f"cannot read {what}: {exc.strerror or exc}", file=label) from None
    if len(data) > limit:  # it grew between stat and read
        raise ScenarioError(too_big, file=label)
    return data


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



RUN_FILES = frozenset({"trajectories.csv", "blocs.csv", "status_changes.csv", "scenario.resolved.yaml"})


def only_files(folder: Path, names: frozenset[str] | set[str]) -> bool:
    """True if ``folder`` holds nothing but files named in ``names`` and ``plots/*.png``."""
    for p in Path(folder).rglob("*"):
        rel = p.relative_to(folder)
        if p.is_symlink():
            return False
        if p.is_dir():
            if rel != Path("plots"):
                return False
        elif not (str(rel) in names or str(rel) == TMP_MARKER  # see recover_interrupted
                  or (rel.parent == Path("plots") and p.suffix == ".png")):
            return False
    return True


def only_run_files(folder: Path) -> bool:
    """True if ``folder`` holds nothing but what ``run`` writes (its tables, plots/*.png)."""
    return only_files(folder, RUN_FILES)


def check_output_dir(out_dir: Path, marker: str, owned: Callable[[Path], bool] | None = None,
                     replace_only: Callable[[Path], bool] | None = None) -> None:
    """``out_dir`` must be new, empty, or an earlier output (it holds ``marker``).

    ``replace_only(out_dir)``, if given, must also hold for a folder with ``marker`` (it is then
    replaced whole): a user's file put in an earlier output is never deleted.

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
    if replace_only and (out_dir / marker).is_file() and not replace_only(out_dir):
        raise ScenarioError(f"--out {out_dir} holds files blocsim did not write (it would replace "
                            f"the folder whole); nothing was written: move them or choose another "
                            f"folder")



def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        return True
    return True



def _stale_owner(owner: dict, host: str) -> bool:
    """True if the marker's process ran on this host and no longer runs."""
    try:
        pid, their_host = int(owner["pid"]), owner["host"]
    except (ValueError, KeyError, TypeError):
        return False
    return their_host == host and pid != os.getpid() and not _pid_alive(pid)



def _read_marker(path: Path) -> dict | None:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return doc if isinstance(doc, dict) else None



def _old_name(name: str) -> str:
    """Where ``write_atomic_dir`` parks the folder it replaces: ``.NAME.old-PID@HOST``."""
    return f".{name}.old-{os.getpid()}@{socket.gethostname()}"



def recover_interrupted(parent: Path, name: str) -> list[Path]:
    """Undo what a ``write_atomic_dir`` killed during its swap left in ``parent``; returns it.

    The swap is: the new folder ``.NAME.XXXX.tmp`` is complete (its marker still in it), the old
    ``NAME`` is renamed to ``.NAME.old-PID@HOST``, the new one to ``NAME``, its marker removed,
    the old one deleted. For a writer on this host that no longer runs:

    * ``NAME`` missing and ``.NAME.old-*`` there (killed between the two renames): the old output
      is put back as ``NAME``; the new one, never seen by the user, is removed with the other
      temporaries. The user's last good output is never lost, and nothing half-made is shown.
    * ``NAME`` present and ``.NAME.old-*`` there (killed while deleting it): it is deleted.
    * ``NAME`` holds the writer's marker (killed just after the rename): the marker is removed,
      the folder being complete (the rename comes only after it is filled).

    Then ``clean_stale_temporaries``. A writer that still runs, or ran on another host, is left
    alone.
    """
    parent = Path(parent)
    host = socket.gethostname()
    done = []
    target = parent / name
    for old in sorted(parent.glob(f".{glob_escape(name)}.old-*")):
        pid, _, their_host = old.name[len(name) + 6:].partition("@")
        if not pid.isdigit() or not old.is_dir() or old.is_symlink() or not _stale_owner(
                {"pid": pid, "host": their_host or host}, host):
            continue
        if not target.exists() and not target.is_symlink():
            os.replace(old, target)
        else:
            shutil.rmtree(old, ignore_errors=True)
        done.append(old)
    marker = target / TMP_MARKER
    if target.is_dir() and not target.is_symlink() and marker.is_file():
        owner = _read_marker(marker)
        if owner is not None and _stale_owner(owner, host):
            marker.unlink(missing_ok=True)
            done.append(marker)
    return done + clean_stale_temporaries(parent, name)



def glob_escape(name: str) -> str:
    """``name`` with glob's special characters escaped."""
    import glob

    return glob.escape(name)



def clean_stale_temporaries(parent: Path, name: str) -> list[Path]:
    """Remove ``.<name>.*.tmp`` folders in ``parent`` left by killed runs; returns them.

    A folder is removed only if it is clearly ours and stale: it holds our marker file
    (``.blocsim-partial``, written first when the folder is made and kept until it is renamed into
    place) naming a process on this host that no longer runs. Anything else (no marker, another
    host, a live process) is left alone.
    """
    removed = []
    host = socket.gethostname()
    for tmp in Path(parent).glob(f".{glob_escape(name)}.*.tmp"):
        owner = _read_marker(tmp / TMP_MARKER)
        if owner is not None and _stale_owner(owner, host):
            shutil.rmtree(tmp, ignore_errors=True)
            removed.append(tmp)
    return removed



def write_atomic_dir(out_dir: Path, fill: Callable[[Path], None], marker: str,
                     owned: Callable[[Path], bool] | None = None,
                     replace_only: Callable[[Path], bool] | None = None) -> Path:
    """Build a folder under a temporary name with ``fill(tmp)``, then rename it into place.

    An existing folder of the same name is replaced only after the new one is complete, and only
    if it holds an earlier output (``marker`` names the file that shows it, ``owned`` may accept
    more, ``replace_only`` must accept it): anything else there is the user's, and is refused with
    a ScenarioError before any work is done. An OSError (full disk, no permission, a file in the
    way) becomes a one-line ScenarioError naming the path and the cause, and the temporary folder
    is removed. What a killed earlier write into the same parent left is recovered or removed
    first (``recover_interrupted``).
    """
    out_dir = Path(out_dir).resolve()
    if out_dir.parent.is_dir():
        try:
            recover_interrupted(out_dir.parent, out_dir.name)
        except OSError as exc:
            raise os_error(exc, out_dir) from None
    check_output_dir(out_dir, marker, owned, replace_only)
    check_writable(out_dir)
    tmp = None
    try:
        out_dir.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", suffix=".tmp", dir=out_dir.parent))
        (tmp / TMP_MARKER).write_text(json.dumps({"pid": os.getpid(), "host": socket.gethostname()}),
                                      encoding="utf-8")
        os.chmod(tmp, 0o755)  # mkdtemp makes it private; results are meant to be shared
        fill(tmp)
        # The marker stays until the folder is in place: a kill before that leaves a temporary
        # the next write recognises as stale (``recover_interrupted``).
        if out_dir.exists():
            old = out_dir.with_name(_old_name(out_dir.name))
            os.replace(out_dir, old)
            try:
                os.replace(tmp, out_dir)
            except BaseException:
                os.replace(old, out_dir)  # the earlier output back where it was
                raise
            tmp = None
            (out_dir / TMP_MARKER).unlink()
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, out_dir)
            tmp = None
            (out_dir / TMP_MARKER).unlink()
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
