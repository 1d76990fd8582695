"""The bot's own words in both scripts and in English: every sentence it writes that is not a quote."""

from __future__ import annotations

from bot.query.english import is_english
from embeddings.textnorm import to_simplified

# The bot's own sentences, in the script of the question. Quotes are never converted.
MESSAGES = {
    "abstain": ("资料中没有能回答这个问题的内容。", "資料中沒有能回答這個問題的內容。"),
    "related": ("可能相关（不是答案）：", "可能相關（不是答案）："),
    "searched_for": ("已按「{terms}」搜索。", "已按「{terms}」搜尋。"),
    "note_hedge": ("资料没有直接说明；最相关的是：", "資料沒有直接說明；最相關的是："),
    "note_changed": ("报道随时间有变化：最新的在前，较早的报道标明了日期。", "報導隨時間有變化：最新的在前，較早的報導標明了日期。"),
    "note_sequence": ("按事件发生的时间排列：", "按事件發生的時間排列："),
    "note_overview": ("资料中关于「{topic}」的报道，最新的在前：", "資料中關於「{topic}」的報導，最新的在前："),
    "note_not_found": ("资料中没有提到「{topic}」。", "資料中沒有提到「{topic}」。"),
    "note_not_answered": ("资料中没有直接回答「{topic}」的{what}。", "資料中沒有直接回答「{topic}」的{what}。"),
    "earlier": ("较早", "較早"),
    "date_unknown": ("日期不详", "日期不詳"),
    "empty": ("请输入一个问题。", "請輸入一個問題。"),
    "too_long": ("问题太长了，请缩短到 {limit} 个字以内。", "問題太長了，請縮短到 {limit} 個字以內。"),
    "error": ("抱歉，出了点问题，请稍后再试。", "抱歉，出了點問題，請稍後再試。"),
    "rate_limited": ("提问太频繁了，请 {seconds} 秒后再试。", "提問太頻繁了，請 {seconds} 秒後再試。"),
    "not_admin": ("抱歉，只有管理员可以这样做。", "抱歉，只有管理員可以這樣做。"),
    "also_reported": ("另见：", "另見："),
    "examples": ("可以这样问（点一下就能问）：", "可以這樣問（點一下就能問）："),
    "greeting": ("你好！我用新闻原文回答问题：每个回答都是带出处的原文引用，资料里没有的，我会直说。",
                 "你好！我用新聞原文回答問題：每個回答都是帶出處的原文引用，資料裡沒有的，我會直說。"),
    "knows": ("我收录了 {documents} 篇文章，来自 {outlets} 个来源，日期从 {first} 到 {last}。",
              "我收錄了 {documents} 篇文章，來自 {outlets} 個來源，日期從 {first} 到 {last}。"),
    "commands": (
        "/ask 问题 — 提问（群组里用）\n/sources — 列出全部文章\n/help — 说明",
        "/ask 問題 — 提問（群組裡用）\n/sources — 列出全部文章\n/help — 說明",
    ),
    "admin_commands": (
        "管理员：\n/reindex — 重新索引\n/stats — 统计与评价\n/why 编号 — 某个回答的依据",
        "管理員：\n/reindex — 重新索引\n/stats — 統計與評價\n/why 編號 — 某個回答的依據",
    ),
    "understood": ("理解为：{asked}", "理解為：{asked}"),
    "thanks": ("谢谢反馈！", "謝謝回饋！"),
    "feedback_gone": ("这个回答的记录已经过期了。", "這個回答的記錄已經過期了。"),
    "wrong_quote": ("引用有误", "引用有誤"),
    "feedback_stats": ("评价：👍 {up} · 👎 {down} · 引用有误 {wrong}", "評價：👍 {up} · 👎 {down} · 引用有誤 {wrong}"),
    "worst": ("评价最差的回答：", "評價最差的回答："),
    "why_usage": ("用法：/why 回答编号（在 /stats 里可以看到）", "用法：/why 回答編號（在 /stats 裡可以看到）"),
    "why_missing": ("没有编号为 {id} 的回答记录。", "沒有編號為 {id} 的回答記錄。"),
    "outlet_unknown": ("来源不详", "來源不詳"),
    "sources_title": ("资料（{n} 篇，新的在前）：", "資料（{n} 篇，新的在前）："),
    "show_source": ("原文 [{n}]", "原文 [{n}]"),
    "show_related": ("可能相关 {n}", "可能相關 {n}"),
    "paragraph_gone": ("这段原文已不在当前资料中（资料已更新），请重新提问。", "這段原文已不在目前資料中（資料已更新），請重新提問。"),
    "reindexing": ("正在重新索引…", "正在重新索引…"),
    "reindex_progress": ("正在重新索引：{phase} {done}/{total}，每秒 {rate} 项，约剩 {left}",
                         "正在重新索引：{phase} {done}/{total}，每秒 {rate} 項，約剩 {left}"),
    "reindex_busy": ("已经在重新索引了，请稍候。", "已經在重新索引了，請稍候。"),
    "reindexed": (
        "索引已更新：新增 {added}，修改 {changed}，删除 {removed}，未变 {unchanged}；共 {documents} 篇、{passages} 个段落（{seconds:.1f} 秒）。",
        "索引已更新：新增 {added}，修改 {changed}，刪除 {removed}，未變 {unchanged}；共 {documents} 篇、{passages} 個段落（{seconds:.1f} 秒）。",
    ),
    "reindex_nothing": ("资料没有变化，索引保持不变。", "資料沒有變化，索引保持不變。"),
    "reindex_failed": ("重新索引失败，继续使用原来的索引：{reason}", "重新索引失敗，繼續使用原來的索引：{reason}"),
    "skipped_files": ("跳过的文件：", "跳過的檔案："),
    "stats": (
        "文章 {documents} 篇，段落 {passages} 个\n启动以来：回答 {questions} 个问题，其中未找到答案 {abstained} 个（{rate:.0%}）\n"
        "延迟 p50 {p50} · p95 {p95}（其中计算 p50 {cp50} · p95 {cp95}）\n限流 {rate_limited} 次，出错 {errors} 次",
        "文章 {documents} 篇，段落 {passages} 個\n啟動以來：回答 {questions} 個問題，其中未找到答案 {abstained} 個（{rate:.0%}）\n"
        "延遲 p50 {p50} · p95 {p95}（其中計算 p50 {cp50} · p95 {cp95}）\n限流 {rate_limited} 次，出錯 {errors} 次",
    ),
    "text_only": ("我只读文字问题，请把问题用文字发给我。", "我只讀文字問題，請把問題用文字發給我。"),
    "unknown_command": ("不认识这个命令。发 /help 看看我能做什么。", "不認識這個命令。發 /help 看看我能做什麼。"),
}

