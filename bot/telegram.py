"""Telegram front end: thin python-telegram-bot v22 handlers over the engine, polling or webhook."""

from __future__ import annotations

import asyncio
import functools
import logging
import math
import re
import secrets
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlparse

from telegram import (BotCommand, InlineKeyboardButton, InlineKeyboardMarkup, LinkPreviewOptions, Message,
                      Update)
from telegram.constants import ChatType, ParseMode
from telegram.error import InvalidToken, NetworkError, TelegramError
from telegram.ext import (AIORateLimiter, Application, ApplicationBuilder, CallbackQueryHandler, CommandHandler,
                          ContextTypes, MessageHandler, filters)

from bot.answer import Answer
from bot.chat import CorpusFacts, ParagraphRef, RateLimiter, Stats, addressed_question, example_questions
from bot.engine import Engine, QuestionError, limit_threads
from bot.render import (answer_html, help_html, is_traditional, message, pack, paragraph_html, prefers_traditional,
                        reindex_html, sources_html, stats_html)
from bot.settings import ConfigError, Settings
from embeddings.index import BuildReport

log = logging.getLogger("quotebot.telegram")

TOKEN_RE = re.compile(r"\d{1,20}:[A-Za-z0-9_-]{20,100}")
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)


def check_token(token: str | None) -> str:
    """The token, or a ConfigError that never repeats it."""
    if not token:
        raise ConfigError("TELEGRAM_BOT_TOKEN is not set: create a bot with @BotFather and export its token")
    if not TOKEN_RE.fullmatch(token):
        raise ConfigError("TELEGRAM_BOT_TOKEN does not look like a bot token (digits, a colon, then letters, "
                          "digits, - or _, as @BotFather gives it)")
    return token


def api_urls(base: str) -> tuple[str, str]:
    """TELEGRAM_API_BASE_URL (e.g. https://api.telegram.org) → PTB's base_url and base_file_url."""
    base = base.rstrip("/")
    if base.endswith("/bot"):
        base = base[:-4]
    return f"{base}/bot", f"{base}/file/bot"


class Redactor(logging.Filter):
    """Replaces secrets (the token, the webhook secret) in every log line, tracebacks included."""

    def __init__(self, *secrets_: str | None):
        super().__init__()
        self.secrets = [s for s in secrets_ if s]

    def redact(self, text: str) -> str:
        for s in self.secrets:
            text = text.replace(s, "[redacted]")
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg, record.args = self.redact(record.getMessage()), ()
        if record.exc_info:
            record.exc_text = self.redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True


def setup_logging(*secrets_: str | None) -> Redactor:
    redactor = Redactor(*secrets_)
    root = logging.getLogger()
    root.setLevel(logging.INFO)
    for handler in root.handlers:
        handler.addFilter(redactor)
    # httpx logs every request URL at INFO, and the Bot API puts the token in the URL.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)
    return redactor


