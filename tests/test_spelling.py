"""Homophone typos: names mistyped by pinyin input are searched for as the corpus's names, and nothing else is."""

from __future__ import annotations

import pytest

from bot.engine import Engine
from bot.query.spelling import Speller, repaired, repairs, sound
from bot.settings import Settings
from bot.readerset import load_reader_set
from bot.render import answer_html, answer_json, answer_text
from embeddings.textnorm import normalize
from tests.conftest import ROOT, SEEDS


@pytest.fixture(scope="module")
def engine(seed_engine):
    return seed_engine


@pytest.mark.parametrize("typed,meant", [
    ("英为达H200禁令", "英伟达"), ("黄仁训访华", "黄仁勋"), ("黄仁训什么时候到上海？", "黄仁勋"),
    ("网新办为什么约谈英伟达？", "网信办"), ("特郎普批准了吗", "特朗普"),
])
def test_a_name_mistyped_by_its_sound_is_searched_for_as_the_name_and_the_reader_is_told(engine, typed, meant):
    answer = engine.answer(typed)
    assert answer.searched_for == (meant,) and answer.question == typed
    assert f"已按「{meant}」搜索" in answer_text(answer) and f"已按「{meant}」搜索" in "\n".join(answer_html(answer))
    assert answer_json(answer, SEEDS)["searched_for"] == [meant]


def test_the_repaired_question_is_answered_as_the_right_one_would_be(engine):
    typo, right = engine.answer("黄仁训什么时候到上海？"), engine.answer("黄仁勋什么时候到上海？")
    assert [q.text for q in typo.quotes] == [q.text for q in right.quotes] and right.searched_for == ()


def test_no_word_the_seed_corpus_knows_is_ever_repaired(engine):
    index = engine.loaded.index
    speller = Speller(index)
    words = [w for w in index.vocab.words(range(len(index.vocab)))
             if 2 <= len(w) <= 4 and all("\u4e00" <= c <= "\u9fff" for c in w)]
    assert len(words) > 1000
    assert [w for w in words if speller.repairs(w)] == []


def test_the_teams_seed_questions_are_left_as_they_were_typed(engine):
    questions = load_reader_set(ROOT / "benchmarks" / "reader" / "seeds.json").questions
    assert [q.text for q in questions if engine.loaded.speller.repairs(normalize(q.text))] == []


def test_repairs_go_by_sound_into_the_longest_span_and_never_inside_a_known_word():
    names = {sound("英伟达"): [("英伟达", 12, True)], sound("伟达"): [("维达", 3, False)]}
    known = {"为了", "达到", "目的"}.__contains__
    fixes = repairs("英为达h200禁令", known, lambda key: names.get(key, []), ["英", "为", "达", "h200", "禁令"])
    assert [(f.typed, f.word) for f in fixes] == [("英为达", "英伟达")]
    assert repaired("英为达h200禁令", fixes) == "英伟达h200禁令"
    assert repairs("为了达到目的", known, lambda key: names.get(key, []), ["为了", "达到", "目的"]) == []


def test_a_name_the_articles_use_but_jiebas_dictionary_lacks_is_repaired_when_three_characters_long():
    words = {sound("莫莉花"): [("莫莉花", 3, False)], sound("二字"): [("二字", 4, False)]}
    sounding = lambda key: words.get(key, [])  # noqa: E731
    assert [(f.typed, f.word) for f in repairs("莫丽花最后被判了几年", lambda w: False, sounding)] == [("莫丽花", "莫莉花")]
    assert repairs("尔兹这一轮", lambda w: False, sounding) == []  # two characters that are no name: left alone


def test_a_common_word_beside_a_mistyped_name_does_not_hide_it_and_a_corpus_name_cut_apart_is_not_repaired():
    names = {sound("卢特尼克"): [("卢特尼克", 2, True)], sound("锺国"): [("中国", 90, True)]}
    sounding = lambda key: names.get(key, [])  # noqa: E731
    common = {"说"}.__contains__
    fixes = repairs("卢特尼可说中国", lambda w: w in {"中国", "特尼"}, sounding, ["卢", "特尼", "可", "说", "中国"], common)
    assert [(f.typed, f.word) for f in fixes] == [("卢特尼可", "卢特尼克")]
    known = {"金锺国", "中国"}.__contains__  # the corpus's name, cut by jieba into three characters
    assert repairs("金锺国结婚了吗", known, sounding, ["金", "锺", "国", "结婚", "了", "吗"]) == []


def engine_over(tmp_path, bodies: list[str]) -> Engine:
    """An engine over articles the test writes, one per body."""
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    for i, body in enumerate(bodies):
        (seeds / f"{i}.txt").write_text(f"标题{i}\n2005-05-0{i + 1}\n{body}\n", encoding="utf-8")
    engine = Engine(Settings(seeds_dir=seeds, index_dir=tmp_path / "index"))
    engine.ensure_index()
    return engine


def test_a_name_found_only_in_the_articles_a_test_writes_is_repaired_too(tmp_path):
    engine = engine_over(tmp_path, ["莫莉花是湖南邵阳师专的教师，1989年因演讲被判处有期徒刑三年。",
                                    "莫莉花出狱后移居海外，继续写作，出版了回忆录。",
                                    "邵阳师专今年新建了图书馆，藏书超过五十万册。"])
    answer = engine.answer("莫丽花后来去了哪里？")
    assert answer.searched_for == ("莫莉花",)
    assert engine.answer("邵阳师专新建了什么？").searched_for == ()


def test_a_name_jiebas_dictionary_tags_is_repaired_in_one_article_and_no_span_cuts_a_known_word(tmp_path):
    engine = engine_over(tmp_path, ["艺人吴宗宪昨晚在台北一家餐厅被打，头部缝了9针。",
                                    "中国市场的智能手机销量今年下降了百分之五。",
                                    "台北的餐厅今年新开了三百家。"])
    assert engine.loaded.index.tokenizer.is_name("吴宗宪") and not engine.loaded.index.tokenizer.is_name("餐厅")
    answer = engine.answer("吴宗显头部缝了几针？")  # one article only, and a word of jieba's dictionary
    right = engine.answer("吴宗宪头部缝了几针？")
    assert answer.searched_for == ("吴宗宪",) and [q.text for q in answer.quotes] == [q.text for q in right.quotes]
    assert "缝了9针" in "".join(q.text for q in answer.quotes)
    assert engine.answer("中国市场的手机销量怎么样？").searched_for == ()


def test_a_dictionary_name_is_taken_only_for_three_lone_characters_none_a_stop_word():
    tagged = {sound("维纳"): [("维纳", 3)], sound("吴宗宪"): [("吴宗宪", 1)], sound("上海市"): [("上海市", 9)]}
    by_sound = lambda key: tagged.get(key, [])  # noqa: E731
    stop = {"为", "哪", "是"}.__contains__

    def fixed(question, words):
        return [(f.typed, f.word) for f in repairs(question, {"上海"}.__contains__, lambda key: [], words,
                                                    tagged=by_sound, stop_word=stop)]

    assert fixed("吴宗显头部缝了几针", ["吴", "宗", "显", "头部", "缝", "了", "几", "针"]) == [("吴宗显", "吴宗宪")]
    assert fixed("北部为哪个地方", ["北部", "为", "哪", "个", "地方"]) == []  # DRCD's '为哪' is no 维纳
    assert fixed("上海是第一大城", ["上海", "是", "第一", "大城"]) == []
