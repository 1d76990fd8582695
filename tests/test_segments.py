"""Segmented index: BM25 across segments equals bm25s over the whole, the vocabulary, IVF recall, reindex cost."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from embeddings import bm25, index as index_module
from embeddings.documents import load_corpus
from embeddings.encoders import HashingEncoder
from embeddings.index import Index, build_faiss, build_index
from embeddings.index.manifest import Manifest
from embeddings.passages import document_passages
from embeddings.tokens import Tokenizer
from embeddings.vocab import WIDTH, Vocabulary
from tests.conftest import SEEDS

ENC = HashingEncoder(64)


@pytest.fixture(scope="module")
def seed_tokens() -> list[list[str]]:
    tokenizer = Tokenizer()
    return [tokenizer.tokens(p.text) for d in load_corpus(SEEDS).documents for p in document_passages(d)]


def test_bm25_over_segments_equals_bm25s_over_the_whole(seed_tokens):
    import bm25s

    vocab = Vocabulary.empty()
    ids = [vocab.ids_adding(t) for t in seed_tokens]
    cut = len(ids) // 3  # three segments of different sizes, scored with the statistics of all
    segments = [bm25.postings(ids[:cut]), bm25.postings(ids[cut:cut + 5]), bm25.postings(ids[cut + 5:])]
    df = sum(s.df(len(vocab)) for s in segments)
    avgdl = float(np.mean([len(t) for t in seed_tokens]))
    reference = bm25s.BM25()
    reference.index(seed_tokens, show_progress=False)
    for query in (["h200", "芯片", "#芯片", "#单价"], ["英伟达", "英伟达", "中国"], ["不存在的词"]):
        q = np.asarray([i for i in vocab.ids(query) if i is not None], dtype=np.int64)
        ours = np.zeros(len(ids), dtype=np.float32)
        if len(q):
            offsets = [0, cut, cut + 5, len(ids)]
            for k, seg in enumerate(segments):
                bm25.add_scores(ours[offsets[k]:offsets[k + 1]], seg, q, bm25.idf(df[q].astype(float), len(ids)), avgdl)
        known = reference.get_tokens_ids(query)
        theirs = reference.get_scores_from_ids(known) if known else np.zeros(len(ids))
        assert np.allclose(ours, theirs, rtol=1e-4, atol=1e-5), query
    assert np.count_nonzero(ours) == 0  # the last query matches nothing


def _exhaustive_top(segments, offsets, q, weights, avgdl, k, live):
    full = _unmasked(segments, offsets, q, weights, avgdl)
    full[~live] = 0
    rows = np.flatnonzero(full > 0)
    best = rows[np.lexsort((rows, -full[rows]))][:k]
    return best, full


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("exhaustive_below", [0, bm25.EXHAUSTIVE_BELOW])
def test_pruned_top_k_equals_exhaustive_ranking(seed, exhaustive_below):
    """MaxScore top-k over segments whose average lengths differ, with deleted rows, repeated query
    terms and very common terms, gives the same rows and scores as scoring every posting."""
    rng = np.random.default_rng(seed)
    vocab_size = 400
    zipf = 1.0 / np.arange(1, vocab_size + 1) ** 1.1
    zipf /= zipf.sum()
    sizes = (1500, 40, 900)
    lengths = [(5, 30), (60, 120), (2, 12)]  # bounds are stored per segment at its own average length
    segments, rows_all = [], []
    for n, (lo, hi) in zip(sizes, lengths):
        rows = [rng.choice(vocab_size, size=rng.integers(lo, hi), p=zipf) for _ in range(n)]
        rows[0] = np.concatenate([rows[0], np.full(40, 7)])  # one row repeats a term: a high tf
        segments.append(bm25.postings(rows))
        rows_all += rows
    offsets = np.cumsum([0, *sizes])
    live = rng.random(offsets[-1]) > 0.1
    df = sum(seg.df(vocab_size) for seg in segments)
    avgdl = float(np.mean([len(r) for r, ok in zip(rows_all, live) if ok]))
    for _ in range(25):
        q = np.unique(np.concatenate([rng.choice(vocab_size, size=rng.integers(1, 12), p=zipf),
                                      rng.integers(0, vocab_size, size=rng.integers(0, 4))]))
        weights = bm25.idf(df[q].astype(float), int(live.sum())) * rng.integers(1, 3, size=len(q))
        for k in (1, 10, 50, 5000):
            want, full = _exhaustive_top(segments, offsets, q, weights, avgdl, k, live)
            probe = rng.integers(0, offsets[-1], size=30)
            got, scores, extra = bm25.top_k(segments, offsets, q, weights, avgdl, k, live, probe, exhaustive_below)
            assert (scores > 0).all() and np.allclose(scores, full[got], rtol=1e-5)
            assert np.allclose(extra, full[probe], rtol=1e-5)
            assert len(got) == len(want)
            # equal up to float rounding: where scores tie to 1e-5 the order may swap, never the set beyond ties
            assert np.allclose(np.sort(full[got]), np.sort(full[want]), rtol=1e-5)
            assert live[got].all() and len(set(got.tolist())) == len(got)


def _unmasked(segments, offsets, q, weights, avgdl):
    full = np.zeros(offsets[-1], dtype=np.float32)
    for s, seg in enumerate(segments):
        bm25.add_scores(full[offsets[s]:offsets[s + 1]], seg, q, weights, avgdl)
    return full


def test_vocabulary_ids_never_change_across_saves(tmp_path):
    vocab = Vocabulary.empty()
    first = vocab.ids_adding(["芯片", "h200", "x" * (WIDTH + 5), "芯片"]).tolist()
    assert first[0] == first[3] and len(set(first)) == 3
    a = tmp_path / "a"
    a.mkdir()
    vocab.save(a)
    loaded = Vocabulary.load(a)
    assert loaded.ids(["芯片", "h200", "x" * (WIDTH + 5), "新词"]) == [*first[:3], None]
    more = loaded.ids_adding(["新词", "芯片"]).tolist()
    assert more == [3, first[0]]
    assert loaded.ids(["新词"]) == [3]  # looked up as unknown above: not remembered as unknown
    b = tmp_path / "b"
    b.mkdir()
    loaded.save(b, previous=a)  # few new terms: the sorted arrays are shared, not rewritten
    assert (b / "vocab.words.npy").stat().st_ino == (a / "vocab.words.npy").stat().st_ino
    again = Vocabulary.load(b)
    assert [again.word(i) for i in range(4)] == [loaded.word(i) for i in range(4)]  # the same ids after sharing
    assert {again.word(i) for i in range(4)} == {"芯片", "h200", "x" * (WIDTH + 5), "新词"}
    assert again.get("新词") == 3 and len(again) == 4


def test_vocabulary_lookups_stay_right_past_the_memo_limit(monkeypatch):
    import embeddings.vocab as vocab_module

    monkeypatch.setattr(vocab_module, "RECENT", 3)
    vocab = Vocabulary.empty()
    terms = ["甲", "乙", "丙", "丁", "戊", "己", "庚"]
    ids = vocab.ids_adding(terms).tolist()
    for round_ in range(3):
        for k in range(len(terms)):
            asked = [terms[k], "无此词", terms[(k * 3 + round_) % len(terms)], terms[k]]
            assert vocab.ids(asked) == [ids[k], None, ids[(k * 3 + round_) % len(terms)], ids[k]]
    assert len(vocab._recent) <= 3


def test_a_prepared_vocabulary_gives_the_same_ids(tmp_path):
    vocab = Vocabulary.empty()
    vocab.ids_adding(["芯片", "h200", "x" * (WIDTH + 5), "#中国", "英伟达"])
    vocab.save(tmp_path)
    plain, prepared = Vocabulary.load(tmp_path), Vocabulary.load(tmp_path)
    prepared.ids_adding(["新词"])  # added after loading, as a reindex would
    plain.ids_adding(["新词"])
    assert prepared.prepare() and not Vocabulary.load(tmp_path).prepare(limit=3)
    asked = ["芯片", "h200", "x" * (WIDTH + 5), "#中国", "英伟达", "新词", "无此词", "y" * (WIDTH + 5), "芯片\0", ""]
    assert prepared.ids(asked) == plain.ids(asked) and None in plain.ids(asked)
    prepared.ids_adding(["后来的词"])  # the table no longer holds every term: it is dropped
    assert prepared.ids(["后来的词", "芯片"]) == plain.ids_adding(["后来的词", "芯片"]).tolist()


def test_vocabulary_consolidates_added_terms_without_changing_ids(tmp_path, monkeypatch):
    import embeddings.vocab as vocab_module

    monkeypatch.setattr(vocab_module, "CONSOLIDATE_AT", 2)
    vocab = Vocabulary.empty()
    first = vocab.ids_adding(["乙", "甲", "丙"]).tolist()
    (tmp_path / "a").mkdir()
    vocab.save(tmp_path / "a")
    loaded = Vocabulary.load(tmp_path / "a")
    more = loaded.ids_adding(["丁", "甲", "戊", "己"]).tolist()
    (tmp_path / "b").mkdir()
    loaded.save(tmp_path / "b", previous=tmp_path / "a")  # three added ≥ 2: one sorted array again
    again = Vocabulary.load(tmp_path / "b")
    assert json.loads((tmp_path / "b" / "vocab.added.json").read_text())["added"] == []
    assert again.ids(["乙", "甲", "丙", "丁", "戊", "己"]) == [*first, more[0], more[2], more[3]]
    assert [again.word(i) for i in range(6)] == ["乙", "甲", "丙", "丁", "戊", "己"]
    assert again.words([5, 0, 5, 3]) == ["己", "乙", "己", "丁"] == again.words([5, 0, 5, 3])  # memo on the 2nd call


@pytest.mark.parametrize("seed", range(4))
def test_is_gram_agrees_with_each_terms_first_character(tmp_path, seed):
    """Across the sorted array (with terms sorting before and after "#"), long terms and terms added
    since it was written."""
    import random

    rng = random.Random(seed)
    alphabet = list("#$!\" 0aZ芯片中美") + ["##", "#$"]
    def term() -> str:
        return "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 4)))
    base = list(dict.fromkeys([term() for _ in range((0, 1, 40, 300)[seed])] + ["#" + "长" * WIDTH, "x" * (WIDTH + 1)]))
    vocab = Vocabulary.empty()
    vocab.ids_adding(base)
    vocab.save(tmp_path)
    loaded = Vocabulary.load(tmp_path)
    loaded.ids_adding([term() for _ in range(rng.choice([0, 5]))] + ["#新", "新"])
    ids = np.array(rng.choices(range(len(loaded)), k=200), dtype=np.int64)
    assert loaded.is_gram(ids).tolist() == [loaded.word(int(i)).startswith("#") for i in ids]
    assert loaded.is_gram(np.zeros(0, dtype=np.int64)).tolist() == []


def test_ivf_finds_what_exact_search_finds():
    """IVF over product codes, re-scored with the real vectors as Index.dense_search does, finds the
    exact top 50 on clustered vectors (news embeddings cluster; noise-like vectors do not)."""
    rng = np.random.default_rng(1)
    centres = rng.normal(size=(200, 64))
    vectors = centres[rng.integers(0, 200, 30_000)] + 0.6 * rng.normal(size=(30_000, 64))
    vectors = (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)
    kind = index_module.choose_index_type(len(vectors), 64)
    assert kind.startswith("IVF") and "x4fs" in kind
    import faiss

    ivf = build_faiss(vectors, kind)
    faiss.extract_index_ivf(ivf).nprobe = index_module.nprobe(faiss.extract_index_ivf(ivf).nlist)
    queries = vectors[rng.choice(len(vectors), 50, replace=False)] + 0.1 * rng.normal(size=(50, 64)).astype(np.float32)
    exact = np.argsort(-(queries @ vectors.T), axis=1)[:, :50]
    approx, ids = ivf.search(queries.astype(np.float32), 50 * index_module.REFINE)
    recalls, raw = [], []
    for q, a, i, e in zip(queries, approx, ids, exact):
        got = index_module.refine(i[i >= 0], a[i >= 0], lambda r: vectors[r] @ q, 50, 50 * index_module.REFINE)
        recalls.append(len(set(got) & set(e)) / 50)
        raw.append(len(set(i[:50]) & set(e)) / 50)
    assert np.mean(recalls) >= 0.9, np.mean(recalls)
    assert np.mean(recalls) > np.mean(raw)  # re-scoring is what makes the codes usable


def test_refine_breaks_ties_by_row_and_keeps_the_exact_order():
    rows = np.array([9, 3, 5, 7, 1])
    approx = np.array([0.9, 0.8, 0.8, 0.1, 0.7])
    exact = {9: 0.5, 3: 0.6, 5: 0.6, 7: 1.0, 1: 0.2}
    assert index_module.refine(rows, approx, lambda r: np.array([exact[x] for x in r]), 3, 4) == [3, 5, 9]
    assert index_module.refine(np.array([], dtype=np.int64), np.array([]), lambda r: r, 3, 4) == []


@pytest.fixture
def seeds(tmp_path) -> Path:
    out = tmp_path / "seeds"
    shutil.copytree(SEEDS, out)
    return out


def new_file(seeds: Path, i: int) -> None:
    (seeds / f"extra{i:02d}.txt").write_text(
        f"第{i}篇補充報導\n2026-03-{i + 1:02d}\n這是第{i}篇補充報導，記者在第{i}個城市採訪了半導體工廠的工程師。\n",
        encoding="utf-8")


def test_a_changed_file_gets_a_new_small_segment_and_the_rest_stays_on_disk(seeds, tmp_path, monkeypatch):
    index_dir = tmp_path / "index"
    build_index(seeds, index_dir, ENC)
    first = Index.load(index_dir, ENC.id)
    path = seeds / "002_2b35757b4165359b.txt"
    path.write_text(path.read_text(encoding="utf-8") + "\n增量索引只會為改動的檔案寫一個新的小段。\n", encoding="utf-8")
    report = build_index(seeds, index_dir, ENC)
    assert report.retokenized == 1 and report.embedded == 1  # only the new paragraph is cut and embedded
    second = Index.load(index_dir, ENC.id, previous=first)
    assert [s.name for s in second.segments][:1] == [s.name for s in first.segments]
    assert second.segments[0] is first.segments[0]  # loaded once, shared by both generations
    # The file's old rows are still in the old segment, but never come out of a search.
    old_rows = {p.row for p in first.passages if p.doc_id.startswith("002_")}
    assert old_rows and not any(second.live[r] for r in old_rows)
    assert all(second.bm25_scores(second.tokenizer.tokens("增量索引"))[r] == 0 for r in old_rows)
    assert len(second) == report.passages == len(list(second.passages))
    # Document frequencies, looked up per term, are those of every segment's term lists summed.
    every = np.arange(len(second.vocab) + 3)  # and ids no segment holds
    summed = sum(seg.postings.df(len(every)) for seg in second.segments)
    assert (second.df(every) == summed).all()
    assert second.df([]).shape == (0,)
    # remembered per term id, also past the memo's limit, in any order and with repeats
    import embeddings.index.reader as reader_module

    monkeypatch.setattr(reader_module, "DF_MEMO", 5)
    second._df.clear()
    rng = np.random.default_rng(2)
    for _ in range(50):
        asked = rng.choice(every, size=rng.integers(1, 9))
        assert (second.df(asked) == summed[asked]).all()
    assert len(second._df) <= 8


def test_many_reindexes_keep_the_segment_count_small(seeds, tmp_path, monkeypatch):
    import embeddings.index.plan as build_module

    monkeypatch.setattr(build_module, "MAX_PER_CLASS", 3)  # the policy at a size a test can afford
    index_dir = tmp_path / "index"
    build_index(seeds, index_dir, ENC)
    counts = []
    n = 2 * build_module.MAX_PER_CLASS + 2
    for i in range(n):
        new_file(seeds, i)
        build_index(seeds, index_dir, ENC)
        counts.append(len(Index.load(index_dir, ENC.id).segments))
    assert max(counts) <= build_module.MAX_PER_CLASS + 2, counts
    index = Index.load(index_dir, ENC.id)
    assert len(index) == sum(len(document_passages(d)) for d in load_corpus(seeds).documents)
    for i in (0, n // 2, n - 1):
        scores = index.bm25_scores(index.tokenizer.tokens(f"第{i}篇補充報導"))
        assert index.passage(int(np.argmax(scores))).doc_id == f"extra{i:02d}.txt"
    assert {p.name for p in (index_dir / "segments").iterdir()} <= (
        {s.name for s in index.manifest.segments} | set(_previous_segments(index_dir)))


def _previous_segments(index_dir: Path) -> list[str]:
    out = []
    for gen in index_dir.glob("gen-*"):
        out += [s.name for s in _manifest(index_dir, gen.name).segments]
    return out


def test_a_mostly_dead_segment_is_rebuilt_from_what_it_already_holds(tmp_path):
    seeds, index_dir = tmp_path / "seeds", tmp_path / "index"
    seeds.mkdir()
    for i in range(4):
        (seeds / f"a{i}.txt").write_text(f"報導{i}\n2026-01-0{i + 1}\n第{i}座工廠今年擴產，工程師說晶片良率提高了。\n",
                                         encoding="utf-8")
    first = build_index(seeds, index_dir, ENC)
    for i in range(3):
        (seeds / f"a{i}.txt").write_text(f"報導{i}\n2026-02-0{i + 1}\n第{i}座工廠改寫後的報導：產線停工檢修。\n",
                                         encoding="utf-8")
    report = build_index(seeds, index_dir, ENC)
    index = Index.load(index_dir, ENC.id)
    # Three of four passages changed: the old segment goes, the fourth file moves to the new one
    # with its cut and vectors copied, not computed again.
    assert len(index.segments) == 1 and index.segments[0].name not in {
        s.name for s in _manifest(index_dir, first.generation).segments}
    assert report.retokenized == 3 and report.embedded == 3 and len(index) == 4
    scores = index.bm25_scores(index.tokenizer.tokens("第3座工廠今年擴產"))
    assert index.passage(int(np.argmax(scores))).doc_id == "a3.txt"


def _manifest(index_dir: Path, generation: str) -> Manifest:
    return Manifest.from_json(json.loads((index_dir / generation / "manifest.json").read_text()))


def test_a_lost_segment_is_reported_and_the_next_reindex_rebuilds_it(seeds, tmp_path):
    from embeddings.index import IndexCorrupt

    index_dir = tmp_path / "index"
    first = build_index(seeds, index_dir, ENC)
    new_file(seeds, 1)
    build_index(seeds, index_dir, ENC)
    lost = Index.load(index_dir, ENC.id).segments[0].path
    shutil.rmtree(lost)
    with pytest.raises(IndexCorrupt, match="python -m bot index"):
        Index.load(index_dir, ENC.id)
    report = build_index(seeds, index_dir, ENC)
    index = Index.load(index_dir, ENC.id)
    assert len(index) == report.passages == first.passages + 1
    assert lost.name not in {s.name for s in index.segments}


def test_an_unreadable_file_alone_in_a_reindex_is_skipped_with_a_warning(seeds, tmp_path):
    index_dir = tmp_path / "index"
    first = build_index(seeds, index_dir, ENC)
    (seeds / "000_empty.txt").write_bytes(b"")
    report = build_index(seeds, index_dir, ENC)
    assert report.passages == first.passages and report.added == ("000_empty.txt",)
    assert any(w.path == "000_empty.txt" for w in report.warnings)
    assert len(Index.load(index_dir, ENC.id)) == first.passages


def test_a_segment_name_never_means_two_different_things(seeds, tmp_path):
    index_dir = tmp_path / "index"
    seen: dict[str, set[str]] = {}
    a = seeds / "zz_a.txt"
    steps = [lambda: new_file(seeds, 1), lambda: (seeds / "extra01.txt").unlink(), lambda: None,
             lambda: new_file(seeds, 2), lambda: a.write_text("甲\n2026-04-01\n又一篇報導，寫的是另一家工廠。\n", encoding="utf-8")]
    build_index(seeds, index_dir, ENC)
    for change in steps:
        change()
        report = build_index(seeds, index_dir, ENC)
        for seg in _manifest(index_dir, report.generation).segments:
            files = set(seg.files)
            assert seen.setdefault(seg.name, files) == files, seg.name


def test_negative_weights_are_scored_exhaustively():
    rows = [np.array([1, 2]), np.array([2, 3])] * 300 + [np.array([4, 5])]
    seg = bm25.postings(rows)
    q, w = np.array([2, 4, 5]), np.array([1.0, -0.7, 0.8])
    live = np.ones(len(rows), dtype=bool)
    want, full = _exhaustive_top([seg], np.array([0, len(rows)]), q, w, 10.0 / 4, 3, live)
    got, scores, _ = bm25.top_k([seg], np.array([0, len(rows)]), q, w, 10.0 / 4, 3, live, None, 0)
    assert got.tolist() == want.tolist()


@pytest.mark.parametrize("dim", [9, 50, 64, 300, 512])
def test_index_type_builds_for_any_dimension(dim):
    kind = index_module.choose_index_type(30_000, dim)
    vectors = np.random.default_rng(0).normal(size=(2_000, dim)).astype(np.float32)
    built = build_faiss(vectors, kind.replace(kind.split(",")[0], "IVF16"))  # few lists: fast to train
    assert built.ntotal == 2_000


def test_paragraph_tokens_of_a_segment_cut_before_a_user_word_was_learnt(tmp_path):
    """A file names a work without its title marks; a later file names it with them, so jieba learns
    the word. The first file's segment is kept as it was cut; the composer must not read its stale
    stored tokens as the paragraph's tokens."""
    from bot.answer import Composer

    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "a.txt").write_text("票房快讯\n\n银河守望者计划首周票房三亿元，观众反响热烈。\n\n第二段说的是别的事情。\n",
                                 encoding="utf-8")
    build_index(seeds, tmp_path / "index", ENC)
    (seeds / "b.txt").write_text("上映消息\n\n电影《银河守望者计划》今日在全国各地影院正式上映，首日排片占比超过三成，"
                                 "多家院线表示预售情况好于预期。\n", encoding="utf-8")
    build_index(seeds, tmp_path / "index", ENC)
    index = Index.load(tmp_path / "index", ENC.id)
    assert "银河守望者计划" in index.tokenizer.user_words
    composer = Composer(index)
    old = [p for p in index.passages if "首周票房" in p.text]
    assert old and index.stale_cut[index.segment_of(old[0].row)]
    stored = composer.sentence_tokens(old[0], 0)
    assert "银河守望者计划" not in stored  # what the stale cut holds
    assert composer.paragraph_keys(old[0]) == composer.text_keys(index.paragraph(old[0]).text)[0]
    assert composer.keys(["银河守望者计划"])[0] in composer.paragraph_keys(old[0])


