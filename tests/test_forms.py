"""Answer forms on the seeds: status with dated earlier reports, events by date, the speaker's own words, the contract."""

from __future__ import annotations

import html
import re
from dataclasses import replace
from pathlib import Path

import pytest

from bot.answer.model import Note
from bot.readerset import load_reader_set
from bot.render import answer_html, answer_json, answer_text
from embeddings.textnorm import normalize
from tests.conftest import ROOT
from tests.test_answer import assert_verbatim


@pytest.fixture(scope="module")
def engine(seed_engine):
    return seed_engine


def test_status_leads_with_the_newest_report_and_keeps_older_ones_dated(engine):
    answer = engine.answer("中国批准H200进口了吗？")
    assert answer.kind == "status" and not answer.abstained
    assert_verbatim(engine, answer)
    assert len(answer.quotes) >= 2 and answer.note is not None and answer.note.key == "changed"
    first, *older = answer.quotes
    assert first.role == "answer" and first.date.startswith("2026-01-2") and "批准" in normalize(first.text)
    assert all(q.role == "earlier" and q.date < first.date for q in older)
    assert all(q.text not in first.text for q in older)
    obj = answer_json(answer, Path("seeds"))
    assert obj["kind"] == "status" and obj["note"]
    assert [a["role"] for a in obj["answer"]][:1] == ["answer"] and all(a["date"] for a in obj["answer"])


def test_the_ban_and_the_approval_together_dated(engine):
    answer = engine.answer("H200现在能进入中国吗？")
    assert answer.kind == "status" and not answer.abstained
    first, *older = answer.quotes
    assert "批准了首批" in first.text and first.date == "2026-01-23" and first.role == "answer"
    assert any("不允许进入中国" in q.text and q.date == "2026-01-14" and q.role == "earlier" for q in older)
    text = answer_text(answer)
    assert text.index("2026-01-23") < text.index("2026-01-14")


def test_the_latest_news_of_a_name_leads_with_its_newest_report_however_the_reader_words_it(engine):
    answer = engine.answer("H200現在的最新情況是什麼？")  # no verb of the story's to search with
    assert answer.kind == "status" and not answer.abstained
    assert_verbatim(engine, answer)
    assert "批准了首批" in answer.quotes[0].text and answer.quotes[0].date == "2026-01-23"


def test_a_comparison_of_three_names_quotes_the_table_row_of_each(engine):
    answer = engine.answer("H200、H20和Blackwell对华出口状态有什么不同？")
    assert answer.kind == "compare" and not answer.abstained
    assert_verbatim(engine, answer)
    shown = "\n".join(q.text for q in answer.quotes)
    assert all(s in shown for s in ("有条件批准", "曾受限，后获口头放行", "禁止出口"))


def test_a_status_question_about_something_no_article_names_is_refused(engine):
    answer = engine.answer("AMD的AI晶片可以賣給中國嗎？")
    assert answer.abstained and "AMD" in answer_text(answer).splitlines()[0]


def test_event_question_quotes_what_happened_that_day(engine):
    answer = engine.answer("1月23日发生了什么？")
    assert answer.kind == "event" and not answer.abstained
    assert any("批准了首批" in q.text for q in answer.quotes)
    assert answer.quotes[0].date == "2026-01-23"


def test_what_said_quotes_the_speaker_not_the_reporters_question(engine):
    answer = engine.answer("商务部对美国批准H20销售怎么回应？")
    assert answer.kind == "said" and not answer.abstained
    assert_verbatim(engine, answer)
    assert not any("请问" in q.text or "记者问" in q.text for q in answer.quotes)
    assert any("商务部新闻发言人表示" in q.text for q in answer.quotes)


def test_a_refusal_names_what_is_missing_in_the_readers_script(engine):
    answer = engine.answer("華為910C晶片售價多少？")
    assert answer.abstained and answer.note is not None
    text = answer_text(answer)
    assert "售價" in text and "售价" not in text.splitlines()[0]


