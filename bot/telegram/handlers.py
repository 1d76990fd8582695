"""Thin handlers over the chat service: parse the update, call the engine, render, reply."""

from __future__ import annotations

import functools
import logging

from telegram import (InlineKeyboardButton, InlineKeyboardMarkup, KeyboardButton, LinkPreviewOptions, Message,
                      ReplyKeyboardMarkup, Update)
from telegram.constants import ChatType, ParseMode
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from bot.answer import Answer
from bot.chat import ParagraphRef, addressed_question
from bot.engine import QuestionError
from bot.render import (answer_html, example, help_html, is_traditional, message, pack, paragraph_html,
                        prefers_traditional, progress_text, reindex_html, sources_html, start_html, stats_html,
                        why_html)
from bot.telegram.service import ChatService

log = logging.getLogger("quotebot.telegram")
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)


def wants_traditional(update: Update) -> bool:
    """The bot's own wording for this update: the script of its text, else the user's language."""
    msg, user = update.effective_message, update.effective_user
    return prefers_traditional((msg.text or "") if msg else "", user.language_code if user else None)


def service(context: ContextTypes.DEFAULT_TYPE) -> ChatService:
    return context.application.bot_data["service"]


async def send(message: Message, blocks: list[str], rows: list[list[tuple[str, str]]] = (), keyboard=None) -> None:
    """Reply with the blocks packed into as few messages as fit; the button rows (or a keyboard) go on the last."""
    parts = pack(blocks)
    markup = InlineKeyboardMarkup([[InlineKeyboardButton(label, callback_data=data) for label, data in row]
                                   for row in rows if row]) if rows else keyboard
    for i, html in enumerate(parts):
        last = i == len(parts) - 1
        await message.reply_text(html, parse_mode=ParseMode.HTML, link_preview_options=NO_PREVIEW,
                                 reply_markup=markup if last else None)


def answer_buttons(answer: Answer, answer_id: str) -> list[list[tuple[str, str]]]:
    """One compact row of [1] [2] … opening each source's paragraph (the quote in bold; none where the quote is
    the whole paragraph and the title links to the article) or each related article; then 👍 👎 and 'wrong quote'."""
    trad = is_traditional(answer.question)
    feedback = [("👍", f"f|{answer_id}|up"), ("👎", f"f|{answer_id}|down")]
    if answer.abstained:
        row = [(message("show_related", traditional=trad, n=i), ParagraphRef.make(s.doc_id, s.paragraph, s.passage).encode())
               for i, s in enumerate(answer.related, 1)]
        return [row, feedback]
    row = []
    for i, s in enumerate(answer.sources, 1):
        quote = next(q for q in answer.quotes if answer.source_number(q) == i)
        if (quote.start, quote.end) != (0, len(s.passage)) or not s.url:  # without a link, it is how to open it
            row.append((f"[{i}]", ParagraphRef.make(s.doc_id, s.paragraph, s.passage, quote.start, quote.end).encode()))
    return [row, feedback + [(message("wrong_quote", traditional=trad), f"f|{answer_id}|wrong")]]


def chat_key(update: Update) -> tuple:
    """Whose follow-ups these are: the chat, and in a group the member too."""
    chat, user = update.effective_chat, update.effective_user
    private = chat is None or chat.type == ChatType.PRIVATE
    return (chat.id if chat else 0, 0 if private else (user.id if user else 0))


# --- handlers: parse, call the engine, render, reply ----------------------------------------------


async def ask(update: Update, context: ContextTypes.DEFAULT_TYPE, question: str) -> None:
    svc, msg = service(context), update.effective_message
    wait = svc.wait_seconds(update)
    if wait:
        await msg.reply_text(message("rate_limited", question, seconds=wait))
        return
    try:
        answer, answer_id, asked = await svc.answer(question, msg.chat.type, chat_key(update))
    except QuestionError as exc:
        await msg.reply_text(message(exc.kind, question, limit=svc.settings.max_question_chars))
        return
    await send(msg, answer_html(answer, understood=asked), answer_buttons(answer, answer_id))


async def on_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    msg = update.effective_message
    reply = msg.reply_to_message
    question = addressed_question(
        msg.text or "", private=msg.chat.type == ChatType.PRIVATE, username=context.bot.username or "",
        reply_to_bot=bool(reply and reply.from_user and reply.from_user.id == context.bot.id))
    if question is not None:
        await ask(update, context, question)


