"""The chat under abuse and load: hostile messages, access control, secrets, a reindex mid-traffic, a soak."""

from __future__ import annotations

import fcntl
import html
import os
import re
import shutil
import statistics
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from bot.chat import percentile
from tests.botapi import BotProcess, User, node_missing_reason, sent_messages
from tests.conftest import SEEDS

pytestmark = [pytest.mark.e2e, pytest.mark.slow,
              pytest.mark.skipif(node_missing_reason() is not None, reason=node_missing_reason() or "")]

TOKEN = "777001:AAH-reliability_token_for_the_emulator_42"
ADMIN = 5151
ALLOWED_TAGS = {"b", "i", "a", "code", "blockquote"}
# A seed whose own text looks like markup: quotes from it must be escaped like user text.
HOSTILE_SEED = """标记<b>测试</b> & <script>alert(1)</script>
2026-02-10

测试公司在2026年2月10日宣布，其<b>旗舰</b>产品的售价为<i>999元</i> & 附送<a href="javascript:alert(1)">赠品</a>。
"""
HOSTILE_QUESTIONS = [
    "<b>H200</b>芯片的单价是多少？",
    "<a href=\"https://evil.example\">点我</a> H200 单价 & 订单？",
    "*H200* _芯片_ `单价` [链接](http://x) 是多少？",
    "&lt;script&gt; &amp; H200芯片 <script>alert(1)</script>",
    "😀😀😀🇨🇳",
    "？？？！！！……",
    "\u202e\u200f反向文字H200\u0000",
    "测试公司旗舰产品的售价是多少？",
]
SOAK_QUESTIONS = int(os.environ.get("QUOTEBOT_SOAK_QUESTIONS", "200"))


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    work = tmp_path_factory.mktemp("bot")
    shutil.copytree(SEEDS, work / "seeds")
    (work / "seeds" / "800_markup.txt").write_text(HOSTILE_SEED, encoding="utf-8")
    return work


@pytest.fixture(scope="module")
def bot(emulator, workdir):
    # A slow reindex (pauses between steps) so questions can arrive while one runs.
    proc = BotProcess(emulator, workdir, workdir / "seeds", TOKEN, admins=str(ADMIN),
                      env={"QUOTEBOT_RATE_LIMIT": "5/10", "QUOTEBOT_DEBUG_PAUSE": "0.25"})
    yield proc
    assert proc.stop() == 0
    logs = proc.logs()
    assert TOKEN not in logs and TOKEN.split(":")[1] not in logs, "the token must never reach the logs"


def user(emulator, **kw) -> User:
    return User(emulator, TOKEN, **kw)


def test_hostile_questions_get_one_polite_reply_each(bot, emulator, reliability):
    for q in HOSTILE_QUESTIONS + ["问" * 4096]:
        u = user(emulator)
        u.say(q)
        replies = u.replies(1, timeout=30, settle=0.3)
        assert len(replies) == 1, q
        assert "抱歉，出了点问题" not in replies[0].text, q
    reliability("questions with HTML/Markdown, entities, emoji or punctuation only, RTL/NUL, 4096 characters",
                len(HOSTILE_QUESTIONS) + 1, "exactly one reply each (answer, abstention or 'too long'), no error")


def test_markup_in_a_source_is_quoted_escaped(bot, emulator):
    u = user(emulator)
    u.say("测试公司旗舰产品的售价是多少？")
    [reply] = u.replies(1)
    assert "<b>旗舰</b>产品的售价为<i>999元</i>" in reply.text  # what the user sees is the source's text
    assert "&lt;b&gt;旗舰&lt;/b&gt;" in reply.html  # ... because it was escaped, not rendered
    assert not any(h.startswith("javascript:") for h in re.findall(r'href="([^"]*)"', reply.html))


def test_commands_with_arguments_in_either_script(bot, emulator):
    u = user(emulator)
    u.command("/ask 輝達的H200晶片被中國海關擋下了嗎？")
    [reply] = u.replies(1)
    assert "<blockquote>" in reply.html and "較早" in reply.text and "较早" not in reply.text
    u.command("/ask@TestNameBot H200芯片的单价是多少？")
    [reply] = u.replies(1)
    assert "27000美元" in reply.text
    u.command("/說明")
    [reply] = u.replies(1)
    assert "/help" in reply.text