@pytest.mark.parametrize("in_memory_below", [0, 16_000, 1 << 20])
def test_row_file_reads_the_rows_asked_for(tmp_path, in_memory_below):
    """Vectors are read with pread, a row at a time or a run at once, or from memory for a small
    file; any order, repeats, none."""
    from embeddings.vocab import RowFile

    data = np.random.default_rng(0).normal(size=(500, 16)).astype(np.float16)  # 16,000 bytes
    np.save(tmp_path / "v.npy", data)
    rows = RowFile(tmp_path / "v.npy", in_memory_below)
    assert (rows._all is None) == (in_memory_below == 0)
    assert rows.shape == (500, 16) and len(rows) == 500
    for wanted in ([5, 3, 499, 0, 3], list(range(10, 40)), [], [7]):
        assert (rows.take(np.array(wanted, dtype=np.int64)) == data[wanted]).all()
    assert (rows.slice(3, 9) == data[3:9]).all() and rows.slice(4, 4).shape == (0, 16)
    assert (rows[3:9] == data[3:9]).all() and (rows[495:] == data[495:]).all() and rows[9:3].shape == (0, 16)
    with pytest.raises(IndexError):
        rows[::2]
    with pytest.raises(IndexError):
        rows.take(np.array([500]))
    with pytest.raises(IndexError):
        rows.slice(490, 501)
    flat = np.arange(7000, dtype=np.int64)[::-1].copy()  # 1-d (offsets, token ids): 56,000 bytes
    np.save(tmp_path / "f.npy", flat)
    one = RowFile(tmp_path / "f.npy", in_memory_below * 4)
    assert (one.slice(10, 20) == flat[10:20]).all() and one.slice(10, 20).shape == (10,)
    assert one[0] == flat[0] and one[-1] == flat[-1] and len(one) == 7000
    assert (one.take(np.array([3, 1, 3])) == flat[[3, 1, 3]]).all()
    # widened: half floats come back as float32, the same numbers, from memory or from the file
    wide = RowFile(tmp_path / "v.npy", in_memory_below, widen=True)
    assert (wide._all is None) == (in_memory_below == 0) and wide.shape == (500, 16)
    for got, want in ((wide.take(np.array([5, 3, 499, 3])), data[[5, 3, 499, 3]]), (wide.slice(3, 9), data[3:9]),
                      (wide.take(np.arange(10, 40)), data[10:40]), (wide.slice(4, 4), data[4:4])):
        assert got.dtype == np.float32 and got.shape == want.shape and (got == want.astype(np.float32)).all()


