"""Rendering: what the bot writes, in JSON, plain text and Telegram HTML."""

from bot.render.answers import answer_html, answer_json, answer_text, note_text, quote_label, searched_text
from bot.render.chat import (example, help_html, paragraph_html, progress_text, reindex_html, sources_html, start_html,
                             stats_html, why_html)
from bot.render.html import TELEGRAM_LIMIT, esc, pack, text_chunks, units
from bot.render.messages import MESSAGES, is_traditional, message, prefers_traditional

__all__ = ["MESSAGES", "TELEGRAM_LIMIT", "answer_html", "answer_json", "answer_text", "esc", "example", "help_html",
           "is_traditional", "message", "note_text", "pack", "paragraph_html", "prefers_traditional", "progress_text", "quote_label",
           "reindex_html", "searched_text", "sources_html", "start_html", "stats_html", "text_chunks", "units",
           "why_html"]
