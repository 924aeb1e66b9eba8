"""The package face (``model/__init__.py``): a curated, lazy public API."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import model

ROOT = Path(__file__).resolve().parents[1]


def test_import_model_loads_neither_mesa_nor_pandas():
    code = ("import sys, model; heavy = [m for m in ('mesa', 'pandas', 'matplotlib') if m in sys.modules];"
            " sys.exit(repr(heavy) if heavy else 0)")
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


def test_every_public_name_resolves():
    for name in model.__all__:
        assert getattr(model, name) is not None, name


def test_unknown_name_is_an_attribute_error():
    try:
        model.no_such_name  # noqa: B018
    except AttributeError as exc:
        assert "no_such_name" in str(exc)
    else:
        raise AssertionError("model.no_such_name did not raise")


def test_python_dash_m_model_is_the_command_line():
    proc = subprocess.run([sys.executable, "-m", "model", "--version"], cwd=ROOT, capture_output=True,
                          text=True)
    assert proc.returncode == 0 and model.__version__ in proc.stdout + proc.stderr