# The bot's words for a reader who asks in English (the quotes stay in the articles' Chinese).
ENGLISH = {
    "abstain": "The articles hold nothing that answers this question.",
    "related": "Possibly related (not an answer):",
    "searched_for": "Searched for 「{terms}」.",
    "note_hedge": "The articles do not say so directly; the closest is:",
    "note_changed": "The reports changed over time: the newest comes first, earlier reports are dated.",
    "note_sequence": "In the order the events happened:",
    "note_overview": "What the articles say about 「{topic}」, newest first:",
    "note_not_found": "The articles do not mention 「{topic}」.",
    "note_not_answered": "The articles do not directly answer the {what} of 「{topic}」.",
    "earlier": "earlier",
    "date_unknown": "date unknown",
    "also_reported": "Also reported by: ",
    "understood": "Understood as: {asked}",
    "outlet_unknown": "outlet unknown",
}
ASKED_ENGLISH = {"why": "reason", "how": "way", "status": "latest state", "timeline": "course", "compare": "comparison",
                 "list": "list", "said": "words", "event": "events", "date": "date", "number": "figure",
                 "person": "person", "place": "place", "reason": "reason"}

# What a refusal says was asked, by question kind or fact slot.
ASKED = {"why": ("原因", "原因"), "how": ("做法", "做法"), "status": ("最新情况", "最新情況"), "timeline": ("经过", "經過"),
         "compare": ("比较", "比較"), "list": ("清单", "清單"), "said": ("说法", "說法"), "event": ("事件", "事件"),
         "date": ("时间", "時間"), "number": ("数字", "數字"), "person": ("人物", "人物"), "place": ("地点", "地點"),
         "reason": ("原因", "原因")}


def is_traditional(text: str) -> bool:
    """True if converting to simplified would change the text: the user writes traditional."""
    return to_simplified(text) != text


def message(key: str, question: str = "", traditional: bool | None = None, english: bool | None = None,
            **kwargs) -> str:
    """The bot's own wording, in the reader's language and script: English for a question in English, else the
    script of `question` (or as `traditional` and `english` say)."""
    if english is None:
        english = bool(question) and is_english(question)
    if english and key in ENGLISH:
        return ENGLISH[key].format(**kwargs)
    simplified, trad = MESSAGES[key]
    if traditional is None:
        traditional = is_traditional(question)
    return (trad if traditional else simplified).format(**kwargs)


def prefers_traditional(text: str, language_code: str | None) -> bool:
    """Traditional if the text is, or, for a bare command, if the user's Telegram language says so."""
    if text and is_traditional(text):
        return True
    code = (language_code or "").lower()
    return code in {"zh-hant", "zh-tw", "zh-hk", "zh-mo"} or code.startswith("zh-hant")
