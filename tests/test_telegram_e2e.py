"""End to end: the real bot process (python-telegram-bot, polling and webhook) against an emulated Bot API."""

from __future__ import annotations

import html
import json
import re
import shutil
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from embeddings.documents import load_corpus
from embeddings.textnorm import to_traditional
from tests.botapi import BotProcess, User, free_port, node_missing_reason
from tests.conftest import ROOT, SEEDS

pytestmark = [pytest.mark.e2e, pytest.mark.slow,
              pytest.mark.skipif(node_missing_reason() is not None, reason=node_missing_reason() or "")]

TOKEN = "123456:AAE-test_token_for_the_emulator_0123456"
ADMIN = 4242

NEW_ARTICLE = """---
title: 示例市开通首条磁悬浮地铁线路
date: 2026-02-03
url: https://example.org/news/maglev
---

示例市首条磁悬浮地铁线路于2026年2月3日正式开通运营，线路全长42公里，共设12座车站。

市交通局表示，新线路高峰时段每4分钟发出一班列车。
"""


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    work = tmp_path_factory.mktemp("bot")
    shutil.copytree(SEEDS, work / "seeds")
    return work


@pytest.fixture(scope="module")
def bot(emulator, workdir):
    proc = BotProcess(emulator, workdir, workdir / "seeds", TOKEN, admins=f"{ADMIN}, 99",
                      env={"QUOTEBOT_RATE_LIMIT": "5/10"})
    yield proc
    code = proc.stop()
    assert code == 0, proc.logs()[-2000:]
    assert TOKEN not in proc.logs(), "the token must never reach the logs"


def user(emulator, **kw) -> User:
    return User(emulator, TOKEN, **kw)


def quotes(reply) -> list[str]:
    """The quotes of a reply, as the reader sees them (set apart in blockquotes)."""
    return [html.unescape(re.sub(r"<[^>]+>", "", q)) for q in re.findall(r"<blockquote>(.*?)</blockquote>", reply.html, re.S)]


def paragraphs(seeds) -> list[str]:
    return [p.text for d in load_corpus(seeds).documents for p in d.paragraphs]


def test_a_question_is_answered_with_a_verbatim_quote_and_its_source(bot, emulator, workdir):
    u = user(emulator)
    u.say("H200芯片的单价是多少？")
    [reply] = u.replies(1)
    assert "27000美元" in reply.text
    found = quotes(reply)
    assert found and all(any(q in p for p in paragraphs(workdir / "seeds")) for q in found)
    assert "dw.com · 2026-01-14 · 消息人士：中国海关不允许英伟达H200芯片入境" in reply.text  # outlet · date · title
    assert '<a href="https://p.dw.com/p/56no9">' in reply.html
    assert "<b>27000美元</b>" in reply.html  # the words that answer, in bold inside the quote
    # the quote is its whole paragraph: no button to open it again, only the feedback row
    assert [label for label, _ in reply.buttons] == ["👍", "👎", "引用有误"]
    assert "可信度" not in reply.text and "直接回答" not in reply.text


def test_traditional_question_gets_traditional_wording(bot, emulator):
    u = user(emulator, language_code="zh-hant")
    u.say("輝達的H200晶片被中國海關擋下了嗎？")
    [reply] = u.replies(1)
    assert quotes(reply) and "較早" in reply.text and "较早" not in reply.text
    assert [label for label, _ in reply.buttons[-3:]] == ["👍", "👎", "引用有誤"]


def test_out_of_corpus_question_is_abstained(bot, emulator):
    u = user(emulator)
    u.say("今天北京天气怎么样？")
    [reply] = u.replies(1)
    assert reply.text.startswith("资料中没有")  # the refusal names what the articles lack
    assert not quotes(reply)
    lines = [line for line in reply.text.splitlines() if line.strip()]
    assert len(lines) <= 4 and all(len(line) <= 80 for line in lines)  # one line, then at most two one-line items
    assert [label for label, _ in reply.buttons] == ["可能相关 1", "可能相关 2", "👍", "👎"][:len(reply.buttons)]


def test_button_shows_the_whole_paragraph_with_the_quote_highlighted(bot, emulator, workdir):
    u = user(emulator)
    u.say("黄仁勋什么时候到上海？")  # quoted from a long paragraph: its [1] opens the whole of it
    [answer] = u.replies(1)
    paragraph_buttons = [data for label, data in answer.buttons if re.fullmatch(r"\[\d\]", label)]
    assert paragraph_buttons and len(answer.buttons) == len(paragraph_buttons) + 3  # one row of [n], then feedback
    u.press(answer, paragraph_buttons[0])
    [shown] = u.replies(1)
    quoted = quotes(answer)[0]
    highlighted = re.findall(r"<b>(.*?)</b>", shown.html, flags=re.S)
    assert any(quoted in h for h in highlighted) or quoted in shown.text
    paragraph = [p for p in paragraphs(workdir / "seeds") if quoted in p][0]
    assert paragraph in shown.text.replace("\n\n", "")


