"""The HTML page reader on pages the tests make: bodies kept whole, page furniture dropped, titles and wrappers."""

from __future__ import annotations

import pytest

from embeddings.documents import read_document
from embeddings.documents.metadata import page_title, strip_site_suffix

NEWS = [
    "据新华社报道，国家统计局今天发布数据，今年前三季度国内生产总值同比增长百分之五点二，增速比上半年加快。",
    "统计局新闻发言人在发布会上表示，消费对经济增长的贡献率继续提高，服务业保持较快恢复势头。",
    "分析人士认为，随着一系列稳增长政策落地见效，四季度经济有望延续回升向好态势，全年目标可以实现。",
    "不过，外部环境依然复杂严峻，部分企业经营仍有困难，需要进一步加大宏观政策调控力度。",
]
MENU = "".join(f'<li><a href="/c{i}.html">{name}</a></li>' for i, name in enumerate(
    ["首页", "国内", "国际", "财经", "科技", "体育", "娱乐", "汽车", "房产", "教育"]))
RELATED = "".join(f'<li><a href="/n{i}.html">{t}</a></li>' for i, t in enumerate(
    ["前三季度全国居民人均可支配收入增长", "九月份社会消费品零售总额公布", "国务院常务会议部署稳经济举措"]))


def page(body: str, title: str = "前三季度GDP同比增长5.2%_财经频道_示例新闻网", head: str = "") -> bytes:
    return f"""<!DOCTYPE html><html><head><meta charset="utf-8"><title>{title}</title>{head}</head><body>
<div id="nav"><ul>{MENU}</ul></div>
<div class="main"><h1>前三季度GDP同比增长5.2%</h1>
<div class="info">2023年10月18日 10:02 来源：新华社</div>
<div class="article">{body}</div>
<div class="related"><h3>相关新闻</h3><ul>{RELATED}</ul></div></div>
<div id="footer"><p>京ICP证030173号 违法和不良信息举报电话：010-12345678</p>
<p>Copyright © 2023 示例新闻网 版权所有</p></div></body></html>""".encode("utf-8")


def read(data: bytes, name: str = "page.html"):
    docs, _ = read_document(data, name)
    return docs[0]


def test_the_article_is_kept_and_the_page_furniture_is_not():
    doc = read(page("".join(f"<p>{p}</p>" for p in NEWS)))
    texts = [p.text for p in doc.paragraphs]
    assert texts == NEWS
    assert doc.title == "前三季度GDP同比增长5.2%" and doc.source == "新华社"  # the outlet the story came from
    kept = "\n".join(texts)
    assert "ICP" not in kept and "版权所有" not in kept and "相关新闻" not in kept and "首页" not in kept


def test_a_body_of_br_separated_lines_keeps_its_paragraphs():
    doc = read(page('<div class="news_txt">' + "<br><br>".join(NEWS) + "</div>"))
    assert [p.text for p in doc.paragraphs] == NEWS


def test_a_programme_in_a_table_is_article_text():
    rows = [("8:30－8:50", "开幕式"), ("8:50－10:00", "主题报告"), ("10:20－12:00", "分组讨论"), ("14:00－16:00", "圆桌论坛")]
    table = "<table>" + "".join(f"<tr><td>{a}</td><td>{b}</td></tr>" for a, b in rows) + "</table>"
    doc = read(page(f"<p>{NEWS[0]}</p><p>会议议程如下：</p>{table}<p>{NEWS[1]}</p>"))
    kept = "\n".join(p.text for p in doc.paragraphs)
    assert all(a in kept and b in kept for a, b in rows)


def test_a_page_saved_inside_a_crawlers_element_is_read_with_its_url_and_title():
    inner = page("".join(f"<p>{p}</p>" for p in NEWS)).decode("utf-8")
    wrapped = ('<text id="http://finance.example.com/2023/1018/12.html" title="前三季度GDP同比增长5.2%_示例新闻网"'
               ' encoding="utf-8">\n' + inner + "\n</text>")
    doc = read(wrapped.encode("utf-8"))
    assert doc.url == "http://finance.example.com/2023/1018/12.html"
    assert [p.text for p in doc.paragraphs] == NEWS


