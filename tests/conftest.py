"""Shared fixtures: the real seeds, a scratch copy of them, the public datasets."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
DATASETS = ROOT.parent / "shared" / "datasets"


@pytest.fixture(scope="session")
def seeds_dir() -> Path:
    return SEEDS


@pytest.fixture
def seeds_copy(tmp_path: Path) -> Path:
    dest = tmp_path / "seeds"
    shutil.copytree(SEEDS, dest)
    return dest


@pytest.fixture(scope="session")
def datasets_dir() -> Path:
    if not (DATASETS / "cmrc2018_dev.json").exists():
        pytest.skip(f"public datasets not found at {DATASETS}")
    return DATASETS
