"""End to end: the real bot process (python-telegram-bot, polling and webhook) against an emulated Bot API."""

from __future__ import annotations

import re
import shutil
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from embeddings.documents import load_corpus
from tests.botapi import BotProcess, User, free_port, node_missing_reason
from tests.conftest import SEEDS

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


def quotes(text: str) -> list[str]:
    return re.findall(r"「(.+?)」\[\d+\]", text, flags=re.S)


def paragraphs(seeds) -> list[str]:
    return [p.text for d in load_corpus(seeds).documents for p in d.paragraphs]


def test_a_question_is_answered_with_a_verbatim_quote_and_its_source(bot, emulator, workdir):
    u = user(emulator)
    u.say("H200芯片的单价是多少？")
    [reply] = u.replies(1)
    assert "27000美元" in reply.text
    found = quotes(reply.text)
    assert found and all(any(q in p for p in paragraphs(workdir / "seeds")) for q in found)
    assert "来源" in reply.text and "消息人士：中国海关不允许英伟达H200芯片入境" in reply.text
    assert '<a href="https://p.dw.com/p/56no9">' in reply.html
    assert reply.buttons and reply.buttons[0][1].startswith("p|")


def test_traditional_question_gets_traditional_wording(bot, emulator):
    u = user(emulator, language_code="zh-hant")
    u.say("輝達的H200晶片被中國海關擋下了嗎？")
    [reply] = u.replies(1)
    assert quotes(reply.text) and "來源" in reply.text


def test_out_of_corpus_question_is_abstained(bot, emulator):
    u = user(emulator)
    u.say("今天北京天气怎么样？")
    [reply] = u.replies(1)
    assert reply.text.startswith("资料中没有")  # the refusal names what the articles lack
    assert not quotes(reply.text)


def test_button_shows_the_whole_paragraph_with_the_quote_highlighted(bot, emulator, workdir):
    u = user(emulator)
    u.say("国家网信办在哪一天约谈了英伟达？")
    [answer] = u.replies(1)
    assert answer.buttons
    u.press(answer, answer.buttons[0][1])
    [shown] = u.replies(1)
    quoted = quotes(answer.text)[0]
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


def test_help_describes_the_corpus_with_examples_it_can_answer(bot, emulator):
    u = user(emulator)
    u.command("/start")
    [reply] = u.replies(1, timeout=60)
    assert "篇文章" in reply.text and "2025-07-19" in reply.text
    examples = re.findall(r"· (.+？)", reply.text)
    assert len(examples) == 3
    u.say(examples[0])
    [answer] = u.replies(1)
    assert quotes(answer.text)


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
    assert quotes(reply.text)
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
            assert quotes(reply.text)
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
