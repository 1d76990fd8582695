"""Warming the page cache: every file, hottest first, within the budget, stoppable; the engine's upkeep."""

from __future__ import annotations

import shutil
import threading

import pytest

from bot.engine import Engine
from bot.settings import ConfigError, Settings
from embeddings.encoders import HashingEncoder
from embeddings.index import Index
from embeddings.warm import HEAT, files_by_heat, warm
from tests.conftest import SEEDS

ENC = HashingEncoder(64)


@pytest.fixture(scope="module")
def two_segments(tmp_path_factory):
    """The seeds indexed in two steps, so the index has two segments."""
    work = tmp_path_factory.mktemp("warm")
    seeds = work / "seeds"
    seeds.mkdir()
    files = sorted(SEEDS.iterdir())
    shutil.copy(files[0], seeds)
    engine = Engine(Settings(seeds_dir=seeds, index_dir=work / "index", encoder=ENC.id, warm_mb=0), encoder=ENC)
    engine.ensure_index()
    for f in files[1:]:
        shutil.copy(f, seeds)
    engine.ensure_index()
    return seeds, work / "index"


def test_files_come_hottest_first_across_segments(two_segments):
    _, index_dir = two_segments
    index = Index.load(index_dir, ENC.id)
    assert len(index.segments) == 2
    paths = files_by_heat(index)
    assert len(paths) == len(set(paths)) and all(p.is_file() for p in paths)
    every = {p for seg in index.segments for p in seg.path.iterdir() if p.suffix in {".npy", ".sqlite"}}
    assert every <= set(paths)  # nothing a question reads is left out
    tier = {name: t for t, names in enumerate(HEAT) for name in names}
    ranks = [tier.get(p.name, -1) for p in paths]
    assert ranks == sorted(ranks)  # every segment's postings before any segment's vectors, and so on
    assert paths[-1].name == "sentence_vectors.npy"


def test_warm_reads_up_to_the_budget_and_stops_when_told(two_segments, tmp_path):
    _, index_dir = two_segments
    paths = files_by_heat(Index.load(index_dir, ENC.id))
    size = sum(p.stat().st_size for p in paths)
    assert warm(paths, budget=10 ** 12) == (len(paths), size)
    first = paths[0].stat().st_size
    assert warm(paths, budget=first + 10) == (1, first + 10)
    stop = threading.Event()
    stop.set()
    assert warm(paths, budget=10 ** 12, stop=stop) == (0, 0)
    gone = tmp_path / "swept.npy"  # a file of an old generation removed meanwhile
    assert warm([gone, *paths[:2]], budget=10 ** 12) == (2, sum(p.stat().st_size for p in paths[:2]))


def test_engine_warms_each_generation_it_loads_when_serving(two_segments, tmp_path):
    seeds, index_dir = two_segments
    copy = tmp_path / "index"
    shutil.copytree(index_dir, copy)
    off = Engine(Settings(seeds_dir=seeds, index_dir=copy, encoder=ENC.id, warm_mb=0), encoder=ENC)
    off.ensure_index()
    off.start_warming()
    assert off._warmer is None
    engine = Engine(Settings(seeds_dir=seeds, index_dir=copy, encoder=ENC.id, warm_mb=1), encoder=ENC)
    engine.ensure_index()
    engine.start_warming()
    def size(index) -> int:
        return sum(p.stat().st_size for p in files_by_heat(index))

    first = engine.loaded.index
    assert engine._warmer.wait(30) and engine._warmer.result["bytes"] == min(1 << 20, size(first))
    assert engine._warmer.result["prepared"] == first.live_count  # a small index: every passage
    (seeds / "extra.txt").write_text("标题\n\n一段新的文字，讲述新的事情。", encoding="utf-8")
    try:
        engine.reindex()
        assert engine.loaded.index is not first and engine._warmer.wait(30)
        assert size(engine.loaded.index) > size(first)  # a segment more: warmed is the new generation
        assert engine._warmer.result["bytes"] == min(1 << 20, size(engine.loaded.index))
    finally:
        (seeds / "extra.txt").unlink()


def test_a_failing_warm_up_is_logged_not_raised(caplog):
    from embeddings.warm import Warmer

    def boom(stop):
        raise OSError("disk gone")

    warmer = Warmer()
    warmer.start(boom)
    assert warmer.wait(10) and warmer.result is None
    assert "warming the index up failed" in caplog.text and "disk gone" in caplog.text


@pytest.mark.parametrize("text", ["-1", "lots", "1.5", "²", "٣"])
def test_a_bad_warm_budget_is_refused_by_name(text):
    with pytest.raises(ConfigError, match="QUOTEBOT_WARM_MB"):
        Settings.from_env({"QUOTEBOT_WARM_MB": text})
    assert Settings.from_env({"QUOTEBOT_WARM_MB": "0"}).warm_mb == 0