def test_the_same_passage_in_two_segments_ties_to_the_lower_row():
    """A paragraph indexed twice (two files built at different times) scores the same in both
    segments, however dense each segment is, so the tie goes to the lower row."""
    rows = [np.array([1, 2, 2, 3]), np.array([2, 4]), np.array([1, 5, 5])]
    dense = bm25.postings(rows)
    sparse = bm25.postings(rows + [np.array([], dtype=np.int64)] * 60)
    offsets = np.array([0, 3, 66])
    live = np.ones(66, dtype=bool)
    q, w = np.array([1, 2, 5]), np.array([0.7310585786300049, 1.3862943611198906, 2.0794415416798357])
    for below in (0, None):
        got, scores, _ = bm25.top_k([dense, sparse], offsets, q, w, 2.9, 6, live, None, below)
        pairs = got.reshape(-1, 2).tolist()  # each copy right after its twin from the first segment
        assert len(pairs) == 3 and all(b == a + 3 and a < 3 for a, b in pairs), (below, got)
        assert (scores[0::2] == scores[1::2]).all()


def test_row_file_closes_once(tmp_path):
    import os

    from embeddings.vocab import RowFile

    np.save(tmp_path / "v.npy", np.zeros((3, 4), dtype=np.float16))
    rows = RowFile(tmp_path / "v.npy")
    rows.close()
    other = os.open(tmp_path / "v.npy", os.O_RDONLY)
    del rows  # must not close `other`, which may have reused the number
    os.fstat(other)
    os.close(other)


