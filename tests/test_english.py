"""English questions: read as Chinese with CC-CEDICT's words and the names' aliases, answered with Chinese quotes
and the bot's own words in English."""

from __future__ import annotations

import pytest

from bot.query.english import glosses, is_english, lemma, translate
from bot.render import answer_html, answer_json, answer_text
from tests.conftest import SEEDS
from tests.test_answer import assert_verbatim


@pytest.fixture(scope="module")
def engine(seed_engine):
    return seed_engine


def test_is_the_h200_allowed_now_gets_the_dated_approval_and_english_words(engine):
    answer = engine.answer("Is the H200 allowed in China now?")
    assert not answer.abstained and answer.kind == "status" and answer.script == "english"
    assert_verbatim(engine, answer)
    assert "批准了首批" in answer.quotes[0].text and answer.quotes[0].date == "2026-01-23"
    text = answer_text(answer)
    assert text.startswith("Searched for 「") and "来源" not in text and "较早" not in text and "earlier" in text
    assert "Searched for" in "\n".join(answer_html(answer))
    assert answer_json(answer, SEEDS)["searched_for"] == list(answer.searched_for) != []


def test_why_did_china_block_the_h200_is_answered_with_reasons_in_chinese(engine):
    answer = engine.answer("Why did China block Nvidia H200 imports?")
    assert not answer.abstained and answer.kind == "why"
    assert "英伟达" in answer.searched_for
    assert all(any("\u4e00" <= c <= "\u9fff" for c in q.text) for q in answer.quotes)


def test_an_english_question_the_articles_cannot_answer_is_refused_in_english(engine):
    answer = engine.answer("How much does AMD's MI300 chip cost?")
    text = answer_text(answer)
    assert answer.abstained and "The articles" in text and "AMD" in text and "资料" not in text


@pytest.mark.parametrize("text,english", [
    ("Is the H200 allowed in China now?", True), ("H200现在能进入中国吗？", False), ("H200", False),
    ("黄仁勋 visit", False), ("Nvidia H200 ban", True), ("AMD MI300", False), ("Jensen Huang", False),
])
def test_what_counts_as_english(text, english):
    assert is_english(text) == english


def test_translation_keeps_names_and_model_numbers_and_reads_the_question_words():
    dictionary = {"allow": ["允许", "准"], "import": ["进口"], "block": ["阻止"], "china": ["中国", "中"]}
    df = {"允许": 5, "准": 9, "进口": 7, "阻止": 2, "中国": 40, "中": 90}.get
    names = {"nvidia": "英伟达", "jensen huang": "黄仁勋"}
    t = translate("Why did China block Nvidia H200 imports?", dictionary, lambda w: df(w) or 0, names)
    assert t.question == "为什么中国 阻止 英伟达 H200 进口？" and t.terms == ("中国", "阻止", "英伟达", "进口")
    t = translate("Is the H200 allowed in China now?", dictionary, lambda w: df(w) or 0, names)
    assert t.question == "现在 H200 允许 中国吗？"  # a word of two characters before a more frequent one
    assert translate("What happened on January 23?", dictionary, lambda w: 0, names).question == "1月23日发生了什么？"


def test_dictionary_senses_become_bare_glosses():
    assert glosses("to permit; to allow (sb to do sth)") == ["permit", "allow"]
    assert glosses("customs (i.e. border crossing inspection); CL:個|个[ge4]") == ["customs"]
    assert [lemma(w) for w in ("imports", "allowed", "banned", "banning", "companies")] == \
        ["import", "allow", "ban", "ban", "company"]


def test_a_name_in_pinyin_becomes_the_corpus_name_that_sounds_so_and_a_word_keeps_its_own_form():
    sounds = {"song guo qing": [("宋国青", 3)], "shang hai": [("上海", 9)]}
    dictionary = {"customs": ["海关"], "custom": ["习惯"], "suggest": ["建议"]}
    t = translate("What did Song Guoqing suggest about customs in Shanghai?", dictionary, lambda w: 1, {},
                  by_sound=lambda key: sounds.get(key, []))
    assert t.terms == ("宋国青", "建议", "海关", "上海")


def test_a_word_is_looked_up_as_written_then_by_its_stems():
    from bot.query.english import stems

    assert stems("approved")[:1] == ["approved"] and "approve" in stems("approved")
    assert "service" in stems("services") and "rate" in stems("rates")


def test_a_proper_name_names_its_place_but_a_phrase_does_not_lend_its_first_word():
    from bot.query.english import Dictionary

    table = Dictionary().glosses()
    assert "上海" in table["shanghai"] and "北京" in table["beijing"]
    assert "关注" not in table.get("pay", []) and "支付" in table["pay"]


def test_a_phrase_the_dictionary_knows_is_one_word_and_how_old_asks_an_age():
    dictionary = {"prime minister": ["总理"], "prime": ["黄金"], "minister": ["部长"], "old": ["古老"],
                  "national park": ["国家公园"], "national": ["全国"], "park": ["公园"]}
    t = translate("How old is Mali's prime minister?", dictionary, lambda w: 1, {})
    assert t.question.endswith("总理多少岁？") and "黄金" not in t.question and "古老" not in t.question
    assert translate("What did he do for national parks?", dictionary, lambda w: 1, {}).terms == ("国家公园",)
