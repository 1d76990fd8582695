"""Publication dates of saved pages: made-up hostile pages, single datelines, and the real web-extraction pages."""

from __future__ import annotations

import re

import pytest

from embeddings.documents.dates import page_date, text_dateline
from tests.conftest import DATASETS

WEB_EXTRACTION = DATASETS / "web-extraction"


def _page(body: str, head: str = "<title>北京发布新规 规范网约车运营_新闻中心</title>") -> str:
    return f"<html><head><meta charset='utf-8'>{head}</head><body>{body}</body></html>"


_NAV = "<div class='top'><a href='/'>首页</a> | <a href='/news'>新闻</a> | <a href='/sports'>体育</a></div>"
_TEXT = "<p>本报讯 北京市交通委员会今天发布新规，对网约车平台的运营行为作出进一步规范。</p>" * 3


# --- whole pages ---------------------------------------------------------------------------------


def test_meta_tag_date():
    head = ('<title>北京发布新规 规范网约车运营</title>'
            '<meta property="article:published_time" content="2019-11-25T16:04:30+08:00">')
    assert page_date(_page(_NAV + "<h1>北京发布新规 规范网约车运营</h1>" + _TEXT, head)) == "2019-11-25"


def test_other_meta_names():
    for name in ("pubdate", "PubDate", "publishdate", "publish_date", "DC.date", "sailthru.date", "date"):
        head = f'<meta name="{name}" content="2005-04-27 14:32:00">'
        assert page_date(_page(_TEXT, head)) == "2005-04-27", name


def test_chinese_dateline_under_headline():
    body = (_NAV + "<h1>北京发布新规 规范网约车运营</h1>"
            "<div class='info'>时间：2004年10月21日14:18 来源：北京晚报</div>" + _TEXT)
    assert page_date(_page(body)) == "2004-10-21"


def test_dateline_without_label_next_to_headline():
    body = (_NAV + "<table><tr><td>北京发布新规 规范网约车运营</td></tr>"
            "<tr><td>http://news.example.com 2005-5-7 21:23:57 北京晚报</td></tr></table>" + _TEXT)
    assert page_date(_page(body)) == "2005-05-07"


def test_json_ld_date_published():
    head = ('<script type="application/ld+json">{"@context": "https://schema.org", "@type": "NewsArticle",'
            ' "headline": "北京发布新规", "datePublished": "2021-06-30T08:00:00+08:00"}</script>')
    assert page_date(_page(_TEXT, head)) == "2021-06-30"


def test_json_ld_list_of_other_stories_is_not_the_article():
    head = ('<script type="application/ld+json">{"@type": "ItemList", "itemListElement": ['
            '{"@type": "ListItem", "datePublished": "2021-06-29"}]}</script>')
    assert page_date(_page(_TEXT, head)) is None


def test_time_element_marked_as_publication():
    body = "<h1>北京发布新规 规范网约车运营</h1><time pubdate datetime='2018-03-02T09:00'>3月2日</time>" + _TEXT
    assert page_date(_page(body)) == "2018-03-02"


def test_photo_caption_date_is_not_the_article_date():
    body = (_NAV + "<h1>北京发布新规 规范网约车运营</h1>"
            "<figure><img src='a.jpg'><figcaption>2019年11月25日，乘客在北京西站使用网约车。"
            "新华社记者 张三 摄</figcaption></figure>"
            "<p class='pic-desc'>2019-11-24 游客在故宫参观</p>" + _TEXT)
    assert page_date(_page(body)) is None
    # Old pages mark nothing up: the photographer's credit gives a caption away.
    plain = (_NAV + "<h1>北京发布新规 规范网约车运营</h1><img src='a.jpg'>"
             "<p>2019年11月25日 乘客在北京西站使用网约车（新华社记者 张三 摄）</p>" + _TEXT)
    assert page_date(_page(plain)) is None


def test_copyright_year_only():
    body = (_NAV + "<h1>北京发布新规 规范网约车运营</h1>" + _TEXT
            + "<div class='footer'>Copyright © 2004-2022 新闻中心 版权所有 京ICP证030173号</div>")
    assert page_date(_page(body)) is None


def test_comment_date_later_than_article_date():
    body = (_NAV + "<h1>北京发布新规 规范网约车运营</h1>" + _TEXT
            + "<div class='byline'>发布时间：2019-09-07 10:00</div>"
            + "<div class='comments'><p>网友 小王 2019-09-10 12:00:01</p><p>支持！</p></div>")
    assert page_date(_page(body)) == "2019-09-07"


def test_comment_date_without_comment_markup():
    # Old table layouts have no class names: only the order tells the article's stamp from replies'.
    body = ("<table><tr><td>北京发布新规 规范网约车运营</td></tr><tr><td>" + _TEXT + "</td></tr>"
            "<tr><td>发表于 2005-07-31 12:30</td></tr>"
            "<tr><td># re: 北京发布新规 | 2005-08-22 02:22</td></tr></table>")
    assert page_date(_page(body)) == "2005-07-31"