def test_batched_and_folded_vocabularies_give_the_ids_of_one_term_at_a_time(tmp_path, monkeypatch):
    """Ids handed out for lists of terms at once, with the added terms folded into the sorted array
    between batches (as a build does between segments), are those of asking one list at a time."""
    import random

    import embeddings.vocab as vocab_module

    monkeypatch.setattr(vocab_module, "CONSOLIDATE_AT", 3)
    rng = random.Random(7)
    alphabet = list("芯片中美#ab") + ["x" * WIDTH, "\0"]
    batches = [[["".join(rng.choice(alphabet) for _ in range(rng.randint(1, 3))) for _ in range(rng.randint(0, 6))]
                for _ in range(rng.randint(1, 5))] for _ in range(12)]
    one, many = Vocabulary.empty(), Vocabulary.empty()
    for k, lists in enumerate(batches):
        expected = [one.ids_adding(terms).tolist() for terms in lists]
        assert [a.tolist() for a in many.ids_adding_many(lists)] == expected
        if k % 3 == 2:
            many.fold()
            assert len(many) == len(one) and many._added == []
    assert [many.word(i) for i in range(len(many))] == one.all_words() and many.ids_adding_many([]) == []
    many.save(tmp_path)
    again = Vocabulary.load(tmp_path)
    words = one.all_words()
    assert again.ids(words) == list(range(len(words))) and again.all_words() == words
    assert again.is_gram(np.arange(len(words))).tolist() == [w.startswith("#") for w in words]


