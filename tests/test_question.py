"""Question analysis and event dates: pure functions, checked on the issue's reader questions and hostile text."""

from __future__ import annotations

import pytest

from bot.answer.dates import event_date
from bot.answer.question import analyse, as_written, holds_names

KINDS = {
    "H200现在能进入中国吗？": "status",
    "中国批准H200进口了吗？": "status",
    "H20被禁了吗？": "status",
    "H20和H200有什么区别？": "compare",
    "H200和Blackwell相比慢多少？": "compare",
    "英伟达H200芯片一颗多少钱？": "fact",
    "H200晶片價格多少？": "fact",
    "1月23日发生了什么？": "event",
    "黄仁勋1月去了哪里？": "fact",
    "商务部对美国批准H20销售怎么回应？": "said",
    "卢特尼克说了什么？": "said",
    "美国批准H200出口附带哪些条件？": "list",
    "中国有哪些国产AI芯片公司？": "list",
    "H200对华出口经过了哪些变化？": "timeline",
    "为什么中国海关不让H200入境？": "why",
    "美国如何限制中国获得高端芯片？": "how",
    "买尾房有什么好处？": "list",
    "勃农机械公司讲的几个发展理念分别是什么？": "list",
    "许宜铭说他这辈子最得意的成就是什么？": "said",
    "卢特尼克说的稀土交易具体是什么内容？": "fact",
    "「犬儒」這個名字是怎麼來的？": "why",
    "广汽现代以后会生产轿车吗？": "status",
}


@pytest.mark.parametrize("question,kind", list(KINDS.items()))
def test_reader_questions_are_read_as_their_kind(question, kind):
    assert analyse(question).kind == kind


def test_question_parts():
    q = analyse("H200和Blackwell相比慢多少？")
    assert q.sides == ("h200", "blackwell") and q.entities == ("H200", "Blackwell") and q.slot == "number"
    assert analyse("商务部对美国批准H20销售怎么回应？").speaker == "商务部"
    assert analyse("1月23日发生了什么？").date == "1月23日"
    assert analyse("H200现在能进入中国吗？").scope == "latest"
    assert analyse("H200对华出口经过了哪些变化？").scope == "sequence"
    assert analyse("H200晶片價格多少？").script == "traditional"
    assert analyse("H200晶片价格多少？").script == "simplified"


def test_names_are_whole_words():
    q = analyse("H20被禁了吗？")
    assert holds_names(q, "h20被禁止") and not holds_names(q, "h200被禁止")


def test_as_written_keeps_the_readers_script():
    assert as_written("華為910C晶片售價多少？", "售价") == "售價"
    assert as_written("abc", "售价") == "售价"


@pytest.mark.parametrize("text", ["", "？？？", "🙂" * 50, "a" * 600, "\x00吗", "现在" * 200])
def test_hostile_questions_are_analysed_without_error(text):
    q = analyse(text)
    assert q.kind in ("fact", "why", "how", "status", "timeline", "compare", "list", "said", "event")


@pytest.mark.parametrize("sentence,published,expected", [
    ("1月23日,北京方面批准了首批", "2026-01-29", "2026-01-23"),
    ("本周二，中国政府官员召集国内科技企业开会", "2026-01-14", "2026-01-13"),
    ("美国政府今年4月决定禁止", "2025-07-19", "2025-04"),
    ("中国政府已于12月11日召开紧急会议", "2025-12-15", "2025-12-11"),
    ("去年10月，在時任美國總統特朗普", "2026-01-29", "2025-10"),
    ("11月3日的会议", "2026-01-10", "2025-11-03"),  # news reports the past
    ("2022年，拜登政府阻止", None, "2022"),
    ("于1989年5月26日离邵到北京", None, "1989-05-26"),
    ("在7月15日，黃仁勳", None, None),  # no year to place it in
    ("没有日期的句子", "2026-01-29", None),
    ("13月40日", "2026-01-29", None),
])
def test_event_dates(sentence, published, expected):
    assert event_date(sentence, published) == expected