def test_stale_button_is_answered_politely(bot, emulator):
    u = user(emulator)
    u.say("H200芯片的单价是多少？")
    [answer] = u.replies(1)
    u.press(answer, "p|00000000|3|0|5|abcdef")
    [reply] = u.replies(1)
    assert "请重新提问" in reply.text


def test_sources_lists_every_document(bot, emulator):
    u = user(emulator)
    u.command("/sources")
    replies = u.replies(1)
    text = "".join(r.text for r in replies)
    for doc in load_corpus(SEEDS).documents:
        assert doc.title in text
    assert "2026-01-14" in text


def test_start_greets_with_what_the_bot_knows_and_examples_it_can_answer(bot, emulator):
    u = user(emulator)
    u.command("/start")
    [reply] = u.replies(1, timeout=60)
    assert reply.text.startswith("你好") and "篇文章" in reply.text and "2025-07-19" in reply.text
    assert "/reindex" not in reply.text
    examples = re.findall(r"· (.+？)", reply.text)
    assert len(examples) == 3 and not any(e[:-1] in d.title for e in examples for d in load_corpus(SEEDS).documents)
    for example in examples:  # each one is answered
        u.say(example)
        [answer] = u.replies(1)
        assert quotes(answer), example


def test_start_speaks_the_users_script(bot, emulator):
    u = user(emulator, language_code="zh-hant")
    u.command("/start")
    [reply] = u.replies(1, timeout=60)
    examples = re.findall(r"· (.+？)", reply.text)
    assert reply.text.startswith("你好") and "收錄" in reply.text and len(examples) == 3
    assert all(to_traditional(e) == e for e in examples)


def test_help_shows_admin_commands_only_to_admins(bot, emulator):
    u = user(emulator)
    u.command("/help")
    [reply] = u.replies(1)
    assert "/sources" in reply.text and "/reindex" not in reply.text and "/why" not in reply.text
    admin = user(emulator, user_id=ADMIN)
    admin.command("/help")
    [reply] = admin.replies(1)
    assert "/reindex" in reply.text and "/why" in reply.text


def test_reindex_is_refused_for_non_admins(bot, emulator, workdir):
    u = user(emulator)
    u.command("/reindex")
    [reply] = u.replies(1)
    assert "只有管理员" in reply.text
    u.command("/stats")
    [reply] = u.replies(1)
    assert "只有管理员" in reply.text


def test_admin_reindex_picks_up_a_new_file(bot, emulator, workdir):
    (workdir / "seeds" / "900_new_article.md").write_text(NEW_ARTICLE, encoding="utf-8")
    admin = user(emulator, user_id=ADMIN)
    admin.command("/reindex")
    replies = admin.replies(2, timeout=120)
    report = "".join(r.text for r in replies)
    assert "新增 1" in report and "900_new_article.md" in report
    admin.say("示例市首条磁悬浮地铁线路全长多少公里？")
    [answer] = admin.replies(1)
    assert "42公里" in answer.text and "示例市开通首条磁悬浮地铁线路" in answer.text
    admin.command("/stats")
    [stats] = admin.replies(1)
    assert re.search(r"文章 6 篇", stats.text) and "p95" in stats.text


def test_group_answers_only_when_addressed(bot, emulator):
    g = user(emulator, chat_type="group")
    g.say("H200芯片的单价是多少？")  # group talk, not for the bot
    assert g.replies(1, timeout=3) == []
    g.command("/ask H200芯片的单价是多少？")
    [reply] = g.replies(1)
    assert "27000美元" in reply.text
    g.say("@TestNameBot 国家网信办在哪一天约谈了英伟达？")
    [reply] = g.replies(1)
    assert quotes(reply)
    g.reply_to_bot("H200芯片的单价是多少？", reply.message_id)
    [reply] = g.replies(1)
    assert "27000美元" in reply.text


def test_bad_questions_get_a_clear_message(bot, emulator):
    u = user(emulator)
    u.say("问" * 501)
    [reply] = u.replies(1)
    assert "问题太长了" in reply.text and "500" in reply.text
    u.command("/ask")
    [reply] = u.replies(1)
    assert "请输入一个问题" in reply.text
    u.say("<b>粗体</b> & <a href='x'>链接</a> 是什么？")
    [reply] = u.replies(1)
    assert "<a href='x'>" not in reply.html and "<b>粗体</b>" not in reply.html


def test_per_user_limit_replies_politely(bot, emulator):
    u = user(emulator)
    for _ in range(7):
        u.say("H200芯片的单价是多少？")
    replies = u.replies(7, timeout=60, settle=1.0)
    assert len(replies) == 7
    assert sum("提问太频繁了" in r.text for r in replies) == 2
    assert sum("27000美元" in r.text for r in replies) == 5


