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


def test_alias_rewriting_matches_the_plain_word_boundary_rule():
    """The alias pattern is arranged for speed; it must rewrite exactly as the plain rule does: the
    longest alias first, and a Latin alias only where no letter or digit touches it."""
    import random
    import re

    from embeddings.tokens import ALIASES, _alias_pattern

    fast, table = _alias_pattern(ALIASES)
    multi = sorted((v for v in table if len(v) > 1), key=len, reverse=True)
    latin = [v for v in multi if re.fullmatch(r"[a-z0-9 .]+", v)]
    plain = re.compile("|".join([re.escape(v) for v in multi if v not in latin]
                                + [rf"(?<![a-z0-9]){re.escape(v)}(?![a-z0-9])" for v in latin]))
    assert latin  # the Latin rule is exercised
    rng = random.Random(0)
    pieces = list("ab z09. ") + multi + list("的是中美")
    for _ in range(5000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 10)))
        assert fast.sub(lambda m: table[m.group(0)], text) == plain.sub(lambda m: table[m.group(0)], text), text


def test_jieba_dictionary_read_whole_equals_jiebas_own_and_survives_a_damaged_cache(tmp_path, monkeypatch):
    import tempfile

    import jieba

    from embeddings import tokens

    tokens._dictionary.cache_clear()
    freq, total = tokens._dictionary()  # makes sure jieba's cache exists
    own = jieba.Tokenizer()
    own.initialize()
    assert (freq, total) == (own.FREQ, own.total)

    def refuse(self, *args):  # with a valid cache, jieba's own (slow) reader is not used
        raise AssertionError("jieba.Tokenizer.initialize called")

    tokens._dictionary.cache_clear()
    with monkeypatch.context() as m:
        m.setattr(jieba.Tokenizer, "initialize", refuse)
        assert tokens._dictionary() == (freq, total)
    monkeypatch.setattr(tempfile, "gettempdir", lambda: str(tmp_path))
    (tmp_path / "jieba.cache").write_bytes(b"\x00not marshal")
    tokens._dictionary.cache_clear()
    try:
        assert tokens._dictionary() == (freq, total)  # parsed again, and the cache written anew
        assert tokens._dictionary.__wrapped__() == (freq, total)  # from the rewritten cache
    finally:
        tokens._dictionary.cache_clear()
