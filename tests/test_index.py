"""The index: aliases and scripts, incremental reindex, deletion, crash safety, encoder checks."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import numpy as np
import pytest

from embeddings.encoders import EncoderError, HashingEncoder, make_encoder
from embeddings.index import Index, IndexMismatch, IndexMissing, build_index, current_generation
from embeddings.index.manifest import EncoderInfo
from embeddings.passages import document_passages
from embeddings.search import Searcher, fuse, near_duplicate, rank, shingles
from embeddings.documents import load_corpus
from tests.conftest import ROOT

ENC = HashingEncoder(256)


class Counting(HashingEncoder):
    """A hashing encoder that keeps every text it was asked to encode."""

    def __init__(self, dim: int):
        super().__init__(dim)
        self.texts: list[str] = []

    def encode(self, batch, batch_size=64):
        self.texts.extend(batch)
        return super().encode(batch, batch_size)


@pytest.fixture
def built(seeds_copy, tmp_path):
    index_dir = tmp_path / "index"
    report = build_index(seeds_copy, index_dir, ENC)
    return seeds_copy, index_dir, report


def searcher(index_dir) -> Searcher:
    return Searcher(Index.load(index_dir, ENC.id), ENC)


def test_build_indexes_every_paragraph(built):
    seeds, index_dir, report = built
    corpus = load_corpus(seeds)
    expected = sum(len(document_passages(d)) for d in corpus.documents)
    assert report.passages == expected and report.embedded == expected and report.reused == 0
    index = Index.load(index_dir, ENC.id)
    assert len(index) == expected
    manifest = index.manifest
    assert manifest.encoder == EncoderInfo(ENC.id, 256, "mean")
    assert [s.index_type for s in manifest.segments] == ["Flat"]
    assert set(manifest.files) == {p.name for p in seeds.iterdir()}
    for p in index.passages:  # passages are verbatim slices of their paragraphs
        assert index.paragraph(p).text[p.start:p.end] == p.text


@pytest.mark.parametrize("a,b", [
    ("輝達 H200", "英伟达 H200"),
    ("英偉達H200晶片", "NVIDIA H200芯片"),
    ("黃仁勳", "黄仁勋"),
    ("川普政府", "特朗普政府"),
])
def test_alias_and_cross_script_queries_match_the_same_passages(built, a, b):
    s = searcher(built[1])
    assert s.index.tokenizer.query_tokens(a) == s.index.tokenizer.query_tokens(b)
    bm_a, bm_b = s.bm25_scores(a), s.bm25_scores(b)
    assert np.allclose(bm_a, bm_b) and bm_a.max() > 0
    top_a = [h.passage.id for h in s.search(a, k=5, weight=1.0)]
    top_b = [h.passage.id for h in s.search(b, k=5, weight=1.0)]
    assert top_a == top_b


def test_search_finds_the_price_paragraph(built):
    hits = searcher(built[1]).search("H200芯片的单价是多少？", k=3)
    assert any("单价27000美元" in h.passage.text for h in hits)


def test_changing_one_seed_reembeds_only_its_new_passages(built):
    seeds, index_dir, first = built
    path = seeds / "002_2b35757b4165359b.txt"
    path.write_text(path.read_text(encoding="utf-8") + "\n新增的一段測試文字說明增量索引只會重新嵌入這一段。\n", encoding="utf-8")
    report = build_index(seeds, index_dir, ENC)
    assert report.changed == ("002_2b35757b4165359b.txt",) and not report.added and not report.removed
    assert report.embedded == 1, report
    assert report.reused == first.passages
    assert report.passages == first.passages + 1
    hits = searcher(index_dir).search("增量索引只會重新嵌入", k=1)
    assert "增量索引" in hits[0].passage.text


def test_unchanged_seeds_reuse_everything(built):
    seeds, index_dir, first = built
    report = build_index(seeds, index_dir, ENC)
    assert not report.changed_anything
    assert report.embedded == 0 and report.retokenized == 0 and report.reused == first.passages


def test_an_index_cut_by_other_rules_counts_as_changed_and_is_cut_again(built, monkeypatch):
    import embeddings.tokens
    from embeddings.index import seeds_changed

    seeds, index_dir, first = built
    assert not seeds_changed(seeds, index_dir)
    monkeypatch.setattr(embeddings.tokens, "TOKENIZER_VERSION", embeddings.tokens.TOKENIZER_VERSION + 1)
    assert seeds_changed(seeds, index_dir)  # an upgrade that cuts text otherwise: the bot reindexes on start
    report = build_index(seeds, index_dir, ENC)
    assert report.passages == first.passages and not seeds_changed(seeds, index_dir)


def test_deleting_a_file_removes_its_passages(built):
    seeds, index_dir, first = built
    (seeds / "000_9e076cb025ef23f4.txt").unlink()
    report = build_index(seeds, index_dir, ENC)
    assert report.removed == ("000_9e076cb025ef23f4.txt",)
    index = Index.load(index_dir, ENC.id)
    assert not any(p.doc_id.startswith("000_") for p in index.passages)
    assert "000_9e076cb025ef23f4.txt" not in index.documents
    assert all("单价27000美元" not in p.text for p in index.passages)


def test_old_generations_are_cleaned_but_the_previous_kept(built):
    seeds, index_dir, _ = built
    for i in range(3):
        (seeds / f"extra{i}.txt").write_text(f"標題{i}\n2025-01-0{i + 1}\n這是第{i}篇新增的文章，內容足夠長，可以作為一個段落被索引。\n", encoding="utf-8")
        build_index(seeds, index_dir, ENC)
    gens = sorted(p.name for p in index_dir.glob("gen-*"))
    assert len(gens) == 2 and current_generation(index_dir).name == gens[-1]


def test_index_built_with_one_encoder_refuses_another(built):
    _, index_dir, _ = built
    with pytest.raises(IndexMismatch, match="reindex"):
        Index.load(index_dir, "hash:128")
    with pytest.raises(IndexMismatch):
        Searcher(Index.load(index_dir), HashingEncoder(128))


def test_missing_index_says_how_to_build_one(tmp_path):
    with pytest.raises(IndexMissing, match="python -m bot index"):
        Index.load(tmp_path / "nothing")


def test_new_encoder_reembeds_everything(built):
    seeds, index_dir, first = built
    report = build_index(seeds, index_dir, HashingEncoder(64))
    assert report.embedded == first.passages
    assert Index.load(index_dir).encoder_id == "hash:64"


def test_fusion_is_pure_and_ties_break_by_row():
    fused = fuse(np.array([2.0, 2.0, 0.0]), np.array([0.5, 0.5, 0.9]), 0.7)
    assert rank([7, 3, 5], fused) == [1, 0, 2]
    assert near_duplicate(shingles("英伟达H200芯片获准出口中国。"), shingles("英偉達H200芯片獲准出口中國。"))
    assert not near_duplicate(shingles("英伟达H200芯片获准出口中国。"), shingles("今天北京天气晴朗。"))


def test_duplicate_pairs_at_once_are_those_found_one_pair_at_a_time():
    import random

    from embeddings.search import duplicate_pairs

    rng = random.Random(5)
    words = [f"w{k}" for k in range(40)]
    sets = [frozenset()]
    for _ in range(150):  # fresh sets, and copies of earlier ones with a few shingles changed
        if len(sets) > 1 and rng.random() < 0.5:
            base = set(rng.choice(sets))
            base ^= set(rng.sample(words, rng.randint(0, 4)))
            sets.append(frozenset(base))
        else:
            sets.append(frozenset(rng.sample(words, rng.randint(0, 30))))
    for threshold in (0.3, 0.6, 0.9):
        expected = [(i, j) for i in range(len(sets)) for j in range(i + 1, len(sets))
                    if near_duplicate(sets[i], sets[j], threshold)]
        got = duplicate_pairs(sets, threshold, block=16)
        assert sorted(got) == expected and 50 < len(expected) < len(sets) ** 2 / 4, threshold
    assert duplicate_pairs([]) == []
    assert duplicate_pairs(sets, threshold, block=16, limit=len(expected)) == expected
    assert duplicate_pairs(sets, threshold, block=16, limit=len(expected) - 1) is None  # too many to keep


def test_near_duplicate_passages_fold_into_corroborating_sources(tmp_path):
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    story = "海關總署今天宣布，從下月起對進口晶片實施新的檢驗標準，所有批次都要提交原產地證明。"
    for i, outlet in enumerate(["甲報", "乙報", "丙報"]):
        (seeds / f"{i}.txt").write_text(f"{outlet}：晶片新規\n2025-03-0{i + 1}\n{story}\n", encoding="utf-8")
    (seeds / "3.txt").write_text("天氣消息\n2025-03-04\n今天北京天氣晴朗，氣溫回升到二十度，適合出遊。\n", encoding="utf-8")
    build_index(seeds, tmp_path / "index", ENC)
    hits = searcher(tmp_path / "index").search("進口晶片的新檢驗標準", k=3)
    assert "原產地證明" in hits[0].passage.text
    assert len(hits[0].corroborating) == 2
    assert sum("原產地證明" in h.passage.text for h in hits) == 1
    # the same when the pairs were found ahead, all at once
    prepared = searcher(tmp_path / "index")
    rows = np.flatnonzero(prepared.index.live).tolist()
    assert prepared.prepare(rows) == len(rows) and len(prepared._paired[1]) == 3
    assert prepared.search("進口晶片的新檢驗標準", k=3) == hits
    import embeddings.search as search_module

    search_module.PAIR_CACHE_LIMIT, limit = 2, search_module.PAIR_CACHE_LIMIT
    try:  # three copies make three pairs: too many to keep, so tested as questions meet them
        fallback = searcher(tmp_path / "index")
        assert fallback.prepare(rows) == 0 and not fallback._paired[1]
        assert fallback.search("進口晶片的新檢驗標準", k=3) == hits
    finally:
        search_module.PAIR_CACHE_LIMIT = limit


def test_encoder_specs():
    assert make_encoder("hash:32").dim == 32
    with pytest.raises(EncoderError):
        make_encoder("nonsense")


def test_sentence_transformers_model_offline_error_is_clear():
    enc = make_encoder("st:some-org/model-that-is-not-cached-here")
    with pytest.raises(EncoderError, match="cannot load sentence-transformers model"):
        enc.encode(["測試"])


@pytest.mark.slow
def test_sentence_transformers_path_with_a_model_built_here(tmp_path, seeds_copy):
    """A tiny StaticEmbedding model, built and saved by the test, loads via st:PATH and indexes."""
    from sentence_transformers import SentenceTransformer
    try:
        from sentence_transformers.sentence_transformer.modules import StaticEmbedding
    except ImportError:  # older sentence-transformers
        from sentence_transformers.models import StaticEmbedding
    from tokenizers import Tokenizer as HFTokenizer
    from tokenizers.models import WordLevel
    from tokenizers.pre_tokenizers import Split

    from embeddings.documents import load_corpus as lc

    chars = sorted({ch for d in lc(seeds_copy).documents for p in d.paragraphs for ch in p.text})
    vocab = {"[UNK]": 0, "[PAD]": 1, **{ch: i + 2 for i, ch in enumerate(chars)}}
    tok = HFTokenizer(WordLevel(vocab, unk_token="[UNK]"))
    tok.pre_tokenizer = Split(pattern="", behavior="isolated")
    model = SentenceTransformer(modules=[StaticEmbedding(tok, embedding_dim=32)])
    path = tmp_path / "tiny-st"
    model.save(str(path))
    enc = make_encoder(f"st:{path}")
    assert enc.dim == 32
    vecs = enc.encode(["英伟达", "芯片出口"])
    assert vecs.shape == (2, 32) and np.allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-5)
    report = build_index(seeds_copy, tmp_path / "index", enc)
    index = Index.load(tmp_path / "index", enc.id)
    assert len(index) == report.passages and index.manifest.encoder.dim == 32
    assert Searcher(index, enc).search("H200芯片的单价", k=1)


# --- crash safety (SIGKILL at each build point, full disk): see test_reliability.py -------------


def test_searcher_slot_swaps_between_questions_never_mixing(built):
    """Searches running while the slot is swapped each see one whole generation."""
    import threading

    from embeddings.search import SearcherSlot

    seeds, index_dir, _ = built
    slot = SearcherSlot(searcher(index_dir))
    (seeds / "zz_swap.txt").write_text("交換測試\n2026-03-01\n熱切換測試段落：機器人在兩個問題之間換上新索引，不必重新啟動。\n", encoding="utf-8")
    build_index(seeds, index_dir, ENC)
    new = searcher(index_dir)
    seen, errors = [], []

    def ask():
        for _ in range(30):
            s = slot.get()
            try:
                hits = s.search("熱切換測試段落", k=3)
                ids = {p.id for p in s.index.passages}
                assert all(h.passage.id in ids for h in hits)
                seen.append(any("熱切換" in h.passage.text for h in hits))
            except Exception as exc:  # pragma: no cover - reported below
                errors.append(exc)

    threads = [threading.Thread(target=ask) for _ in range(4)]
    for t in threads:
        t.start()
    slot.swap(new)
    for t in threads:
        t.join()
    assert not errors
    assert slot.get() is new and any("熱切換" in h.passage.text for h in new.search("熱切換測試段落", k=1))


@pytest.mark.e2e
def test_watch_reindexes_after_changes_settle(seeds_copy, tmp_path):
    env = dict(os.environ, QUOTEBOT_ENCODER=ENC.id, PYTHONUNBUFFERED="1")
    proc = subprocess.Popen([sys.executable, "-m", "bot", "index", "--watch", "--seeds", str(seeds_copy),
                             "--index", str(tmp_path / "index")], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)
    try:
        for line in proc.stdout:
            if line.startswith("watching"):
                break
        (seeds_copy / "watched.txt").write_text("監看測試\n2026-04-01\n監看模式在資料夾安靜下來之後會自動重新索引這篇文章。\n", encoding="utf-8")
        got = []
        deadline = time.monotonic() + 60
        for line in proc.stdout:
            got.append(line)
            if "+ watched.txt" in line or time.monotonic() > deadline:
                break
        assert any("+ watched.txt" in g for g in got), got
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_passage_vectors_as_the_mean_of_their_sentences(tmp_path, seeds_copy):
    from embeddings.index import seeds_changed
    from embeddings.index.new_segment import mean_vectors

    enc = HashingEncoder(64)
    whole = build_index(seeds_copy, tmp_path / "idx", enc, passage_vectors="whole")
    assert not seeds_changed(seeds_copy, tmp_path / "idx", "whole") and seeds_changed(seeds_copy, tmp_path / "idx")
    report = build_index(seeds_copy, tmp_path / "idx", enc)  # the default, another way: all made again
    assert report.passages == whole.passages and report.reused == 0
    index = Index.load(tmp_path / "idx", enc.id)
    assert index.manifest.encoder == EncoderInfo(enc.id, 64, "mean")
    rows = np.flatnonzero(index.live)[:20].tolist()
    for row, sentences in zip(rows, index.sentence_vectors(rows)):
        mean = sentences.astype(np.float64).mean(axis=0)
        assert np.allclose(index.vectors([row])[0], mean / np.linalg.norm(mean), atol=2e-3)
    assert mean_vectors(np.zeros((0, 4)), np.zeros(0, np.int64), 4).shape == (0, 4)
    again = build_index(seeds_copy, tmp_path / "idx", enc, passage_vectors="mean")
    assert again.embedded == 0 and not seeds_changed(seeds_copy, tmp_path / "idx", "mean")


def test_a_sentence_shared_by_overlapping_passages_is_embedded_once(tmp_path, seeds_copy):
    # One paragraph of 30 sentences: it is cut into passages that overlap by a sentence.
    long = "".join(f"第{i}座工厂在今年第{i}季度投产，年产能为{i * 1000}吨。" for i in range(1, 31))
    (seeds_copy / "900_long.md").write_text(f"---\ntitle: 工厂\ndate: 2026-01-01\n---\n\n{long}\n", encoding="utf-8")
    counting = Counting(64)
    build_index(seeds_copy, tmp_path / "idx", counting, passage_vectors="mean")
    index = Index.load(tmp_path / "idx", "hash:64")
    sentences = [p.text[a:b] for p in index.passages for a, b in p.sentences]
    texts = counting.texts
    assert len(texts) == len(set(texts)) == len(set(sentences)) < len(sentences)


def test_embedding_in_chunks_embeds_each_text_once_and_counts_what_it_does(tmp_path, seeds_copy, monkeypatch):
    """Texts resolved a few at a time (a sentence repeated across chunks comes from the journal, not the
    encoder), the same vectors as in one chunk, and every phase ends with as many items done as it
    announced, on a first build and on a reindex of one changed file."""
    import embeddings.index.new_segment as new_segment
    from embeddings.index.progress import Progress

    class Recording(Progress):
        def __init__(self):
            super().__init__()
            self.ends: list[tuple[str, int, int]] = []

        def _record(self):
            snap = self.snapshot()
            if snap is not None:
                self.ends.append((snap.phase, snap.done, snap.total))

        def phase(self, name, total):
            self._record()
            super().phase(name, total)

        def finish(self):
            self._record()
            super().finish()

    long = "".join(f"第{i % 4}号声明：工厂照常运行。第{i}座工厂在今年投产。" for i in range(1, 40))
    (seeds_copy / "900_long.md").write_text(f"---\ntitle: 工厂\ndate: 2026-01-01\n---\n\n{long}\n", encoding="utf-8")
    build_index(seeds_copy, tmp_path / "whole", HashingEncoder(64))
    monkeypatch.setattr(new_segment, "EMBED_CHUNK", 7)
    meter, counting = Recording(), Counting(64)
    build_index(seeds_copy, tmp_path / "idx", counting, progress=meter)
    texts = counting.texts
    assert len(texts) == len(set(texts)) and texts
    embed_ends = [e for e in meter.ends if e[0] == "embed"]
    assert embed_ends and all(done == total for _, done, total in meter.ends), meter.ends
    assert sum(total for _, _, total in embed_ends) >= len(texts)
    one, chunked = Index.load(tmp_path / "whole", "hash:64"), Index.load(tmp_path / "idx", "hash:64")
    rows = range(one.rows)
    assert one.rows == chunked.rows and np.array_equal(one.vectors(rows), chunked.vectors(rows))
    assert all(np.array_equal(a, b) for a, b in zip(one.sentence_vectors(rows), chunked.sentence_vectors(rows)))

    (seeds_copy / "900_long.md").write_text(f"---\ntitle: 工厂\ndate: 2026-01-01\n---\n\n{long}又一座工厂投产。\n",
                                            encoding="utf-8")
    meter, counting = Recording(), Counting(64)
    build_index(seeds_copy, tmp_path / "idx", counting, progress=meter)
    texts = counting.texts
    embed_total = sum(total for phase, _, total in meter.ends if phase == "embed")
    assert all(done == total for _, done, total in meter.ends) and 0 < len(texts) <= embed_total < 10
