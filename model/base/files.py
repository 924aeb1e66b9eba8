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
        kind = ("a folder" if stat.S_ISDIR(st.st_mode) else "a device" if stat.S_ISCHR(st.st_mode)
                or stat.S_ISBLK(st.st_mode) else "a FIFO" if stat.S_ISFIFO(st.st_mode)
                else "a socket" if stat.S_ISSOCK(st.st_mode) else "not a file")
        raise ScenarioError(f"not a regular file ({kind}); give a {what}", file=label)
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
        elif not (str(rel) in names or (rel.parent == Path("plots") and p.suffix == ".png")):
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
                     owned: Callable[[Path], bool] | None = None,
                     replace_only: Callable[[Path], bool] | None = None) -> Path:
    """Build a folder under a temporary name with ``fill(tmp)``, then rename it into place.

    An existing folder of the same name is replaced only after the new one is complete, and only
    if it holds an earlier output (``marker`` names the file that shows it, ``owned`` may accept
    more): anything else there is the user's, and is refused with a ScenarioError before any work
    is done. An OSError (full disk, no permission, a file in the way) becomes a one-line
    ScenarioError naming the path and the cause, and the temporary folder is removed. Temporary
    folders of killed runs into the same parent are removed first (``clean_stale_temporaries``).
    """
    out_dir = Path(out_dir).resolve()
    check_output_dir(out_dir, marker, owned, replace_only)
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