def test_stickers_photos_and_channel_posts(bot, emulator, reliability):
    u = user(emulator)
    u.sticker()
    u.photo()
    replies = u.replies(2, timeout=20, settle=0.5)
    assert len(replies) == 2 and all("只读文字问题" in r.text for r in replies)
    g = user(emulator, chat_type="group")
    g.sticker()
    assert g.replies(1, timeout=2) == []  # in a group, a sticker is not for the bot
    c = user(emulator, chat_type="channel")
    c.channel_post("H200芯片的单价是多少？")
    assert c.replies(1, timeout=2) == []
    reliability("stickers and photos (private / group), channel posts", 4,
                "private: one polite 'text only' reply each; group and channel: ignored")


def test_an_edited_question_is_answered_again(bot, emulator):
    u = user(emulator)
    u.say("H200芯片的单价？")
    [first] = u.replies(1)
    u.edit(123, "国家网信办在哪一天约谈了英伟达？")
    [second] = u.replies(1)
    assert "「" in second.text and second.text != first.text


def test_admin_commands_refuse_non_admins_everywhere(bot, emulator, reliability):
    cases = 0
    for kind in ("private", "group"):
        u = user(emulator, chat_type=kind)
        for cmd in ("/reindex", "/stats", "/reindex@TestNameBot"):
            u.command(cmd)
            [reply] = u.replies(1)
            assert "只有管理员" in reply.text, (kind, cmd)
            cases += 1
        u.edit(77, "/reindex")
        [reply] = u.replies(1)
        assert "只有管理员" in reply.text
        cases += 1
    # an admin's id in another user's chat does not help: the sender is what counts
    spoof = user(emulator, chat_id=ADMIN)
    spoof.command("/stats")
    [reply] = spoof.replies(1)
    assert "只有管理员" in reply.text
    reliability("/reindex and /stats from non-admins (private, group, /cmd@bot, edited message, admin's chat id)",
                cases + 1, "refused politely every time; index untouched")


