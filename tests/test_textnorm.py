"""Sentence splitting and matching forms."""

from embeddings.textnorm import fold_width, normalize, split_sentences


def sents(text):
    return [text[a:b] for a, b in split_sentences(text)]


def test_chinese_and_latin_sentence_ends():
    assert sents("第一句。第二句！第三句？") == ["第一句。", "第二句！", "第三句？"]
    assert sents("It rose 1.5 times. Then fell.") == ["It rose 1.5 times.", "Then fell."]


def test_quotes_stay_balanced():
    text = "他说：“我们开始发货了。我很高兴。”随后离开。"
    assert sents(text) == ["他说：“我们开始发货了。我很高兴。”", "随后离开。"]
    text = "黄表示「我没有改变他的立场」。他强调市场很大。"
    assert sents(text) == ["黄表示「我没有改变他的立场」。", "他强调市场很大。"]


def test_unclosed_quote_does_not_swallow_the_paragraph():
    text = "他说：“" + "很长的话。" * 80
    assert len(sents(text)) > 1


def test_folding_is_for_matching_only():
    assert normalize("英偉達Ｈ２００晶片") == "英伟达h200晶片"
    assert len(fold_width("ＡＢＣ　")) == 4