def test_the_confidence_number_is_not_shown_to_readers(engine):
    answer = engine.answer("H200芯片的单价是多少？")
    text, html = answer_text(answer), "\n".join(answer_html(answer))
    for shown in (text, html):
        assert "可信度" not in shown and f"{answer.confidence:.2f}" not in shown
    assert 0.0 <= answer_json(answer, Path("seeds"))["confidence"] <= 1.0  # kept in JSON
    hedged = replace(answer, note=Note("hedge"))  # a partial answer says so in words, not in a number
    assert "资料没有直接说明" in answer_text(hedged) and "资料没有直接说明" in "\n".join(answer_html(hedged))


def test_every_seed_reader_question_gets_verbatim_quotes(engine):
    for q in load_reader_set(ROOT / "benchmarks" / "reader" / "seeds.json").questions:
        answer = engine.answer(q.text)
        assert_verbatim(engine, answer)
        assert all(x.role in ("answer", "earlier", "conflicting", "context") for x in answer.quotes)
        assert len(answer.quotes) <= 5


def test_the_conditions_are_quoted_not_only_announced(engine):
    answer = engine.answer("美国批准H200出口附带哪些条件？")
    assert answer.kind == "list" and not answer.abstained
    shown = "".join(q.text for q in answer.quotes)
    assert all(item in shown for item in ("收益分成机制", "产品代际限制", "客户白名单制度"))


def test_a_searcher_finds_passages_by_a_phrase_tokens_cannot_hold(engine):
    import re

    hits = engine.loaded.searcher.matching("1月23日", re.compile(r"(?<!\d)1月23[日号]"), 5)
    assert hits and all(re.search(r"(?<!\d)1月23日", h.passage.text) for h in hits)
    assert not engine.loaded.searcher.matching("1月23日", re.compile("不存在的短语"), 5)


def test_the_company_table_follows_the_sentence_announcing_it(engine):
    answer = engine.answer("中国有哪些国产AI芯片公司？")
    assert answer.kind == "list" and not answer.abstained
    assert answer.quotes[0].text.endswith("如下：")
    assert_verbatim(engine, answer)
    shown = "".join(q.text for q in answer.quotes[1:])
    assert all(name in shown for name in ("华为海思", "寒武纪", "摩尔线程"))


def test_dated_forms_render_in_telegram_html_with_their_note_and_labels(engine):
    import html

    answer = engine.answer("H200现在能进入中国吗？")
    blocks = answer_html(answer)
    assert blocks[0].startswith("<i>") and "报道随时间有变化" in blocks[0]
    assert any(b.startswith("<b>较早 2026-01-14</b>") for b in blocks)
    for q in answer.quotes:  # every quote is shown whole, escaped, set apart as a quote
        assert any(q.text in html.unescape(re.sub(r"<[^>]+>", "", b)) and "<blockquote>" in b for b in blocks)
    trad = engine.answer("H200現在能進入中國嗎？")
    if trad.note is not None:
        assert "報導" in answer_html(trad)[0]


def test_a_question_asked_in_two_parts_gets_both_answers(engine):
    answer = engine.answer("H200芯片的单价是多少？英伟达有多少H200库存？")
    assert not answer.abstained
    assert_verbatim(engine, answer)
    shown = "".join(q.text for q in answer.quotes)
    assert "27000美元" in shown and "70万枚" in shown
    assert len({(q.passage.doc_id, q.start, q.end) for q in answer.quotes}) == len(answer.quotes)
    half = engine.answer("H200芯片的单价是多少？华为910C的售价是多少？")
    assert not half.abstained and "27000美元" in "".join(q.text for q in half.quotes)
    assert half.note is not None and half.note.key in ("not_found", "not_answered")  # what the other part lacks


def test_citations_name_the_outlet_in_text_and_telegram_html(engine):
    answer = engine.answer("H200现在能进入中国吗？")
    named = [(i, s) for i, s in enumerate(answer.sources, 1) if s.source_name]
    assert named  # the seeds that name their outlet
    text, html_blocks = answer_text(answer), "\n".join(answer_html(answer))
    assert all(f"— {s.source_name} · {s.date} · {s.title}" in text for i, s in named)
    assert all(f"[{i}] {html.escape(s.source_name)} · {s.date} · " in html_blocks for i, s in named)
    unnamed = [s for s in answer.sources if not s.source_name]
    assert all(f"来源不详 · {s.date or '日期不详'} · {s.title}" in text for s in unnamed)  # said, not left out
