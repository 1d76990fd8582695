"""Both search backends behind one interface: the same answers, filters, atomic publishing, the reindex lease."""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from bot.engine import Engine
from bot.render import answer_json
from bot.settings import ConfigError, Settings
from embeddings.backend import Filters
from embeddings.encoders import make_encoder
from embeddings.index import Index, IndexBusy, build_index
from embeddings.qdrant import QdrantIndex, connect, current_version, lease, publish
from embeddings.search import Searcher

from tests.conftest import SEEDS

QUESTIONS = ["H200现在能进入中国吗？", "为什么中国海关不让H200入境？", "H20和H200有什么区别？", "英伟达的市值是多少？",
             "Is the H200 allowed in China now?", "中國批准進口輝達晶片了嗎？", "火星上有没有英伟达的工厂？"]


def qdrant_settings(tmp: Path, seeds: Path = SEEDS, **more) -> Settings:
    return Settings(seeds_dir=seeds, index_dir=tmp / "work", backend="qdrant", qdrant_path=tmp / "qdrant", **more)


@pytest.fixture(scope="module")
def both(tmp_path_factory):
    """A local engine and a Qdrant engine (local mode) over the seeds, with the real encoder."""
    tmp = tmp_path_factory.mktemp("backends")
    encoder = make_encoder("use")
    local = Engine(Settings(seeds_dir=SEEDS, index_dir=tmp / "local"), encoder=encoder)
    local.ensure_index()
    remote = Engine(qdrant_settings(tmp), encoder=encoder)
    remote.ensure_index()
    yield local, remote
    remote.close()


def test_answers_are_the_same_from_both_backends(both):
    local, remote = both
    assert isinstance(remote.loaded.index, QdrantIndex)
    for q in QUESTIONS:
        a, b = (json.dumps(answer_json(e.answer(q), SEEDS), ensure_ascii=False) for e in (local, remote))
        assert a == b, q


def test_search_parts_agree(both):
    local, remote = both
    li, ri = local.loaded.index, remote.loaded.index
    assert (ri.rows, ri.live_count, len(ri.vocab)) == (li.rows, li.live_count, len(li.vocab))
    for q in QUESTIONS[:4]:
        tokens = li.tokenizer.query_tokens(q)
        qv = local.encoder.encode([q])[0]
        a, b = li.search(tokens, qv, 20), ri.search(tokens, qv, 20)
        assert a.rows == b.rows
        assert np.allclose(a.bm25, b.bm25, rtol=1e-4, atol=1e-4) and np.allclose(a.dense, b.dense, atol=1e-4)
        assert np.allclose(li.bm25_scores(tokens), ri.bm25_scores(tokens), rtol=1e-4, atol=1e-4)
    row = int(np.flatnonzero(li.live)[7])
    assert ri.passage(row) == li.passage(row) and ri.document(ri.passage(row)) == li.document(li.passage(row))
    assert all(np.array_equal(x, y) for x, y in zip(li.sentences_token_ids(row), ri.sentences_token_ids(row)))
    assert np.allclose(li.sentence_vectors([row])[0], ri.sentence_vectors([row])[0])
    assert sorted(ri.documents) == sorted(li.documents)


@pytest.mark.parametrize("which", [0, 1])
def test_filters_keep_to_an_outlet_and_to_dates(both, which):
    engine = both[which]
    index = engine.loaded.index
    searcher = Searcher(index, engine.encoder)
    outlet = "dw.com"
    hits = searcher.search("英伟达H200芯片", k=5, filters=Filters(outlets=(outlet,)))
    assert hits and all(index.document(h.passage).source == outlet for h in hits)
    hits = searcher.search("英伟达H200芯片", k=8, filters=Filters(since="2026-01-15"))
    assert hits and all((index.document(h.passage).date or "")[:10] >= "2026-01-15" for h in hits)
    # No article is from before 2000: nothing to quote, and the engine says so rather than quoting another day.
    assert not searcher.search("英伟达H200芯片", k=5, filters=Filters(until="2000-01-01"))
    assert engine.answer("H200现在能进入中国吗？", Filters(until="2000-01-01")).abstained


def test_an_unknown_backend_or_a_qdrant_without_address_is_refused():
    with pytest.raises(ConfigError, match="backend"):
        Settings.from_env({"QUOTEBOT_BACKEND": "elastic"})
    with pytest.raises(ConfigError, match="qdrant-url"):
        Settings.from_env({}, backend="qdrant")
    with pytest.raises(ConfigError, match="collection"):
        Settings.from_env({}, backend="qdrant", qdrant_path="/tmp/q", qdrant_collection="a--b")


def _hash_build(tmp: Path, seeds: Path):
    encoder = make_encoder("hash:64")
    build_index(seeds, tmp / "work", encoder)
    return encoder, Index.load(tmp / "work", encoder.id)


