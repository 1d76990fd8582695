"""Bold in quotes: the answer of the asked type near the question's rare words, else the question's words."""

from __future__ import annotations

from bot.answer.marks import marks
from embeddings.textnorm import normalize
from tests.test_answer import assert_verbatim

PRICE = "消息人士上月表示，中国技术企业已经提交了200余万枚H200芯片的订单，单价27000美元。这超过了英伟达70万枚H200芯片的库存量。"


def shown(text, spans):
    return [text[a:b] for a, b in spans]


def test_the_answer_near_the_rare_question_word_is_marked_not_every_number():
    words = {"h200": 1.2, "芯片": 0.8, "单价": 4.0}
    assert shown(PRICE, marks(PRICE, "number", normalize("H200芯片的单价是多少？"), words)) == ["27000美元"]
    stock = {"h200": 1.2, "库存": 4.0}
    assert shown(PRICE, marks(PRICE, "number", normalize("英伟达有多少H200库存？"), stock)) == ["70万枚"]


def test_dates_and_words_are_marked_and_offsets_survive_traditional_script():
    text = "國家網信辦在7月31日約談了英偉達公司。"
    assert shown(text, marks(text, "date", normalize("网信办哪天约谈了英伟达？"), {"网信办": 3.0, "约谈": 2.0})) == ["7月31日"]
    assert shown(text, marks(text, "other", "", {"网信办": 3.0, "约谈": 2.0, "#约谈": 1.0})) == ["網信辦", "約談"]
    assert marks("Ｈ２００晶片", "other", "", {"h200": 1.0}) == ((0, 4),)  # width folding keeps one for one


def test_quotes_from_the_engine_carry_marks_inside_their_own_text(seed_engine):
    answer = seed_engine.answer("H200芯片的单价是多少？")
    assert_verbatim(seed_engine, answer)
    q = answer.quotes[0]
    assert q.marks and all(0 <= a < b <= len(q.text) for a, b in q.marks)
    assert "27000美元" in shown(q.text, q.marks)