class ChatService:
    """The chat's state: the engine, the per-user limit, the figures for /stats, the worker threads."""

    def __init__(self, settings: Settings, engine: Engine):
        self.settings = settings
        self.engine = engine
        self.stats = Stats()
        self.limiter = RateLimiter(settings.rate_limit, settings.rate_window)
        # Answering is CPU work: two threads for two cores, off the event loop so chats never wait
        # on each other's network I/O; a reindex gets its own thread so questions go on meanwhile.
        # OpenMP's thread count is per thread: each worker sets its own (see limit_threads).
        limit = {"initializer": limit_threads, "initargs": (settings.threads,)}
        self.answer_pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="answer", **limit)
        self.index_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="reindex", **limit)
        self.reindexing = asyncio.Lock()
        self._facts: tuple[str, CorpusFacts] | None = None

    def is_admin(self, update: Update) -> bool:
        user = update.effective_user
        return user is not None and user.id in self.settings.admins

    def wait_seconds(self, update: Update) -> int:
        """0 if this user may ask now; else the whole seconds to wait (and the attempt is counted)."""
        user = update.effective_user
        wait = self.limiter.check(user.id if user else 0, time.monotonic())
        if wait > 0:
            self.stats.rate_limited += 1
        return math.ceil(wait)

    async def answer(self, question: str) -> Answer:
        t0 = time.perf_counter()
        answer, compute = await self._ask(question)
        self.stats.record(time.perf_counter() - t0, answer.abstained, compute)
        return answer

    async def answer_quietly(self, question: str) -> Answer:
        """An answer for the bot's own use (checking /help examples): not counted in /stats."""
        return (await self._ask(question))[0]

    async def _ask(self, question: str) -> tuple[Answer, float]:
        """The answer, computed on a worker thread, and the seconds the computing itself took."""
        def timed() -> tuple[Answer, float]:
            t1 = time.perf_counter()
            return self.engine.ask(question), time.perf_counter() - t1

        return await asyncio.get_running_loop().run_in_executor(self.answer_pool, timed)

    async def reindex(self) -> BuildReport:
        async with self.reindexing:
            return await asyncio.get_running_loop().run_in_executor(self.index_pool, self.engine.reindex)

    async def facts(self) -> CorpusFacts:
        """Documents, date range and three example questions the current index answers (cached per generation)."""
        index = self.engine.loaded.index
        if self._facts and self._facts[0] == index.generation:
            return self._facts[1]
        docs = list(index.documents.values())
        examples = []
        for q in example_questions(docs):
            if not (await self.answer_quietly(q)).abstained:
                examples.append(q)
            if len(examples) == 3:
                break
        dates = sorted(d.date for d in docs if d.date)
        facts = CorpusFacts(len(docs), len(index.passages), dates[0] if dates else None,
                            dates[-1] if dates else None, tuple(examples))
        self._facts = (index.generation, facts)
        return facts

    def shutdown(self) -> None:
        self.answer_pool.shutdown(wait=False, cancel_futures=True)
        self.index_pool.shutdown(wait=False, cancel_futures=True)


def wants_traditional(update: Update) -> bool:
    """The bot's own wording for this update: the script of its text, else the user's language."""
    msg, user = update.effective_message, update.effective_user
    return prefers_traditional((msg.text or "") if msg else "", user.language_code if user else None)


def service(context: ContextTypes.DEFAULT_TYPE) -> ChatService:
    return context.application.bot_data["service"]


async def send(message: Message, blocks: list[str], buttons: list[tuple[str, str]] = ()) -> None:
    """Reply with the blocks packed into as few messages as fit; buttons go on the last one."""
    parts = pack(blocks)
    markup = InlineKeyboardMarkup([[InlineKeyboardButton(label, callback_data=data)] for label, data in buttons])
    for i, html in enumerate(parts):
        last = i == len(parts) - 1
        await message.reply_text(html, parse_mode=ParseMode.HTML, link_preview_options=NO_PREVIEW,
                                 reply_markup=markup if last and buttons else None)


def answer_buttons(answer: Answer) -> list[tuple[str, str]]:
    """One button per source (its paragraph, the quote in bold), or per "possibly related" passage."""
    trad = is_traditional(answer.question)
    if answer.abstained:
        return [(message("show_related", traditional=trad, n=i), ParagraphRef.make(s.doc_id, s.paragraph, s.passage).encode())
                for i, s in enumerate(answer.related, 1)]
    buttons = []
    for i, s in enumerate(answer.sources, 1):
        quote = next(q for q in answer.quotes if answer.source_number(q) == i)
        ref = ParagraphRef.make(s.doc_id, s.paragraph, s.passage, quote.start, quote.end)
        buttons.append((message("show_source", traditional=trad, n=i), ref.encode()))
    return buttons


# --- handlers: parse, call the engine, render, reply ----------------------------------------------


async def ask(update: Update, context: ContextTypes.DEFAULT_TYPE, question: str) -> None:
    svc, msg = service(context), update.effective_message
    wait = svc.wait_seconds(update)
    if wait:
        await msg.reply_text(message("rate_limited", question, seconds=wait))
        return
    try:
        answer = await svc.answer(question)
    except QuestionError as exc:
        await msg.reply_text(message(exc.kind, question, limit=svc.settings.max_question_chars))
        return
    await send(msg, answer_html(answer), answer_buttons(answer))


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


