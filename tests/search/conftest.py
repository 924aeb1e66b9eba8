"""Shared helpers for the search tests: spec files in ``tmp_path`` on the shipped scenarios."""

from __future__ import annotations

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
SCEN = ROOT / "scenarios"


def write_spec(folder: Path, name: str = "spec.yaml", **fields) -> Path:
    """A small search spec: classroom scenario, horizon 3, 3 replications, 16 trials."""
    doc = {"name": "t", "scenarios": [str(SCEN / "classroom.yaml")], "budget": 4.0,
           "levers": ["diplomatic_alliances", "cybersecurity_cooperation"],
           "targets": ["central_asia", "TUR"], "outcome": "mean_alignment",
           "replications": 3, "horizon": 3, "trials": 16, "batch": 4, "seed": 5, **fields}
    path = folder / name
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return path