@pytest.mark.parametrize("question,attribute", [
    ("华为910c的售价是多少", "售价"), ("h200的显存有多大", "显存"), ("摩尔线程什么时候正式上市", "正式上市"), ("座谈会有多少人参加", "人参加"),
    ("英伟达h200芯片一颗多少钱", "钱"), ("没有问题词", ""),
])
def test_the_asked_attribute(question, attribute):
    from bot.answer.features import asked_attribute

    assert asked_attribute(question) == attribute


def test_a_number_must_be_of_the_asked_attribute():
    from bot.answer.features import attribute_near, type_matches

    near_miss = "h200芯片的性能则大约是h20的六倍。尽管中国芯片制造商已研发出如华为昇腾910c这样的产品"
    assert not attribute_near("售价", near_miss, type_matches("number", near_miss))
    price = "中国技术企业已经提交了200余万枚h200芯片的订单，单价27000美元。"
    assert attribute_near("颗钱", price, type_matches("number", price))  # 钱 meets 美元
    assert attribute_near("", near_miss, ())


def test_an_attribute_named_after_the_question_word_must_stand_near_as_a_word():
    from bot.answer.features import asked_attribute, attribute_named, attribute_near, type_matches

    q = "李金泽的勃农机械公司现在有多少员工"
    assert asked_attribute(q) == "员工" and attribute_named(q)
    career = "李金泽1956年生人，1978年参加工作，历任技术科长。"  # 工 of 参加工作 is not 员工
    assert attribute_near("员工", career, type_matches("number", career))
    assert not attribute_near("员工", career, type_matches("number", career), named=True)
    staff = "公司现有员工1200人。"
    assert attribute_near("员工", staff, type_matches("number", staff), named=True)
    assert not attribute_named("中国企业一共订了多少") and not attribute_named("没有问题词")


def test_thresholds_per_kind():
    from bot.answer.calibration import thresholds

    calib = {"threshold": 0.5}
    assert thresholds(calib, "fact") == (0.5, 0.5)  # answer or abstain
    assert thresholds(calib, "why") == (0.5, 0.5)  # no hedge band unless calibrated
    assert thresholds({"threshold": 0.5, "hedges": {"why": 0.25}}, "why") == (0.5, 0.25)  # a hedged answer between
    assert thresholds({"threshold": 0.2, "hedges": {"why": 0.25}}, "why") == (0.2, 0.2)  # never above the threshold


@pytest.mark.parametrize("question,parts", [
    ("劳伦斯·洛克菲勒是哪天去世的？活了多少岁？", ("劳伦斯·洛克菲勒是哪天去世的？", "劳伦斯·洛克菲勒活了多少岁？")),
    ("金鍾國什麼時候入伍、什麼時候退伍的？", ("金鍾國什麼時候入伍", "金鍾國什麼時候退伍的？")),
    ("H20和H200有什么区别？", ("H20和H200有什么区别？",)),
    ("在1990年，谁获得了冠军？", ("在1990年，谁获得了冠军？",)),
    ("H200现在能进入中国吗？", ("H200现在能进入中国吗？",)),
])
def test_a_question_that_asks_two_things_is_split(question, parts):
    from bot.answer.question import sub_questions

    assert sub_questions(question) == parts


@pytest.mark.parametrize("question,kind", [
    ("李金泽的公司现在有多少员工？", "fact"),  # a value asked 'now' is a lookup of the newest report
    ("首批H200放行了多少顆？", "fact"),
    ("太原市发布的4项地方标准是哪几项？", "list"),
    ("中國海關還擋著H200嗎？", "status"),
    ("马里总理马伊加是怎么指责法国的？", "said"),
    ("马金鹏和李婷艳对压岁钱该归谁，看法有什么不一样？", "compare"),
    ("咸丰十年发生了什么事？", "event"),
])
def test_more_reader_wordings(question, kind):
    assert analyse(question).kind == kind
