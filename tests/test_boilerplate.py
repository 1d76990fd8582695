"""The line rules that tell page furniture from news, on lines seen on real pages (tests/pages) and near misses."""

from __future__ import annotations

import pytest

from embeddings.boilerplate import line_rule


@pytest.mark.parametrize("line,rule", [
    ("▲▼警消到場時高姓男子已無生命跡象。（圖／翻攝畫面）", "caption"),
    ("下月將法拍的房子位在萬大路一帶。（圖翻攝自google map）", "caption"),
    ("圖為民眾在台北市南港區一家全聯購買雞蛋。中央社記者張新偉攝 112年2月16日", "caption"),
    ("中央社記者邱俊欽桃園傳真 105年3月19日", "caption"),
    ("雨游黄鹤楼照样开心。城市摄影队 周斌 摄", "caption"),
    ("桃園機場第二航廈昨天凌晨發生夫妻雙雙墜樓事件，警消醫護趕到現場搶救。 記者陳嘉寧", "caption"),
    ("图片均来自网络", "caption"),
    ("(责编：汤诗瑶、丁涛)", "editor"),
    ("(本文来自澎湃新闻，更多原创资讯请下载“澎湃新闻”APP)", "promo"),
    ("本文来源：中国证券报·中证网 作者：王小伟", "attribution"),
    ("转载请注明出处：快科技", "copyright"),
    ("声明：证券时报力求信息真实、准确，文章提及内容仅供参考，不构成实质性投资建议，据此操作风险自担", "disclaimer"),
])
def test_furniture_from_real_pages_is_dropped(line, rule):
    assert line_rule(line) == rule


@pytest.mark.parametrize("line", [
    "图书馆将于下月重新开放，市民可凭身份证入馆。",  # 图 starts a word, not a caption
    "记者从国家卫生健康委获悉，近期将开展专项整治行动。",  # a report that names its reporter
    "他说，这张照片是1989年在北京拍摄的，一直保存至今。",  # a sentence about a photo
    "据记者了解，该项目总投资约12亿元，预计明年底建成投产，届时可新增就业岗位2000个。",
    "声明发布后，公司股价当日下跌逾百分之五，市值蒸发约二十亿元。",
])
def test_news_sentences_near_those_rules_are_kept(line):
    assert line_rule(line) is None
