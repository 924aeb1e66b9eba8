"""Snapshots as files: one ``.npz`` file per ``Snapshot`` (the core's bytes, written and read).

Imports core only.
"""

from __future__ import annotations

from pathlib import Path

from ..core.snapshot import Snapshot


def save_snapshot(snap: Snapshot, path: Path | str) -> Path:
    """Write a snapshot as one ``.npz`` file (``Snapshot.to_bytes``)."""
    path = Path(path)
    path.write_bytes(snap.to_bytes())
    return path


def load_snapshot(path: Path | str) -> Snapshot:
    """Read a snapshot file written by ``save_snapshot``."""
    return Snapshot.from_bytes(Path(path).read_bytes())
