"""The Telegram application: the token checked, secrets kept out of the logs, handlers wired, polling or webhook."""

from __future__ import annotations

import asyncio
import logging
import re
import secrets
from urllib.parse import urlparse

from telegram import BotCommand, Update
from telegram.error import InvalidToken, NetworkError, TelegramError
from telegram.ext import (AIORateLimiter, Application, ApplicationBuilder, CallbackQueryHandler, CommandHandler,
                          MessageHandler, filters)

from bot.engine import Engine
from bot.settings import ConfigError, Settings
from bot.telegram.handlers import (on_ask, on_button, on_error, on_feedback, on_help, on_other, on_reindex,
                                   on_sources, on_start, on_stats, on_text, on_why, one_line)
from bot.telegram.service import ChatService

log = logging.getLogger("quotebot.telegram")
TOKEN_RE = re.compile(r"\d{1,20}:[A-Za-z0-9_-]{20,100}")


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
    app.add_handler(CommandHandler("start", on_start))
    app.add_handler(CommandHandler("help", on_help))
    app.add_handler(CommandHandler("why", on_why))
    app.add_handler(CommandHandler("ask", on_ask))
    app.add_handler(CommandHandler("sources", on_sources))
    app.add_handler(CommandHandler("reindex", on_reindex))
    app.add_handler(CommandHandler("stats", on_stats))
    app.add_handler(CallbackQueryHandler(on_feedback, pattern=r"^f\|[0-9a-f]{8}\|[a-z]+$"))
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
    service = app.bot_data["service"]
    if service.settings.backend == "qdrant":
        app.bot_data["follow"] = asyncio.create_task(_follow_published(service))


async def _follow_published(service: ChatService) -> None:
    """A replica's watch on the alias: every poll_seconds, load the version another replica published."""
    while True:
        await asyncio.sleep(service.settings.poll_seconds)
        try:
            if await service.refresh():
                log.info("now answering from %s", service.engine.loaded.index.generation)
        except Exception as exc:  # Qdrant unreachable for a while: keep answering from the loaded version
            log.warning("could not look for a new index version: %s", one_line(exc))


async def _post_shutdown(app: Application) -> None:
    follow = app.bot_data.get("follow")
    if follow is not None:
        follow.cancel()
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