def test_a_crash_while_publishing_keeps_the_previous_version(tmp_path, seeds_copy):
    encoder, index = _hash_build(tmp_path, seeds_copy)
    client = connect(path=tmp_path / "qdrant")
    first = publish(index, client, "news")
    (seeds_copy / "000_9e076cb025ef23f4.txt").unlink()
    build_index(seeds_copy, tmp_path / "work", encoder)
    changed = Index.load(tmp_path / "work", encoder.id)

    def crash(name: str) -> None:
        if name == "writing-passages":
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        publish(changed, client, "news", step=crash, batch=8)
    assert current_version(client, "news") == first.collection
    names = {c.name for c in client.get_collections().collections}
    assert names == {first.collection}  # the half-written version is gone
    reader = QdrantIndex.load(client, "news", encoder.id)
    assert reader.live_count == index.live_count and len(reader.documents) == len(index.documents)
    client.close()


def test_a_one_file_reindex_is_published_and_seen_by_a_second_reader(tmp_path, seeds_copy):
    encoder = make_encoder("hash:64")
    settings = qdrant_settings(tmp_path, seeds_copy, encoder="hash:64")
    writer = Engine(settings, encoder=encoder)
    writer.ensure_index()
    before = writer.loaded.index
    assert writer.ensure_index() is None  # nothing changed: no new version
    doc = seeds_copy / "002_2b35757b4165359b.txt"
    doc.write_text(doc.read_text(encoding="utf-8") + "\n\n補充：這是一段新增的測試段落，講述火星上的晶片工廠。\n",
                   encoding="utf-8")
    report = writer.ensure_index()
    assert report is not None and report.changed == ("002_2b35757b4165359b.txt",) and report.reused > 0
    after = writer.loaded.index
    assert after.collection != before.collection
    assert current_version(writer.qdrant, settings.qdrant_collection) == after.collection
    # The version before is kept for readers still on it; the one before that is dropped.
    names = {c.name for c in writer.qdrant.get_collections().collections if "--gen-" in c.name}
    assert names == {before.collection, after.collection}
    assert any("火星上的晶片工廠" in p.text for p in after.passages)
    assert not any("火星上的晶片工廠" in p.text for p in before.passages)
    # A replica sharing the client (local mode is one process) sees the new alias on its next look.
    replica = Engine(replace(settings, index_dir=tmp_path / "unused"), encoder=encoder)
    replica._qdrant = writer.qdrant
    replica.ensure_index(build=False)
    assert replica.loaded.index.collection == after.collection
    doc.unlink()
    writer.reindex()
    assert replica.refresh() and replica.loaded.index.collection == writer.loaded.index.collection
    assert not replica.refresh()
    assert not (tmp_path / "unused").exists()  # a replica keeps no index files of its own
    writer.close()


def test_the_lease_lets_one_builder_in(tmp_path):
    client = connect(path=tmp_path / "qdrant")
    with lease(client, "news", owner="a", settle=0.0):
        with pytest.raises(IndexBusy):
            with lease(client, "news", owner="b", settle=0.0):
                pass
    with lease(client, "news", owner="b", settle=0.0):  # released: the next one gets it
        pass
    with lease(client, "news", owner="dead", seconds=0.01, settle=0.0):
        time.sleep(0.02)
        with lease(client, "news", owner="c", settle=0.0):  # the holder's time ran out
            pass
    from qdrant_client import models

    # A builder killed while holding it, restarted on the same host and working copy, takes it back at once.
    client.upsert("news--lease", [models.PointStruct(id=0, vector={}, payload={"owner": "h:/work", "until": 1e12})])
    with pytest.raises(IndexBusy):
        with lease(client, "news", owner="h:/other", settle=0.0):
            pass
    with lease(client, "news", owner="h:/work", settle=0.0):
        pass
    client.close()


def test_cli_indexes_into_qdrant_and_answers_within_an_outlet(tmp_path, capsys):
    from bot.cli import main

    seeds = tmp_path / "seeds"
    shutil.copytree(SEEDS, seeds)
    args = ["--seeds", str(seeds), "--index", str(tmp_path / "work"), "--encoder", "hash:64",
            "--backend", "qdrant", "--qdrant-path", str(tmp_path / "q")]
    assert main(["index", *args]) == 0
    assert "published to Qdrant" in capsys.readouterr().err
    assert main(["ask", "英伟达H200芯片", "--json", "--outlet", "dw.com", *args]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["sources"] and all(s["source"] == "dw.com" for s in out["sources"])
    assert main(["ask", "英伟达H200芯片", "--since", "Jan 2026", *args]) == 2
    assert "--since" in capsys.readouterr().err


def test_builds_embed_with_their_own_threads_and_questions_with_theirs(tmp_path):
    settings = Settings.from_env({"QUOTEBOT_BUILD_THREADS": "2", "QUOTEBOT_THREADS": "1", "QUOTEBOT_ENCODER": "hash:64"},
                                 seeds_dir=SEEDS, index_dir=tmp_path / "index")
    assert (settings.threads, settings.build_threads) == (1, 2)
    with pytest.raises(ConfigError, match="QUOTEBOT_BUILD_THREADS"):
        Settings.from_env({"QUOTEBOT_BUILD_THREADS": "0"})
    engine = Engine(settings)
    engine.ensure_index()
    assert engine._build_encoder is not engine.encoder and engine._build_encoder.id == engine.encoder.id
    assert engine.answer("H200芯片的单价是多少？").quotes
    same = Engine(replace(settings, build_threads=1))
    assert same._build_encoder is same.encoder