async def on_ask(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    parts = (update.effective_message.text or "").split(maxsplit=1)
    await ask(update, context, parts[1] if len(parts) > 1 else "")


async def on_start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    msg, trad = update.effective_message, wants_traditional(update)
    facts = await service(context).facts()
    keyboard = ReplyKeyboardMarkup([[KeyboardButton(example(q, trad))] for q in facts.examples],
                                   resize_keyboard=True, one_time_keyboard=True) \
        if facts.examples and msg.chat.type == ChatType.PRIVATE else None  # in a group, a tap would not reach the bot
    await send(msg, start_html(facts, trad), keyboard=keyboard)


async def on_help(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await send(update.effective_message, help_html(wants_traditional(update), service(context).is_admin(update)))


async def on_sources(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    msg = update.effective_message
    trad = wants_traditional(update)
    await send(msg, sources_html(list(service(context).engine.loaded.index.documents.values()), trad))


def admin_only(handler):
    """The handler runs for admins; everyone else gets a polite refusal (also in groups and edits)."""

    @functools.wraps(handler)
    async def guarded(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        if not service(context).is_admin(update):
            await update.effective_message.reply_text(message("not_admin", traditional=wants_traditional(update)))
            return
        await handler(update, context)

    return guarded


@admin_only
async def on_reindex(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    svc, msg = service(context), update.effective_message
    trad = wants_traditional(update)
    if svc.reindexing.locked():
        await msg.reply_text(message("reindex_busy", traditional=trad))
        return
    status = await msg.reply_text(message("reindexing", traditional=trad))

    async def show(now) -> None:
        try:
            await status.edit_text(progress_text(now, trad))
        except Exception as exc:  # a progress line lost is no loss; the reindex and its report go on
            log.info("progress message not edited: %s", one_line(exc))

    try:
        report = await svc.reindex(show)
    except Exception as exc:  # the old index keeps serving; say why in one line
        log.exception("reindex failed")
        await msg.reply_text(message("reindex_failed", traditional=trad, reason=one_line(exc)))
        return
    await send(msg, reindex_html(report, trad))


@admin_only
async def on_stats(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    svc, msg = service(context), update.effective_message
    trad = wants_traditional(update)
    index = svc.engine.loaded.index
    await send(msg, stats_html(svc.stats.summary(), len(index.documents), len(index.passages), trad,
                               svc.audit.counts(), svc.audit.worst()))


@admin_only
async def on_why(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    svc, msg, trad = service(context), update.effective_message, wants_traditional(update)
    parts = (msg.text or "").split()
    entry = svc.audit.get(parts[1].lstrip("#")) if len(parts) > 1 else None
    if entry is None:
        key = "why_missing" if len(parts) > 1 else "why_usage"
        await msg.reply_text(message(key, traditional=trad, id=parts[1] if len(parts) > 1 else ""))
        return
    await send(msg, why_html(entry, trad))


async def on_feedback(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    _, answer_id, kind = (query.data or "").split("|", 2)
    trad = prefers_traditional("", query.from_user.language_code)
    counted = service(context).audit.feedback(answer_id, kind)  # False for an unknown kind or a forgotten answer
    await query.answer(message("thanks" if counted else "feedback_gone", traditional=trad))


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    await query.answer()
    if update.effective_chat is None:  # the button's message is gone: nowhere to show the paragraph
        return
    trad = prefers_traditional("", query.from_user.language_code)
    ref = ParagraphRef.decode(query.data or "")
    found = ref.resolve(service(context).engine.loaded.index.documents) if ref else None
    if found is None:
        blocks = [message("paragraph_gone", traditional=trad)]
    else:
        doc, text = found
        span = (ref.start, ref.end) if ref.end > ref.start else None
        blocks = paragraph_html(doc.title, doc.date, doc.url, text, span, trad)
    for html in pack(blocks):
        await context.bot.send_message(update.effective_chat.id, html, parse_mode=ParseMode.HTML,
                                       link_preview_options=NO_PREVIEW)


async def on_other(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Stickers, photos, unknown commands in a private chat: say what the bot does read."""
    msg = update.effective_message
    key = "unknown_command" if (msg.text or "").startswith("/") else "text_only"
    await msg.reply_text(message(key, traditional=wants_traditional(update)))


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    log.error("error while handling an update", exc_info=context.error)
    svc = context.application.bot_data.get("service")
    if svc:
        svc.stats.errors += 1
    if isinstance(update, Update) and update.effective_message:
        try:
            await update.effective_message.reply_text(message("error", update.effective_message.text or ""))
        except TelegramError:
            log.warning("could not tell the user about the error")


def one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:300]