@pytest.mark.parametrize("row_block", [1, 3, 7, 8192])
def test_postings_built_by_blocks_of_rows_are_the_postings(row_block):
    """Against a count of every (term, row) pair: term-major, rows ascending, with empty rows, rows of
    one repeated term and term ids past 2^24; the bounds are each term's largest saturation."""
    rng = np.random.default_rng(row_block)
    rows = [rng.choice([3, 9, 2**24 + 5, 40, 41, 7], size=rng.integers(0, 12)).astype(np.int32) for _ in range(50)]
    rows += [np.array([], dtype=np.int32), np.array([9, 9, 9], dtype=np.int32)]
    seg = bm25.postings(rows, row_block=row_block)
    pairs = sorted({(int(t), r) for r, row in enumerate(rows) for t in row})
    assert seg.terms.tolist() == sorted({t for t, _ in pairs})
    assert [(int(seg.terms[k]), int(r)) for k in range(len(seg.terms))
            for r in seg.rows[seg.ptr[k]:seg.ptr[k + 1]]] == pairs
    counts = [int((rows[r] == t).sum()) for t, r in pairs]
    assert seg.tf.tolist() == counts and seg.doclen.tolist() == [len(r) for r in rows]
    norm = bm25._norm(seg.doclen[seg.rows], seg.bound_avgdl)
    saturation = seg.tf / (seg.tf + norm)
    assert np.allclose(seg.bound, [saturation[seg.ptr[k]:seg.ptr[k + 1]].max() for k in range(len(seg.terms))])