@pytest.mark.parametrize("title,site,expected", [
    ("黄仁勋访华_新浪科技_新浪网", None, ("黄仁勋访华", "新浪网")),
    ("美国批准H200出口 - 新华网", None, ("美国批准H200出口", "新华网")),
    ("中国海关不准H200入境_科技湃_澎湃新闻-The Paper", None, "中国海关不准H200入境"),
    ('"双减"一周年：课后服务怎样了_央广网', None, ('"双减"一周年：课后服务怎样了', "央广网")),  # quotes never cut a title
    ("北京-上海高铁通车", None, ("北京-上海高铁通车", None)),  # a hyphen inside the headline
    ("H-1B签证新规", None, ("H-1B签证新规", None)),
    ("台積電擴大先進封裝產能 | 聯合新聞網", None, ("台積電擴大先進封裝產能", "聯合新聞網")),
    ("黄金周出游人次创新高 | 示例", "示例", ("黄金周出游人次创新高", "示例")),  # the site's own name
])
def test_site_suffixes_are_cut_by_a_general_rule(title, site, expected):
    got = strip_site_suffix(title, site)
    assert (got[0] if isinstance(expected, str) else got) == expected


def test_the_h1_is_the_title_when_the_title_is_the_h1_and_a_suffix():
    assert page_title(None, "前三季度GDP同比增长5.2% 示例频道 示例新闻网", "前三季度GDP同比增长5.2%", None, None)[0] \
        == "前三季度GDP同比增长5.2%"
    assert page_title("og 标题为准的新闻", "别的标题_示例网", "别的标题", None, None)[0] == "og 标题为准的新闻"


@pytest.mark.parametrize("title,expected", [
    ("四年前中500万现穷困潦倒 一夜暴富后如何经营_", "四年前中500万现穷困潦倒 一夜暴富后如何经营"),
    ("民间资本成投资活动的主体 民间资本路在何方-搜狐财经", "民间资本成投资活动的主体 民间资本路在何方"),
    ("信報即時新聞 -- 官媒:央企重組不設時間表", "官媒:央企重組不設時間表"),  # the site before the headline
])
def test_real_titles_lose_their_site_whichever_side_it_stands(title, expected):
    assert strip_site_suffix(title)[0] == expected


def test_a_title_attribute_cut_at_an_unescaped_quote_gives_way_to_the_whole_title():
    og = "奖金711万元！"  # <meta content="奖金711万元！"中国诺贝尔奖"…"> as the page wrote it
    head = '奖金711万元！"中国诺贝尔奖"首位获奖女性啥来头?_网易新闻'
    assert page_title(og, head, None, None, None)[0] == '奖金711万元！"中国诺贝尔奖"首位获奖女性啥来头?'


def test_a_plain_text_whose_first_line_is_news_keeps_it_quotable():
    first = "证监会昨天公布了3起会同公安部门查处的，有关媒体编造、传播、炒作不实传言的案件。"
    second = "证监会表示，近期以来，中国证券市场波动较大，一些不法分子乘机散布谣言。"
    doc = read(f"{first}\n{second}\n".encode("gbk"), "csrc.txt")
    assert doc.title == first and [p.text for p in doc.paragraphs] == [first, second]


def test_captions_go_by_their_markup_or_their_place_under_a_picture():
    body = (f"<p>{NEWS[0]}</p><div class='image'><img src='a.jpg'><p class='caption'>梁振英同时遭到议员质问。</p></div>"
            f"<p>{NEWS[1]}</p><p><img src='b.jpg'></p><p>科研人员正在进行载荷设备测试</p>"
            f"<p>{NEWS[2]}</p><p><img src='c.jpg'></p><p>西方世界的一些反华分子正试图串联起来。</p><p>{NEWS[3]}</p>")
    texts = [p.text for p in read(page(body)).paragraphs]
    assert "梁振英同时遭到议员质问。" not in texts and "科研人员正在进行载荷设备测试" not in texts
    assert "西方世界的一些反华分子正试图串联起来。" in texts  # a sentence under a picture may be the story
    assert all(n in texts for n in NEWS)


def test_without_an_outlet_under_the_headline_the_site_is_the_source():
    doc = read(page("".join(f"<p>{p}</p>" for p in NEWS)).replace("来源：新华社".encode(), b""))
    assert doc.source == "示例新闻网"


def test_a_page_whose_whole_body_is_one_aspnet_form_keeps_its_article():
    inner = page("".join(f"<p>{p}</p>" for p in NEWS)).decode("utf-8")
    aspx = inner.replace("<body>", '<body><form name="aspnetForm" method="post" action="./news.aspx?id=1" id="aspnetForm">'
                         '<input type="hidden" name="__VIEWSTATE" value="/wEPDwUKLTk1" />', 1).replace("</body>", "</form></body>")
    assert [p.text for p in read(aspx.encode("utf-8")).paragraphs] == NEWS