def test_a_burst_from_fifty_chats_is_all_answered(bot, emulator):
    users = [user(emulator) for _ in range(50)]
    questions = ["H200芯片的单价是多少？", "国家网信办在哪一天约谈了英伟达？", "今天北京天气怎么样？"]
    t0 = time.monotonic()
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda iu: iu[1].say(questions[iu[0] % 3]), enumerate(users)))
    with ThreadPoolExecutor(8) as pool:
        got = list(pool.map(lambda u: u.replies(1, timeout=120, settle=0.5), users))
    elapsed = time.monotonic() - t0
    assert [len(r) for r in got] == [1] * 50, "every chat gets exactly one reply"
    for i, [reply] in enumerate(got):
        if i % 3 == 2:
            assert reply.text.startswith("资料中没有")
        else:
            assert quotes(reply)
    print(f"50 chats answered in {elapsed:.1f} s")


def test_webhook_mode(emulator, tmp_path):
    shutil.copytree(SEEDS, tmp_path / "seeds")
    token = "654321:AAE-webhook_token_for_the_emulator_98765"
    port = free_port()
    url = f"http://127.0.0.1:{port}/quotebot-hook"
    proc = BotProcess(emulator, tmp_path, tmp_path / "seeds", token,
                      extra_args=("--webhook-url", url, "--listen", "127.0.0.1", "--port", str(port)))
    try:
        u = User(emulator, token)
        u.say("H200芯片的单价是多少？")
        [reply] = u.replies(1)
        assert "27000美元" in reply.text
    finally:
        assert proc.stop() == 0
    assert token not in proc.logs()


def test_feedback_is_counted_and_an_admin_sees_why_an_answer_was_given(bot, emulator):
    u = user(emulator)
    u.say("国家网信办在哪一天约谈了英伟达？")
    [answer] = u.replies(1)
    data = dict((label, d) for label, d in answer.buttons)
    answer_id = data["👎"].split("|")[1]
    u.press(answer, data["👎"])
    u.press(answer, data["引用有误"])
    admin = user(emulator, user_id=ADMIN)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:  # the presses are handled asynchronously
        admin.command("/stats")
        stats = "".join(r.text for r in admin.replies(1))
        if answer_id in stats:
            break
    assert "👎" in stats and answer_id in stats and "国家网信办在哪一天约谈了英伟达" in stats
    admin.command(f"/why {answer_id}")
    why = "".join(r.text for r in admin.replies(1))
    assert "国家网信办在哪一天约谈了英伟达？" in why and "candidates" in why and "wrong 1" in why
    assert quotes(answer)[0][:20] in why
    u.command(f"/why {answer_id}")  # not for everyone
    [reply] = u.replies(1)
    assert "只有管理员" in reply.text
    admin.command("/why 00000000")
    [reply] = admin.replies(1)
    assert "没有编号为 00000000" in reply.text


def test_follow_up_questions_take_the_topic_of_the_question_before(bot, emulator):
    conversations = json.loads((ROOT / "tests" / "data" / "followups.json").read_text(encoding="utf-8"))["conversations"]
    assert len(conversations) >= 30
    right = understood = 0
    for c in conversations:
        u = user(emulator)
        u.say(c["first"])
        u.replies(1)
        u.say(c["second"])
        [reply] = u.replies(1)
        said = re.search(r"理解为：(.+？)", reply.text)
        understood += (said.group(1) if said else c["second"]) == c["means"]
        shown = quotes(reply)
        right += bool(shown) and all(any(m in q for q in shown for m in group) for group in c["must"])
    print(f"follow-ups: {understood}/{len(conversations)} understood, {right} answered right")
    assert understood >= 0.9 * len(conversations)  # measured: 30 of 30
    assert right >= 0.6 * len(conversations)  # measured: 20 of 30; the rest are misread as standalone questions too
    alone = user(emulator)
    alone.say("那H20呢？")  # nothing before: read as it stands
    [reply] = alone.replies(1)
    assert "理解为" not in reply.text


def test_group_members_keep_their_own_topic(bot, emulator):
    a = user(emulator, chat_type="group")
    b = User(emulator, TOKEN, chat_id=a.chat_id, chat_type="group")
    a.command("/ask 黄仁勋什么时候到上海？")
    a.replies(1)
    b.command("/ask H200现在能进入中国吗？")
    b.replies(1)
    a.command("/ask 他为什么去台湾？")
    [reply] = a.replies(1)
    assert "理解为：黄仁勋为什么去台湾？" in reply.text


def test_every_citation_shows_outlet_date_and_a_way_to_open_the_source(bot, emulator):
    u = user(emulator)
    checked = 0
    for question in ("H200现在能进入中国吗？", "H200芯片的单价是多少？", "网信办什么时候约谈了英伟达？", "H20和H200有什么区别？"):
        u.say(question)
        [reply] = u.replies(1)
        buttons = {label for label, _ in reply.buttons}
        for line in re.findall(r"</blockquote>\[(\d)\] ([^\n]+)", reply.html):
            n, rest = line
            parts = rest.split(" · ")
            assert len(parts) >= 3 and parts[0] and re.fullmatch(r"\d{4}-\d{2}-\d{2}|日期不详", parts[1]), rest
            assert "<a href=" in rest or f"[{n}]" in buttons, (question, rest)  # a link, or the paragraph's button
            checked += 1
    assert checked >= 6
