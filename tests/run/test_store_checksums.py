"""The SHA-256 of every part, recorded when written (``checksums/``), catches damage that leaves a
part's footer sound: resume computes the chunk again, compare and --csv name the part."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import yaml

from model.apps.cli import main
from model.base.errors import ScenarioError
from model.run.store import CHECKSUMS, TABLES, export_csv

ROOT = Path(__file__).resolve().parents[2]
SCEN = ROOT / "scenarios"
EXP = {"name": "sums", "scenarios": [str(SCEN / "baseline.yaml")],
       "strategies": [str(SCEN / "strategies" / "none.yaml"),
                      str(SCEN / "strategies" / "trade_agreements.yaml")],
       "reference": "none", "replications": 4, "seed": 3, "horizon": 3, "chunk_size": 2}
CHUNKS = 4


def parts(out: Path) -> dict[str, bytes]:
    files = {str(p.relative_to(out)): p.read_bytes()
             for t in (*TABLES, CHECKSUMS) for p in sorted((out / t).glob("part-*"))}
    files["experiment.resolved.yaml"] = (out / "experiment.resolved.yaml").read_bytes()
    return files


@pytest.fixture(scope="module")
def ref(tmp_path_factory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("sums")
    exp = folder / "exp.yaml"
    exp.write_text(yaml.safe_dump(EXP), encoding="utf-8")
    assert main(["batch", str(exp), "--out", str(folder / "out"), "--workers", "1", "--quiet"]) == 0
    return exp, folder / "out"


def hurt_middle(path: Path) -> None:
    """200 bytes overwritten in the middle: the footer, and so the row counts, stay sound."""
    data = bytearray(path.read_bytes())
    footer = len(data) - 8 - int.from_bytes(data[-8:-4], "little")  # where the footer starts
    start = max(4, (4 + footer) // 2 - 100)
    end = min(start + 200, footer)
    data[start:end] = bytes(255 - b for b in data[start:end])
    path.write_bytes(bytes(data))
    pq.read_metadata(path)  # the footer is still sound: row counts cannot tell


def one_line(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("blocsim: error: "), err
    return err


def test_every_part_has_its_checksum(ref):
    _, out = ref
    sums = sorted((out / CHECKSUMS).glob("part-*.json"))
    assert len(sums) == CHUNKS
    doc = json.loads(sums[3].read_text())
    assert doc["chunk_id"] == 3 and sorted(doc["sha256"]) == sorted(TABLES)


def test_resume_recomputes_a_part_damaged_in_its_middle(ref, tmp_path, capsys):
    exp, good = ref
    out = Path(shutil.copytree(good, tmp_path / "out"))
    part = out / "blocs" / "part-000003.parquet"
    hurt_middle(part)
    assert main(["batch", str(exp), "--out", str(out), "--workers", "1", "--quiet"]) == 0
    err = capsys.readouterr().err
    assert f"{part}: changed since it was written" in err and "chunk 3 will be computed again" in err
    assert parts(out) == parts(good)


@pytest.mark.parametrize("table", ["blocs", "outcomes", "states"])
def test_compare_names_a_part_damaged_in_its_middle(table, ref, tmp_path, capsys):
    _, good = ref
    out = Path(shutil.copytree(good, tmp_path / "out"))
    part = out / table / "part-000003.parquet"
    hurt_middle(part)
    assert main(["compare", str(out), "--quiet"]) == 2
    assert f"damaged part {part}: changed since it was written" in one_line(capsys)
    assert not (out / "report").exists()


def test_csv_export_names_a_part_damaged_in_its_middle(ref, tmp_path):
    _, good = ref
    out = Path(shutil.copytree(good, tmp_path / "out"))
    part = out / "trajectories" / "part-000001.parquet"
    hurt_middle(part)
    with pytest.raises(ScenarioError, match=f"damaged part {part}: changed since it was written"):
        export_csv(out)
    assert not (out / "outcomes.csv").exists()


def test_a_damaged_checksum_file_recomputes_the_chunk(ref, tmp_path, capsys):
    exp, good = ref
    out = Path(shutil.copytree(good, tmp_path / "out"))
    (out / CHECKSUMS / "part-000002.json").write_text("{")
    assert main(["compare", str(out), "--quiet"]) == 2
    assert "damaged checksum file" in one_line(capsys)
    assert main(["batch", str(exp), "--out", str(out), "--workers", "1", "--quiet"]) == 0
    assert "chunk 2 will be computed again" in capsys.readouterr().err
    assert parts(out) == parts(good)


def test_a_batch_written_before_checksums_keeps_the_footer_checks(ref, tmp_path, capsys):
    exp, good = ref
    out = Path(shutil.copytree(good, tmp_path / "out"))
    shutil.rmtree(out / CHECKSUMS)
    assert main(["compare", str(out), "--quiet"]) == 0  # nothing recorded, nothing to verify
    capsys.readouterr()
    (out / "states" / "part-000001.parquet").write_bytes(b"PAR1 not really PAR1")
    assert main(["batch", str(exp), "--out", str(out), "--workers", "1", "--quiet"]) == 0
    assert "chunk 1 will be computed again" in capsys.readouterr().err
    assert (out / CHECKSUMS / "part-000001.json").is_file()  # the recomputed chunk has its sums
