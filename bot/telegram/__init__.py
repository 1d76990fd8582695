"""Telegram front end: thin python-telegram-bot v22 handlers over the engine, polling or webhook."""

from bot.telegram.app import Redactor, api_urls, build_application, check_bot_api, check_token, serve, setup_logging
from bot.telegram.service import ChatService

__all__ = ["ChatService", "Redactor", "api_urls", "build_application", "check_bot_api", "check_token", "serve",
           "setup_logging"]
