"""Test-wide settings: headless plots, the `ci` preset, and shared paths."""

import os
from pathlib import Path

import pytest

os.environ.setdefault("MPLBACKEND", "agg")
os.environ["METARL_PRESET"] = "ci"

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def repo() -> Path:
    return REPO
