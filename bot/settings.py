"""The one place configuration enters: environment variables and command-line flags → Settings."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Mapping


class ConfigError(Exception):
    """A setting that cannot be used; the message says which and why."""


@dataclass(frozen=True)
class Settings:
    seeds_dir: Path = Path("seeds")
    index_dir: Path = Path(".index")
    encoder: str = "use"
    max_file_bytes: int = 10 * 1024 * 1024
    telegram_token: str | None = field(default=None, repr=False)
    webhook_secret: str | None = field(default=None, repr=False)
    admins: frozenset[int] = frozenset()
    api_base_url: str | None = None
    rate_limit: int = 5
    rate_window: float = 10.0
    max_question_chars: int = 500
    threads: int = 1
    warm_mb: int | None = None  # page cache to fill with the index when serving; None: half of what is free
    debug_pause: float = 0.0  # fault-injection tests: pause after each index build step

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **flags: Any) -> "Settings":
        """Environment first, then flags (a flag given as None keeps the environment's value)."""
        env = os.environ if env is None else env
        values: dict[str, Any] = {}
        if env.get("QUOTEBOT_SEEDS"):
            values["seeds_dir"] = Path(env["QUOTEBOT_SEEDS"])
        if env.get("QUOTEBOT_INDEX"):
            values["index_dir"] = Path(env["QUOTEBOT_INDEX"])
        if env.get("QUOTEBOT_ENCODER"):
            values["encoder"] = env["QUOTEBOT_ENCODER"]
        if env.get("TELEGRAM_BOT_TOKEN"):
            values["telegram_token"] = env["TELEGRAM_BOT_TOKEN"].strip()
        if env.get("TELEGRAM_WEBHOOK_SECRET"):
            values["webhook_secret"] = env["TELEGRAM_WEBHOOK_SECRET"].strip()
        if env.get("BOT_ADMINS"):
            values["admins"] = parse_admins(env["BOT_ADMINS"])
        if env.get("TELEGRAM_API_BASE_URL"):
            values["api_base_url"] = env["TELEGRAM_API_BASE_URL"].rstrip("/")
        if env.get("QUOTEBOT_RATE_LIMIT"):
            values["rate_limit"], values["rate_window"] = parse_rate(env["QUOTEBOT_RATE_LIMIT"])
        if env.get("QUOTEBOT_THREADS"):
            values["threads"] = _positive_int("QUOTEBOT_THREADS", env["QUOTEBOT_THREADS"])
        if env.get("QUOTEBOT_WARM_MB"):
            values["warm_mb"] = _whole("QUOTEBOT_WARM_MB", env["QUOTEBOT_WARM_MB"])
        if env.get("QUOTEBOT_DEBUG_PAUSE"):
            values["debug_pause"] = float(env["QUOTEBOT_DEBUG_PAUSE"])
        for key, value in flags.items():
            if value is not None:
                values[key] = Path(value) if key in {"seeds_dir", "index_dir"} else value
        return replace(cls(), **values)


def parse_admins(text: str) -> frozenset[int]:
    ids = set()
    for part in re.split(r"[,\s]+", text.strip()):
        if not part:
            continue
        if not re.fullmatch(r"-?\d+", part):
            raise ConfigError(f"BOT_ADMINS must be comma-separated numeric user ids; {part!r} is not one")
        ids.add(int(part))
    return frozenset(ids)


def parse_rate(text: str) -> tuple[int, float]:
    """'5/10' → five questions per ten seconds."""
    m = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+(\.\d+)?)\s*", text)
    if not m or int(m.group(1)) < 1:
        raise ConfigError(f"QUOTEBOT_RATE_LIMIT must look like 5/10 (questions/seconds), not {text!r}")
    return int(m.group(1)), float(m.group(2))


_WHOLE = re.compile(r"\s*[0-9]+\s*")  # ASCII digits only: int() would also take other scripts' digits


def _whole(name: str, text: str) -> int:
    if not _WHOLE.fullmatch(text):
        raise ConfigError(f"{name} must be a whole number of megabytes (0: off), not {text!r}")
    return int(text)


def _positive_int(name: str, text: str) -> int:
    if not _WHOLE.fullmatch(text) or int(text) < 1:
        raise ConfigError(f"{name} must be a positive whole number, not {text!r}")
    return int(text)