async def on_help(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    msg = update.effective_message
    trad = wants_traditional(update)
    await send(msg, help_html(await service(context).facts(), trad))


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
    await msg.reply_text(message("reindexing", traditional=trad))
    try:
        report = await svc.reindex()
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
    await send(msg, stats_html(svc.stats.summary(), len(index.documents), len(index.passages), trad))


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


# --- the application ------------------------------------------------------------------------------


def build_application(settings: Settings, engine: Engine) -> Application:
    token = check_token(settings.telegram_token)
    builder = (ApplicationBuilder().token(token).concurrent_updates(64)
               .rate_limiter(AIORateLimiter(max_retries=3)).post_init(_post_init).post_shutdown(_post_shutdown))
    if settings.api_base_url:
        base_url, file_url = api_urls(settings.api_base_url)
        builder = builder.base_url(base_url).base_file_url(file_url)
    app = builder.build()
    app.bot_data["service"] = ChatService(settings, engine)
    private, groups = filters.ChatType.PRIVATE, filters.ChatType.GROUPS
    new, new_or_edited = filters.UpdateType.MESSAGE, filters.UpdateType.MESSAGES  # an edited question is asked again
    app.add_handler(CommandHandler(["start", "help"], on_help))
    app.add_handler(CommandHandler("ask", on_ask))
    app.add_handler(CommandHandler("sources", on_sources))
    app.add_handler(CommandHandler("reindex", on_reindex))
    app.add_handler(CommandHandler("stats", on_stats))
    app.add_handler(CallbackQueryHandler(on_button))
    app.add_handler(MessageHandler(new_or_edited & filters.TEXT & ~filters.COMMAND & (private | groups), on_text))
    app.add_handler(MessageHandler(new & private, on_other))
    app.add_error_handler(on_error)
    return app


async def _post_init(app: Application) -> None:
    # The command menu is a nicety: a Bot API server that lacks setMyCommands must not stop the bot.
    try:
        await app.bot.set_my_commands([BotCommand("ask", "提问 / 提問"), BotCommand("sources", "资料列表 / 資料列表"),
                                       BotCommand("help", "说明 / 說明")])
    except TelegramError as exc:
        log.info("command menu not set: %s", one_line(exc))
    log.info("serving as @%s", app.bot.username)


async def _post_shutdown(app: Application) -> None:
    app.bot_data["service"].shutdown()


def check_bot_api(settings: Settings) -> str:
    """Ask the Bot API who we are before anything slow: a bad token or no network is one line, early."""
    from telegram import Bot

    async def get_me() -> str:
        kwargs = {}
        if settings.api_base_url:
            kwargs["base_url"], kwargs["base_file_url"] = api_urls(settings.api_base_url)
        async with Bot(check_token(settings.telegram_token), **kwargs) as bot:
            return bot.username

    try:
        return asyncio.run(get_me())
    except InvalidToken:
        raise ConfigError("Telegram refused the bot token in TELEGRAM_BOT_TOKEN (revoked or mistyped?)") from None
    except NetworkError as exc:
        where = settings.api_base_url or "https://api.telegram.org"
        raise ConfigError(f"cannot reach the Telegram Bot API at {where}: "
                          f"{Redactor(settings.telegram_token).redact(one_line(exc))}") from None


def serve(settings: Settings, engine: Engine, webhook_url: str | None = None, listen: str = "127.0.0.1",
          port: int = 8443, webhook_secret: str | None = None) -> None:
    """Run until SIGINT/SIGTERM: long polling, or a webhook server when `webhook_url` is given."""
    secret = webhook_secret or secrets.token_urlsafe(32)
    setup_logging(settings.telegram_token, secret)
    app = build_application(settings, engine)
    if webhook_url:
        path = urlparse(webhook_url).path.strip("/")
        app.run_webhook(listen=listen, port=port, url_path=path, webhook_url=webhook_url, secret_token=secret,
                        allowed_updates=Update.ALL_TYPES)
    else:
        app.run_polling(allowed_updates=Update.ALL_TYPES)