def test_answers_continue_during_a_reindex_and_after_a_failed_one(bot, emulator, workdir, reliability):
    admin = user(emulator, user_id=ADMIN)
    (workdir / "seeds" / "801_extra.txt").write_text("補充報導\n2026-02-11\n某港口在2026年2月11日的吞吐量創下新高，達到三百萬標準箱。\n",
                                                   encoding="utf-8")
    admin.command("/reindex")
    [started] = admin.replies(1)
    assert "正在重新索引" in started.text
    u = user(emulator)
    t0 = time.monotonic()
    u.say("H200芯片的单价是多少？")
    [during] = u.replies(1)
    answered_in = time.monotonic() - t0
    report = admin.replies(1, timeout=120)
    assert report and "新增 1" in report[0].text
    assert "27000美元" in during.text and answered_in < 3.0, answered_in
    # A reindex that fails (another process holds the index lock) is reported; answers go on.
    (workdir / "seeds" / "802_more.txt").write_text("再補充\n2026-02-12\n另一條新聞。\n", encoding="utf-8")
    with open(workdir / "index" / ".lock", "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        admin.command("/reindex")
        replies = admin.replies(2, timeout=60)
    assert "重新索引失败" in replies[-1].text and "Traceback" not in replies[-1].text
    u.say("某港口的吞吐量达到多少？")
    [after] = u.replies(1)
    assert "三百萬標準箱" in after.text
    reliability("questions while a reindex runs; a reindex that fails (index locked by another process)", 2,
                f"answered during the reindex in {answered_in:.2f} s; failure reported in one line, old index kept answering")


def test_no_user_or_source_text_reaches_telegram_unescaped(bot, emulator, reliability):
    """Every HTML message the bot sent (its own replies to hostile text here, and those of any test before)
    has only our tags, well formed."""
    u = user(emulator)
    for q in HOSTILE_QUESTIONS:
        u.say(q)
        u.replies(1, timeout=30)
    u.command("/sources")
    u.replies(1)
    messages = [m for m in sent_messages(emulator, TOKEN)]
    assert len(messages) > len(HOSTILE_QUESTIONS)
    checked = 0
    for m in messages:
        text = m.get("text", "")
        if m.get("parse_mode") != "HTML":
            continue  # plain text: Telegram shows it as is
        checked += 1
        opened = []
        for tag in re.findall(r"<(/?)([a-zA-Z]+)[^>]*>", text):
            closing, name = tag
            assert name in ALLOWED_TAGS, (name, text)
            if closing:
                assert opened and opened.pop() == name, text
            else:
                opened.append(name)
        assert not opened, text
        assert "<script" not in text.lower()
        for href in re.findall(r'<a href="([^"]*)"', text):
            assert html.unescape(href).startswith(("http://", "https://"))
        assert not re.search(r"&(?!(lt|gt|amp|quot|#x27|#\d+);)", text), text
    reliability("audit of every HTML message sent during the hostile-input and access tests", checked,
                "only <b>, <i>, <a href=http(s)>, <code>; balanced; every other < > & escaped")


def test_soak_every_question_gets_exactly_one_reply(bot, emulator, workdir, reliability):
    admin = user(emulator, user_id=ADMIN)
    users = [user(emulator) for _ in range(50)]
    questions = ["H200芯片的单价是多少？", "国家网信办在哪一天约谈了英伟达？", "今天北京天气怎么样？",
                 "輝達的H200晶片被中國海關擋下了嗎？", "测试公司旗舰产品的售价是多少？"]
    per_user = max(1, SOAK_QUESTIONS // len(users))
    # Five users ask faster than the limit allows (8 in a burst): the extra ones get a polite reply.
    plan = [(u, per_user + (4 if i < 5 else 0)) for i, u in enumerate(users)]
    sent: dict[int, list[float]] = {u.chat_id: [] for u in users}

    def run(item):
        u, n = item
        for k in range(n):
            sent[u.chat_id].append(time.time())
            u.say(questions[(u.user_id + k) % len(questions)])
            if k < per_user - 1:
                time.sleep(0.6)

    (workdir / "seeds" / "803_soak.txt").write_text("浸泡測試\n2026-02-13\n浸泡測試期間新增的一段文字。\n", encoding="utf-8")
    t0 = time.monotonic()
    with ThreadPoolExecutor(16) as pool:
        futures = [pool.submit(run, item) for item in plan]
        time.sleep(1.0)
        admin.command("/reindex")  # in the middle of the traffic
        for f in futures:
            f.result()
    total = sum(n for _, n in plan)
    with ThreadPoolExecutor(16) as pool:
        got = list(pool.map(lambda item: item[0].replies(item[1], timeout=180, settle=1.0), plan))
    elapsed = time.monotonic() - t0
    counts = [len(r) for r in got]
    assert counts == [n for _, n in plan], "every question gets exactly one reply, none lost or duplicated"
    limited_per_user = [sum("提问太频繁了" in r.text for r in replies) for replies in got]
    limited = sum(limited_per_user)
    errors = sum("出了点问题" in r.text for replies in got for r in replies)
    assert errors == 0
    # Fast users (8 questions in ~2 s) hear about the limit; how often depends on when the bot
    # dequeues each update, at most 3 times each. Users within the limit never do.
    assert all(1 <= n <= 3 for n in limited_per_user[:5]) and not any(limited_per_user[5:]), limited_per_user
    latencies = []
    for u, _ in plan:
        latencies += reply_latencies(emulator, u.chat_id, sent[u.chat_id])
    p50, p95 = statistics.median(latencies), percentile(sorted(latencies), 0.95)
    reports = admin.replies(2, timeout=120)
    assert any("803_soak.txt" in r.text for r in reports), [r.text for r in reports]
    admin.command("/stats")
    [stats] = admin.replies(1)
    engine_ms = re.search(r"p50 (\d+) ms · p95 (\d+) ms（其中计算 p50 (\d+) ms · p95 (\d+) ms）", stats.text)
    assert engine_ms, stats.text
    print(f"soak: {total} questions from {len(users)} users, reindex in the middle; {elapsed:.1f} s; "
          f"reply p50 {p50 * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms; rate-limited {limited}")
    reliability(f"soak: {total} questions from {len(users)} users in ~{per_user * 0.6:.0f} s, /reindex mid-traffic",
                total, f"exactly one reply each; {limited} polite rate-limit replies; 0 errors; "
                f"reply p50 {p50 * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms, of which in the bot p50 {engine_ms[1]} ms, "
                f"p95 {engine_ms[2]} ms (answering alone p50 {engine_ms[3]} ms, p95 {engine_ms[4]} ms, the rest "
                f"waiting for one of the two answer threads); the remainder is the outgoing queue: the rate "
                f"limiter holds the bot to Telegram's 30 messages/s",
                p50_ms=round(p50 * 1000), p95_ms=round(p95 * 1000))


def reply_latencies(emulator, chat_id: int, sent_at: list[float]) -> list[float]:
    """Pair the k-th question of a chat with the k-th reply the bot sent there (emulator timestamps)."""
    history = emulator.post("/getUpdatesHistory", {"token": TOKEN}).get("result") or []
    replies = sorted(h["time"] / 1000 for h in history
                     if str(h.get("message", {}).get("chat_id")) == str(chat_id))
    return [max(0.0, r - s) for s, r in zip(sorted(sent_at), replies)]
