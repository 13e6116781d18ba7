"""Test-wide settings: headless plots, the `ci` preset, and shared paths."""

import os
from pathlib import Path

import pytest

import metarl_course  # noqa: F401  (before torch: sets torch's thread wait policy)
import torch

os.environ.setdefault("MPLBACKEND", "agg")
os.environ["METARL_PRESET"] = "ci"
torch.set_num_threads(1)  # the tests' networks are tiny; more threads only contend (see session.start_unit)

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def repo() -> Path:
    return REPO
