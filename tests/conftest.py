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
def seed_engine(tmp_path_factory):
    """An engine over the seeds with the real encoder, indexed once for the tests that only ask questions."""
    from bot.engine import Engine
    from bot.settings import Settings

    engine = Engine(Settings(seeds_dir=SEEDS, index_dir=tmp_path_factory.mktemp("seed-engine") / "index"))
    engine.ensure_index()
    return engine


@pytest.fixture(scope="session")
def datasets_dir() -> Path:
    if not (DATASETS / "cmrc2018_dev.json").exists():
        pytest.skip(f"public datasets not found at {DATASETS}")
    return DATASETS


@pytest.fixture(scope="session")
def emulator(tmp_path_factory):
    """The emulated Telegram Bot API server (one for the session; each bot has its own token)."""
    from tests.botapi import Emulator, node_missing_reason

    if node_missing_reason():
        pytest.skip(node_missing_reason())
    emu = Emulator(tmp_path_factory.mktemp("emulator"))
    yield emu
    emu.stop()


# --- figures for docs/reliability.md ----------------------------------------------------------
# Reliability tests record what they tried and what the bot did; `benchmarks/reliability.py`
# runs them with QUOTEBOT_RELIABILITY_OUT set and turns the records into the table.

_RELIABILITY: list[dict] = []


@pytest.fixture
def reliability():
    def record(fault: str, cases: int, outcome: str, **figures) -> None:
        _RELIABILITY.append({"fault": fault, "cases": cases, "outcome": outcome, **figures})

    return record


def pytest_sessionfinish(session, exitstatus):
    import json
    import os

    out = os.environ.get("QUOTEBOT_RELIABILITY_OUT")
    if out and _RELIABILITY:
        Path(out).write_text(json.dumps(_RELIABILITY, ensure_ascii=False, indent=1), encoding="utf-8")