def test_related_news_dates_are_not_the_article_date():
    body = (_NAV + "<h1>北京发布新规 规范网约车运营</h1>" + _TEXT
            + "<p>相关新闻：</p><ul><li>上海出台网约车细则 2019-09-05 09:00:04</li>"
            "<li><a href='/1'>广州网约车新政</a>（2019-09-01 17:06）</li></ul>")
    assert page_date(_page(body)) is None


def test_today_in_site_header_is_not_the_article_date():
    header = "<div class='topbar'>今天是2022年2月14日 星期一 <span>北京 晴</span></div>"
    body = header + _NAV + "<h1>北京发布新规 规范网约车运营</h1>" + _TEXT
    assert page_date(_page(body)) is None
    dated = header + _NAV + "<h1>北京发布新规 规范网约车运营</h1><p>2019年11月25日 16:04:30 来源：新华网</p>" + _TEXT
    assert page_date(_page(dated)) == "2019-11-25"


def test_saved_page_stamp_is_not_the_article_date():
    saved = ("<!-- saved from url=(0040)http://news.example.com/2019/a.html -->\n"
             "<!-- Page saved with SingleFile, saved date: 2022-02-14 10:20:33 -->\n")
    assert page_date(saved + _page(_NAV + "<h1>北京发布新规 规范网约车运营</h1>" + _TEXT)) is None


def test_dates_inside_the_story_are_not_datelines():
    body = ("<h1>北京发布新规 规范网约车运营</h1>"
            "<p>据报道，2004年3月20日至5月7日，来自四川泸州的老中医在成都绝食。劳伦斯出生于1910年5月26日。</p>"
            "<p>报名日期为2003年11月1日至2003年11月30日，外地考生可以提前函报。</p>")
    assert page_date(_page(body)) is None


def test_forum_thread_is_dated_by_its_first_post():
    body = ("<div>网易娱乐 明星话题 发布时间 2005/03/15 22:36:13 by duscha</div><p>楼主的话</p>"
            "<div>网易娱乐 明星话题 发布时间 2005/03/16 01:08:28 by mi来mi去</div><p>回复</p>")
    assert page_date(_page(body, head="<title>网易娱乐</title>")) == "2005-03-15"


def test_government_document_is_dated_by_its_signing():
    head = '<title>关于禁止新增建设项目的通告</title><meta name="PubDate" content="2022-01-28 00:00:00">'
    body = ("<table><tr><td>成文日期：</td><td>2022年01月27日</td><td>发布日期：</td><td>2022年01月28日</td></tr></table>"
            "<h1>关于禁止新增建设项目的通告</h1>" + _TEXT)
    assert page_date(_page(body, head)) == "2022-01-27"


def test_page_revised_for_years_has_no_single_date():
    head = ('<script type="application/ld+json">{"@type": "Article", "datePublished": "2011-06-17T11:26:10Z",'
            ' "dateModified": "2022-02-09T08:16:00Z"}</script>')
    assert page_date(_page("<h1>金锺国</h1><p>此条目需要补充更多来源。 (2020年4月17日)</p>", head)) is None


def test_schedule_in_the_story_is_not_a_dateline():
    body = ("<h1>北京发布新规 规范网约车运营</h1>" + _TEXT
            + "<table><tr><td>2019-12-01 09:00</td><td>新规开始实施</td></tr></table>" + _TEXT)
    assert page_date(_page(body)) is None


def test_date_in_the_canonical_url():
    head = ('<title>北京发布新规 规范网约车运营</title>'
            '<link rel="canonical" href="http://www.example.com/politics/2019-11/25/c_1125271.htm">')
    assert page_date(_page("<h1>北京发布新规 规范网约车运营</h1>" + _TEXT, head)) == "2019-11-25"


def test_http_last_modified_is_not_publication():
    head = '<meta http-equiv="Last-Modified" content="Mon, 14 Feb 2022 10:20:33 GMT">'
    assert page_date(_page("<h1>北京发布新规 规范网约车运营</h1>" + _TEXT, head)) is None


def test_dateline_without_year_takes_it_from_the_page_metadata():
    head = '<title>北京发布新规 规范网约车运营</title><meta itemprop="dateUpdate" content="2019-09-30 22:46:13">'
    body = "<h1>北京发布新规 规范网约车运营</h1><p>IT之家发布时间：09-3022:46</p>" + _TEXT
    assert page_date(_page(body, head)) == "2019-09-30"
    # Without a dated meta or URL to say which year, a yearless dateline is no date.
    assert page_date(_page(body)) is None


def test_stamp_in_brackets_under_the_headline():
    body = ("<h1>北京发布新规 规范网约车运营</h1><p>新华网河北频道 ( 2012-06-04 09:20:26 ) 稿件来源： 河北日报</p>"
            + _TEXT)
    assert page_date(_page(body)) == "2012-06-04"


