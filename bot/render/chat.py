"""The chat's other messages: a paragraph in full, the article list, /start, /help, /stats, /why, reindex reports."""

from __future__ import annotations

import time

from bot.render.html import TELEGRAM_LIMIT, esc, excerpt, link, text_chunks
from bot.render.messages import message
from embeddings.textnorm import to_traditional


def paragraph_html(title: str, date: str | None, url: str | None, paragraph: str,
                   highlight: tuple[int, int] | None, traditional: bool,
                   limit: int = TELEGRAM_LIMIT) -> list[str]:
    """A source paragraph in full, the quoted span in bold; long paragraphs become several blocks."""
    date_text = date or message("date_unknown", traditional=traditional)
    blocks = [f"<b>{link(title, url)}</b> · {esc(date_text)}"]
    room = limit - 16  # room for the highlight's tags
    start, end = highlight if highlight else (0, 0)
    for a, b in text_chunks(paragraph, room):
        s, e = max(a, start), min(b, end)
        if s < e:
            blocks.append(esc(paragraph[a:s]) + "<b>" + esc(paragraph[s:e]) + "</b>" + esc(paragraph[e:b]))
        else:
            blocks.append(esc(paragraph[a:b]))
    return blocks


def sources_html(documents: list, traditional: bool) -> list[str]:
    docs = sorted(documents, key=lambda d: (d.date or "", d.id), reverse=True)
    blocks = [f"<b>{esc(message('sources_title', traditional=traditional, n=len(docs)))}</b>"]
    for i, d in enumerate(docs, 1):
        date = d.date or message("date_unknown", traditional=traditional)
        blocks.append(f"{i}. {link(d.title, d.url)} · {esc(date)}")
    return blocks


def start_html(facts, traditional: bool) -> list[str]:
    """/start: a greeting, what the bot knows, and example questions it answers (in the reader's script)."""
    unknown = message("date_unknown", traditional=traditional)
    blocks = [esc(message("greeting", traditional=traditional)),
              esc(message("knows", traditional=traditional, documents=facts.documents, outlets=facts.outlets,
                          first=facts.first_date or unknown, last=facts.last_date or unknown))]
    if facts.examples:
        blocks.append(f"<b>{esc(message('examples', traditional=traditional))}</b>\n"
                      + "\n".join(f"· {esc(example(q, traditional))}" for q in facts.examples))
    return blocks


def example(question: str, traditional: bool) -> str:
    return to_traditional(question) if traditional else question


def help_html(traditional: bool, admin: bool) -> list[str]:
    """/help: the commands; the admin commands only to admins."""
    blocks = [esc(message("commands", traditional=traditional))]
    if admin:
        blocks.append(esc(message("admin_commands", traditional=traditional)))
    return blocks


def stats_html(stats: dict, documents: int, passages: int, traditional: bool, feedback: dict | None = None,
               worst: list = ()) -> list[str]:
    def ms(v):
        return "-" if v is None else f"{v:.0f} ms"

    blocks = [esc(message("stats", traditional=traditional, documents=documents, passages=passages,
                          questions=stats["questions"], abstained=stats["abstained"],
                          rate=stats["abstention_rate"], p50=ms(stats["p50_ms"]), p95=ms(stats["p95_ms"]),
                          cp50=ms(stats["compute_p50_ms"]), cp95=ms(stats["compute_p95_ms"]),
                          rate_limited=stats["rate_limited"], errors=stats["errors"]))]
    if feedback is not None:
        blocks.append(esc(message("feedback_stats", traditional=traditional, **feedback)))
    if worst:
        blocks.append(f"<b>{esc(message('worst', traditional=traditional))}</b>\n" + "\n".join(
            f"<code>{esc(r.id)}</code> 👎 {r.down} · {esc(message('wrong_quote', traditional=traditional))} {r.wrong}"
            f" · {esc(excerpt(r.question, 40))}" for r in worst))
    return blocks


def why_html(entry, traditional: bool) -> list[str]:
    """/why: what an answer was asked, how it was read, what was found and shown, and what readers said."""
    head = (f"<b>{esc(entry.id)}</b> · {esc(time.strftime('%Y-%m-%d %H:%M', time.gmtime(entry.at)))} UTC · "
            f"{esc(entry.chat_type)}\n{esc(entry.question)}\n"
            f"kind={esc(entry.kind)} qtype={esc(entry.qtype)} confidence={entry.confidence:.3f} "
            f"{'abstained' if entry.abstained else 'answered'} · {entry.latency_ms:.0f} ms · {esc(entry.generation)}")
    if entry.searched_for:
        head += f"\nsearched for: {esc('、'.join(entry.searched_for))}"
    cands = "\n".join(f"{i}. {esc(c['doc'])} ¶{c['paragraph']} score {c['score']:.3f} (bm25 {c['bm25']:.2f}, "
                      f"dense {c['dense']:.2f})" for i, c in enumerate(entry.candidates, 1))
    quotes = "\n".join(f"「{esc(excerpt(q['quote'], 60))}」 {esc(q.get('outlet') or '')} {esc(q.get('date') or '')}"
                       f" ({esc(q.get('role') or '')}, {q.get('score', 0):.2f})" for q in entry.quotes)
    votes = " · ".join(f"{k} {v}" for k, v in sorted(entry.feedback.items())) or "-"
    return [head, f"<b>candidates</b>\n{cands or '-'}", f"<b>quotes</b>\n{quotes or '-'}", f"<b>feedback</b> {esc(votes)}"]


PHASE_NAMES = {"read": "读取文件", "cut": "切分词语", "embed": "计算向量", "write": "写入索引", "publish": "发布"}


def progress_text(now, traditional: bool) -> str:
    """The admin's reindex message while it runs: the phase, how far, how fast, how long still."""
    if now.eta is None:
        left = "…"
    else:
        left = f"{now.eta / 60:.0f} 分钟" if now.eta >= 90 else f"{max(now.eta, 1):.0f} 秒"
    phase = PHASE_NAMES.get(now.phase, now.phase)
    return message("reindex_progress", traditional=traditional, phase=to_traditional(phase) if traditional else phase,
                   done=f"{now.done:,}", total=f"{now.total:,}", rate=f"{now.rate:,.0f}", left=left)


def reindex_html(report, traditional: bool) -> list[str]:
    if not report.changed_anything:
        blocks = [esc(message("reindex_nothing", traditional=traditional))]
    else:
        blocks = [esc(message("reindexed", traditional=traditional, added=len(report.added),
                              changed=len(report.changed), removed=len(report.removed),
                              unchanged=report.unchanged, documents=report.documents,
                              passages=report.passages, seconds=report.seconds))]
        names = [("+", report.added), ("~", report.changed), ("−", report.removed)]
        listed = [f"{sign} {esc(name)}" for sign, group in names for name in group]
        if listed:
            blocks.append("\n".join(listed[:30]) + ("\n…" if len(listed) > 30 else ""))
    if report.warnings:
        blocks.append(esc(message("skipped_files", traditional=traditional)) + "\n"
                      + "\n".join(f"· {esc(str(w))}" for w in report.warnings[:10]))
    return blocks
