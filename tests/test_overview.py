"""Bare keyword queries ('H200', '网信办 英伟达'): what the articles say about them, newest first, not a refusal."""

from __future__ import annotations

import pytest

from bot.answer.question import analyse
from bot.render import answer_text
from embeddings.textnorm import normalize
from tests.test_answer import assert_verbatim


@pytest.fixture(scope="module")
def engine(seed_engine):
    return seed_engine


@pytest.mark.parametrize("query,keywords", [
    ("H200", ("h200",)), ("黄仁勋", ("黄仁勋",)), ("H20 禁令", ("h20", "禁令")), ("网信办、英伟达", ("网信办", "英伟达")),
])
def test_a_query_of_bare_keywords_is_read_as_one(query, keywords):
    asked = analyse(query)
    assert asked.kind == "overview" and asked.keywords == keywords


@pytest.mark.parametrize("question", ["H200现在能进入中国吗？", "黄仁勋说了什么", "H20和H200有什么区别", "1月23日发生了什么？"])
def test_a_question_is_not_a_keyword_query(question):
    assert analyse(question).kind != "overview"


@pytest.mark.parametrize("query", ["H200", "黄仁勋", "网信办 英伟达"])
def test_a_keyword_query_gets_dated_quotes_naming_it_newest_first(engine, query):
    answer = engine.answer(query)
    assert not answer.abstained and answer.note is not None and answer.note.key == "overview"
    assert_verbatim(engine, answer)
    words = [normalize(w) for w in query.replace("、", " ").split()]
    for q in answer.quotes:
        text = engine.loaded.composer.canonical(q.text)
        assert all(w in text for w in words)
    dated = [q.date for q in answer.quotes if q.date]
    assert dated == sorted(dated, reverse=True)
    assert len({(q.passage.doc_id, q.passage.paragraph) for q in answer.quotes}) == len(answer.quotes)
    if query == "H200":  # a story many articles tell: one quote an article
        assert len({q.passage.doc_id for q in answer.quotes}) == len(answer.quotes) >= 2
    assert f"关于「{query}」的报道" in answer_text(answer)


def test_keywords_no_article_names_are_refused(engine):
    answer = engine.answer("MI300 售价")
    assert answer.abstained and "MI300" in answer_text(answer)