def test_date_glued_to_a_section_name():
    body = "<h1>北京发布新规 规范网约车运营</h1><div>2017-09-10港聞</div>" + _TEXT
    assert page_date(_page(body)) == "2017-09-10"


def test_theme_class_on_the_body_is_not_an_aside():
    page = ("<html><head><title>北京发布新规 规范网约车运营</title></head><body class='sidebar-responsive'>"
            "<h1>北京发布新规 规范网约车运营</h1><p>2019-11-25 16:04 来源：新华网</p>" + _TEXT + "</body></html>")
    assert page_date(page) == "2019-11-25"


def test_american_clock_reads_month_first():
    body = "<h1>北京发布新规 规范网约车运营</h1><p>发布日期： 7/5/2005 9:23:57 PM</p>" + _TEXT
    assert page_date(_page(body)) == "2005-07-05"


def test_broken_or_empty_input():
    assert page_date("") is None
    assert page_date("   ") is None
    assert page_date("<?xml version='1.0' encoding='utf-8'?><html><body><p>无日期</p></body></html>") is None
    assert page_date("纯文本，没有标签 2019年11月25日 16:04") == "2019-11-25"


# --- single lines -------------------------------------------------------------------------------


@pytest.mark.parametrize("line, expected", [
    ("时间：2004年10月21日14:18", "2004-10-21"),
    ("发布时间：2019-09-07", "2019-09-07"),
    ("最后更新: 2019-09-07 15:14:21", "2019-09-07"),
    ("来源：新华网 2019-09-07 15:14", "2019-09-07"),
    ("2019年11月25日 16:04:30", "2019-11-25"),
    ("2005-5-7 21:23:57", "2005-05-07"),
    ("[日期：2005-04-27]", "2005-04-27"),
    ("日期:2005年04月27日", "2005-04-27"),
    ("發布時間：2019年11月25日 16:04:30", "2019-11-25"),
    ("時間：2019/11/25 16:04", "2019-11-25"),
    ("更新時間：2019.11.25", "2019-11-25"),
    ("发表于 2005-9-15 11:46:00", "2005-09-15"),
    ("2019年11月25日 星期一", "2019-11-25"),
    ("作者：张三 发布时间：2019-11-25 阅读：1234", "2019-11-25"),
    ("06/02/2022 - 13:48", "2022-02-06"),
])
def test_text_dateline_finds_labelled_lines(line, expected):
    assert text_dateline(line) == expected


@pytest.mark.parametrize("line", [
    "新华社北京11月25日电 2019年11月25日，国务院总理李克强主持召开国务院常务会议，部署进一步做好稳就业工作。",
    "据报道，2004年3月20日至5月7日，来自四川泸州的个体老中医陈建民在四川绝食。",
    "2019年11月25日16时，记者来到现场。",
    "劳伦斯·洛克菲勒出生于1910年5月26日",
    "报名日期为2003年11月1日至2003年11月30日",
    "Copyright © 2004-2019 新华网 版权所有",
    "今天是2022年2月14日 星期一",
    "时间：2005年4月27日 地点：北京大学",
    "(2005-04-27 18:03)",
    "没有日期的一行字",
])
def test_text_dateline_rejects_sentences_and_other_dates(line):
    assert text_dateline(line) is None


# --- the real pages -----------------------------------------------------------------------------


def _truth_day(text: str) -> str | None:
    m = re.match(r"\s*(\d{4})-(\d{1,2})-(\d{1,2})", text)
    return f"{int(m[1]):04d}-{int(m[2]):02d}-{int(m[3]):02d}" if m else None


def test_web_extraction_pages():
    if not (WEB_EXTRACTION / "date").is_dir():
        pytest.skip(f"web-extraction dataset not found at {WEB_EXTRACTION}")
    from embeddings.documents import decode

    right, wrong, missing, unknown_dated, report = 0, 0, 0, 0, []
    for truth_file in sorted((WEB_EXTRACTION / "date").glob("*.txt")):
        page = WEB_EXTRACTION / "original" / f"{truth_file.stem}.html"
        got = page_date(decode(page.read_bytes()))
        truth = _truth_day(truth_file.read_text(encoding="utf-8"))
        if truth is None:
            unknown_dated += got is not None
        elif got == truth:
            right += 1
        elif got is None:
            missing += 1
        else:
            wrong += 1
            report.append(f"{truth_file.stem}: {got} ≠ {truth}")
    # Measured: 41 right, 1 wrong, 2 missing of 44; 5 of the 18 pages labelled UNKNOWN get a date
    # (each the page's own visible dateline or citation meta, which the hand label left out). The one
    # "wrong" is 05e98007, whose "7/5/2005 9:23:57 PM" the hand label reads day-first; the same
    # site writes "9/17/2004 5:54:13 AM", month first. Missing: a wiki page (revised for a decade)
    # and a blog whose label is the date the page was saved ("2006年12月27日（京港台时间）" in its header).
    assert right + wrong + missing == 44
    assert right >= 41, report
    assert wrong <= 1, report
    assert unknown_dated <= 5
