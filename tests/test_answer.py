"""Answers on the seeds: verbatim quotes with citations, abstention, dates, the JSON contract."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from dataclasses import replace

from bot.answer import MAX_QUOTE_CHARS, question_type
from bot.answer.candidates import EXPLAIN_QUOTE_CHARS, EXPLAINING
from bot.engine import Engine, QuestionError
from bot.render import answer_json, answer_text, is_traditional
from bot.settings import Settings
from embeddings.textnorm import normalize
from tests.conftest import ROOT, SEEDS

ANSWERABLE = {
    "H200芯片的单价是多少？": "27000美元",
    "輝達的H200晶片被中國海關擋下了嗎？": "海关",
    "國家網信辦在哪一天約談了英偉達？": "7月31日",
    "中国政府在哪一天召开紧急会议讨论H200进口？": "12月11日",
    "摩尔线程的主要应用领域是什么？": "图形渲染",
    "英伟达在2024年售出了多少片H20芯片？": "100萬片",
}
OUT_OF_CORPUS = ["英伟达B200芯片的售价是多少？", "今天北京天气怎么样？", "苹果公司的CEO是谁？", "2026年世界杯在哪里举办？"]


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("answer")
    e = Engine(Settings(seeds_dir=SEEDS, index_dir=tmp / "index"))
    e.ensure_index()
    return e


def assert_verbatim(engine: Engine, answer) -> None:
    index = engine.loaded.index
    for q in answer.quotes:
        para = index.paragraph(q.passage)
        assert para.text[q.start:q.end] == q.text
        assert q.text in answer.sources[answer.source_number(q) - 1].passage
        assert len(q.text) <= (EXPLAIN_QUOTE_CHARS if answer.kind in EXPLAINING else MAX_QUOTE_CHARS)
    for s in answer.sources + answer.related:
        assert s.passage in [p.text for p in index.documents[s.doc_id].paragraphs]


@pytest.mark.parametrize("question,expected", list(ANSWERABLE.items()))
def test_answerable_questions_quote_the_answer(engine, question, expected):
    answer = engine.ask(question)
    assert not answer.abstained, (question, answer.confidence, answer.features.get("alternatives"))
    assert_verbatim(engine, answer)
    assert any(normalize(expected) in normalize(q.text) for q in answer.quotes), [q.text for q in answer.quotes]
    assert all(s.title for s in answer.sources)


@pytest.mark.parametrize("question", OUT_OF_CORPUS)
def test_out_of_corpus_questions_are_abstained(engine, question):
    answer = engine.ask(question)
    assert answer.abstained, (question, answer.confidence, answer.features.get("alternatives"))
    assert answer.quotes == () and answer.sources == ()
    assert len(answer.related) <= 2
    assert_verbatim(engine, answer)


def test_json_contract(engine):
    answer = engine.ask("H200芯片的单价是多少？")
    obj = answer_json(answer, Path("seeds"))
    assert set(obj) >= {"question", "abstained", "confidence", "answer", "sources"}
    assert obj["question"] == "H200芯片的单价是多少？" and obj["abstained"] is False
    assert 0.0 <= obj["confidence"] <= 1.0
    for item in obj["answer"]:
        assert set(item) >= {"quote", "source"}
        src = obj["sources"][item["source"] - 1]
        assert src["id"] == item["source"]
        assert item["quote"] in src["passage"]
    for src in obj["sources"]:
        assert set(src) >= {"id", "doc_id", "path", "title", "date", "url", "section", "passage", "score"}
        assert src["path"].startswith("seeds/") and (ROOT / src["path"]).exists()
    dw = [s for s in obj["sources"] if s["doc_id"].startswith("000_")][0]
    assert dw["date"] == "2026-01-14" and dw["url"] == "https://p.dw.com/p/56no9"
    out = answer_json(engine.ask("今天北京天气怎么样？"), Path("seeds"))
    assert out["abstained"] is True and out["answer"] == [] and out["sources"] == []
    json.dumps(obj, ensure_ascii=False)


def test_unknown_date_and_url_are_null(engine):
    obj = answer_json(engine.ask("國家網信辦在哪一天約談了英偉達？"), Path("seeds"))
    src = obj["sources"][obj["answer"][0]["source"] - 1]
    assert src["doc_id"].startswith("004_") and src["date"] is None and src["url"] is None


def test_several_dated_sources_are_shown_newest_first(tmp_path):
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    docs = [
        ("a.txt", "海關禁令", "2026-01-14", "消息人士稱，中國海關本週告知報關人員，H300晶片不允許進入中國。"),
        ("b.txt", "進口獲批", "2026-01-23", "1月23日，北京批准了首批H300晶片的進口許可，數十萬顆晶片獲准進入中國。"),
        ("c.txt", "無關新聞", "2026-01-20", "今年春節假期預計有九億人次出行，鐵路部門增開了大量列車。"),
    ]
    for name, title, date, body in docs:
        (seeds / name).write_text(f"{title}\n{date}\n{body}\n", encoding="utf-8")
    engine = Engine(Settings(seeds_dir=seeds, index_dir=tmp_path / "index"))
    engine.ensure_index()
    answer = engine.ask("H300晶片可以進入中國嗎？")
    assert not answer.abstained
    dates = [answer.sources[answer.source_number(q) - 1].date for q in answer.quotes]
    assert dates == ["2026-01-23", "2026-01-14"], [q.text for q in answer.quotes]
    text = answer_text(answer)
    assert text.index("2026-01-23") < text.index("2026-01-14")


def test_bad_questions_raise_a_specific_error(engine):
    with pytest.raises(QuestionError) as e:
        engine.ask("   ")
    assert e.value.kind == "empty"
    with pytest.raises(QuestionError) as e:
        engine.ask("芯片" * 300)
    assert e.value.kind == "too_long"


def test_punctuation_or_emoji_only_is_abstained_not_crashed(engine):
    for q in ["？？？", "😀😀", "...", "<b>&amp;</b>"]:
        assert engine.ask(q).abstained


def test_word_occurrences_are_those_a_regex_finds():
    import random
    import re

    from bot.answer import _occurrences

    rng = random.Random(1)
    for _ in range(20_000):
        text = "".join(rng.choice("aab.*年") for _ in range(rng.randint(0, 30)))
        word = "".join(rng.choice("aab.*年") for _ in range(rng.randint(1, 3)))
        assert _occurrences(word, text) == [m.start() for m in re.finditer(re.escape(word), text)], (word, text)


def test_candidate_scores_are_the_scorers_sum_added_left_to_right(engine):
    from bot.answer import SCORER_FEATURES

    composer = engine.loaded.composer
    weights, bias = composer.scorer["weights"], composer.scorer.get("bias", 0.0)
    checked = 0
    for q in [*ANSWERABLE, *OUT_OF_CORPUS]:
        for c in composer.candidates(q, engine.loaded.searcher.search(q, k=8)):
            total = 0.0
            for name in SCORER_FEATURES:
                total = total + weights.get(name, 0.0) * c.features[name]
            assert c.score == bias + total and list(c.features) == SCORER_FEATURES
            checked += 1
    assert checked > 100


def test_question_types():
    assert question_type("H200芯片的单价是多少？") == "number"
    assert question_type("國家網信辦在哪一天約談了英偉達？") == "date"
    assert question_type("谁是英伟达的CEO？") == "person"
    assert question_type("黄仁勋在哪里宣布的？") == "place"
    assert question_type("为什么北京要禁止H200？") == "reason"


def test_reply_wording_follows_the_question_script(engine):
    assert is_traditional("輝達的晶片") and not is_traditional("英伟达的芯片")
    assert "資料中沒有" in answer_text(engine.ask("蘋果公司的執行長是誰？"))
    assert "资料中没有" in answer_text(engine.ask("苹果公司的CEO是谁？"))


def run_cli(*args, cwd=ROOT):
    return subprocess.run([sys.executable, "-m", "bot", *args], cwd=cwd, capture_output=True, text=True, timeout=300)


def test_ask_json_and_batch_from_the_command_line(tmp_path):
    index = tmp_path / "index"
    r = run_cli("ask", "H200芯片的单价是多少？", "--json", "--seeds", str(SEEDS), "--index", str(index))
    assert r.returncode == 0, r.stderr
    lines = r.stdout.strip().splitlines()
    assert len(lines) == 1
    obj = json.loads(lines[0])
    assert "27000美元" in obj["answer"][0]["quote"]
    batch = tmp_path / "questions.txt"
    questions = ["H200芯片的单价是多少？", "", "今天北京天气怎么样？", "國家網信辦在哪一天約談了英偉達？"]
    batch.write_text("\n".join(questions) + "\n", encoding="utf-8")
    r = run_cli("ask", "--batch", str(batch), "--seeds", str(SEEDS), "--index", str(index))
    assert r.returncode == 0, r.stderr
    objs = [json.loads(line) for line in r.stdout.strip().splitlines()]
    assert [o["question"] for o in objs] == [q for q in questions if q]
    assert [o["abstained"] for o in objs] == [False, True, False]
    assert "indexed" not in r.stderr  # the index was reused, not rebuilt


def test_ask_rebuilds_when_the_seeds_change(tmp_path, seeds_copy):
    index = tmp_path / "index"
    assert run_cli("ask", "測試", "--seeds", str(seeds_copy), "--index", str(index)).returncode == 0
    (seeds_copy / "new.txt").write_text("新發現\n2026-02-02\n研究人員在南極冰層下發現了一種會發光的新型細菌，命名為極光菌。\n", encoding="utf-8")
    r = run_cli("ask", "南極冰層下發現了什麼細菌？", "--json", "--seeds", str(seeds_copy), "--index", str(index))
    assert "1 added" in r.stderr
    obj = json.loads(r.stdout)
    assert not obj["abstained"] and "極光菌" in obj["answer"][0]["quote"]


@pytest.mark.slow
@pytest.mark.parametrize("name", ["cmrc2018_dev", "drcd_dev"])
def test_every_quote_on_dev_set_runs_is_verbatim(datasets_dir, name):
    from bot.evaluate import run_eval, summarise

    _, records, _, _ = run_eval(datasets_dir / f"{name}.json", Settings(), limit=80)
    assert len(records) == 160
    assert all(r.verbatim for r in records)
    s = summarise(records)
    # Far better than chance, and on par with or better than the naive peer on the same questions
    # (docs/benchmarks.md: +4 and +6.5 points on 600 questions per set).
    assert s["quote@1 no abstention"] >= s["naive quote@1"] - 0.05  # 80 questions: a few either way is noise
    # Sanity floors on 80+80 questions; the measured figures (600+600) are in docs/benchmarks.md.
    assert s["quote@1"] > 0.6 and s["abstention rate"] > 0.5 and s["answer rate"] >= 0.75


@pytest.mark.slow
def test_eval_command_reports_the_metrics(datasets_dir):
    r = run_cli("eval", str(datasets_dir / "drcd_dev.json"), "--limit", "30", "--json")
    assert r.returncode == 0, r.stderr
    s = json.loads(r.stdout)
    for key in ["R@1", "R@5", "MRR", "quote@1", "quote@3", "answer rate", "abstention rate", "p50 ms", "p95 ms",
                "index build s", "naive quote@1"]:
        assert key in s, key
    assert s["answerable"] == 30 and s["held_out"] == 30 and s["verbatim"] is True


def test_paragraph_keys_from_stored_sentences_equal_cutting_the_paragraph(engine):
    """The composer reads a paragraph's tokens from what the index stored per sentence; that must be
    the same set as cutting the paragraph again, for every passage of the seeds (multi-passage
    paragraphs included)."""
    composer, index = engine.loaded.composer, engine.loaded.index
    checked = 0
    for p in index.passages:
        assert composer.paragraph_keys(p) == composer.text_keys(index.paragraph(p).text)[0], p.id
        checked += 1
    assert checked == len(index) > 50


def test_the_engine_gives_faiss_and_blas_the_configured_threads(tmp_path):
    import faiss
    from threadpoolctl import threadpool_info

    from bot.telegram import ChatService
    from embeddings.encoders import HashingEncoder

    try:
        settings = Settings(seeds_dir=SEEDS, index_dir=tmp_path / "index", threads=2)
        engine = Engine(settings, encoder=HashingEncoder(32))
        assert faiss.omp_get_max_threads() == 2
        assert {p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"} == {2}
        # OpenMP's count is per thread: the bot's answering and reindexing threads set their own.
        service = ChatService(settings, engine)
        for pool in (service.answer_pool, service.index_pool):
            assert pool.submit(faiss.omp_get_max_threads).result() == 2
        service = ChatService(replace(settings, threads=1), engine)
        assert service.answer_pool.submit(faiss.omp_get_max_threads).result() == 1
        Engine(Settings(seeds_dir=SEEDS, index_dir=tmp_path / "index"), encoder=HashingEncoder(32))
        assert faiss.omp_get_max_threads() == 1
        assert {p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"} == {1}
    finally:
        from bot.engine import limit_threads

        limit_threads(1)


def test_preparing_a_small_index_changes_no_answer_and_leaves_nothing_for_questions(engine):
    """Composer.prepare derives ahead what first sight would: the same answers, and asking then
    derives no new passage data (only what depends on the question)."""
    import numpy as np

    from bot.answer import Composer
    from embeddings.search import Searcher

    index = engine.loaded.index
    rows = np.flatnonzero(index.live).tolist()
    fresh = Composer(index, encoder=engine.encoder)
    prepared = Composer(index, encoder=engine.encoder)
    assert prepared.prepare(rows) == len(rows)
    searcher = Searcher(index, engine.encoder)
    assert searcher.prepare(rows) == len(rows)
    before = {k: len(v) for k, v in vars(prepared).items() if k in {"_sentence_keys", "_pair_keys", "_paragraphs"}}
    unprepared = Searcher(index, engine.encoder)
    for q in [*ANSWERABLE, *OUT_OF_CORPUS]:
        hits = searcher.search(q, k=8)
        assert hits == unprepared.search(q, k=8)  # near-duplicates found ahead fold the same passages
        a, b = fresh.compose(q, hits), prepared.compose(q, hits)
        assert (a.abstained, a.confidence, [x.text for x in a.quotes]) == (b.abstained, b.confidence, [x.text for x in b.quotes])
    assert {k: len(v) for k, v in vars(prepared).items() if k in before} == before
    import threading

    stop = threading.Event()
    stop.set()
    assert Composer(index).prepare(rows, stop) == 0 and Searcher(index, engine.encoder).prepare(rows, stop) == 0


def test_preparing_stops_at_half_of_any_cache(engine, monkeypatch):
    """Each cache stops preparing at half its own limit (the rest is left to questions), so none
    is emptied by it: the passage caches (CACHE_LIMIT) and the folded-text ones (TEXT_CACHE_LIMIT)."""
    import numpy as np

    import bot.answer.composer as answer_module
    from bot.answer import Composer
    from embeddings.search import Searcher

    index = engine.loaded.index
    rows = np.flatnonzero(index.live).tolist()
    biggest = max(len(p.sentences) for p in index.passages) * 2  # texts one passage adds at most
    for passage_limit, text_limit in ((40, 100_000), (100_000, 60)):
        monkeypatch.setattr(answer_module, "CACHE_LIMIT", passage_limit)
        monkeypatch.setattr(answer_module, "TEXT_CACHE_LIMIT", text_limit)
        composer = Composer(index)
        assert 0 < composer.prepare(rows) < len(rows)
        passages = max(len(c) for c in (composer._sentence_keys, composer._paragraphs))
        texts = max(len(c) for c in (composer._canonical, composer._matches))
        if passage_limit < text_limit:
            assert passage_limit // 2 == passages and texts < text_limit // 2
        else:  # stopped by the folded texts, past half their limit by at most one passage's
            assert text_limit // 2 <= texts < text_limit // 2 + biggest < text_limit and passages < passage_limit // 2
    # the searcher keeps no shingles when preparing: only which pairs are near-duplicates
    searcher = Searcher(index, engine.encoder)
    assert searcher.prepare(rows) == len(rows) and not searcher._shingles


def test_clause_window_keys_equal_cutting_the_window(engine):
    """A long sentence's clause window takes its tokens from its clauses, already cut: the same set
    as cutting the window, on every window of whole clauses of the seeds' long sentences and of
    hostile text (traditional script, numbers with commas, times, Latin, spaces at the ends)."""
    from bot.answer import MAX_QUOTE_CHARS, Composer, clause_cuts, clause_window

    index = engine.loaded.index
    hostile = ("  據報導，輝達H.200晶片單價約3,000美元：12:30發布；A/B測試、 Nvidia, Inc. 表示，"
               "台積電（TSMC）的3奈米製程良率達80%，而三星：約6成；英特爾、AMD與高通 ，未回應。 ")
    # no clause punctuation in 190 characters: clause_window cuts it at the length limit, mid-clause
    run_on = "英伟达公司今天在加州发布新一代人工智能芯片" * 8 + "据报道台积电将负责代工生产这款芯片并于明年上市销售"
    a, b = clause_window(run_on, 0, len(run_on), {"台积电", "#上市"}, Composer(index).token_set)
    assert (a, b) == (0, MAX_QUOTE_CHARS) and len(run_on) > b
    sentences = {(index.paragraph(p).text, p.start + a, p.start + b) for p in index.passages for a, b in p.sentences}
    windows = [(run_on, 0, len(run_on), a, b)]
    for text, start, end in sorted(sentences) + [(hostile, 0, len(hostile))]:
        cuts = clause_cuts(text, start, end)
        for i, a in enumerate(cuts):
            for b in cuts[i + 1:]:
                windows.append((text, start, end, a, b))
                trimmed = len(text[a:b].lstrip()), len(text[a:b].rstrip())  # as clause_window leaves it
                windows.append((text, start, end, b - trimmed[0], a + trimmed[1]))
    assert len(windows) > 500
    by_window, by_cutting = Composer(index), Composer(index)  # separate caches
    for text, start, end, a, b in windows:
        if a < b:
            assert by_window.window_keys(text, start, end, a, b) == by_cutting.text_keys(text[a:b]), text[a:b]
