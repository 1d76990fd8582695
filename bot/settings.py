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
    build_threads: int = field(default_factory=lambda: min(2, os.cpu_count() or 1))  # the encoder's, while building
    warm_mb: int | None = None  # page cache to fill with the index when serving; None: half of what is free
    debug_pause: float = 0.0  # fault-injection tests: pause after each index build step
    passage_vectors: str = "mean"  # a passage's vector: the mean of its sentences' vectors, or its text embedded ("whole")
    backend: str = "local"  # where the index is searched: "local" (files in index_dir) or "qdrant"
    qdrant_url: str | None = None  # a Qdrant server (or cluster) by URL
    qdrant_path: Path | None = None  # qdrant-client's local mode in this folder (one process; tests, trials)
    qdrant_collection: str = "quotebot"  # the alias replicas answer from
    qdrant_api_key: str | None = field(default=None, repr=False)
    qdrant_shards: int | None = None  # shards of each new collection version (None: the server's default)
    qdrant_replicas: int | None = None  # copies of each shard across the cluster's nodes (None: the server's default)
    poll_seconds: float = 5.0  # how often a Qdrant replica looks for a version another one published
    state_dir: Path | None = None  # audit log and rate limits; replicas on one host share it (default: index_dir)

    @property
    def state_folder(self) -> Path:
        return self.state_dir or self.index_dir

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
        if env.get("QUOTEBOT_BUILD_THREADS"):
            values["build_threads"] = _positive_int("QUOTEBOT_BUILD_THREADS", env["QUOTEBOT_BUILD_THREADS"])
        if env.get("QUOTEBOT_WARM_MB"):
            values["warm_mb"] = _whole("QUOTEBOT_WARM_MB", env["QUOTEBOT_WARM_MB"])
        if env.get("QUOTEBOT_DEBUG_PAUSE"):
            values["debug_pause"] = float(env["QUOTEBOT_DEBUG_PAUSE"])
        if env.get("QUOTEBOT_PASSAGE_VECTORS"):
            values["passage_vectors"] = env["QUOTEBOT_PASSAGE_VECTORS"].strip()
        if env.get("QUOTEBOT_BACKEND"):
            values["backend"] = env["QUOTEBOT_BACKEND"].strip()
        if env.get("QUOTEBOT_QDRANT_URL"):
            values["qdrant_url"] = env["QUOTEBOT_QDRANT_URL"].strip()
        if env.get("QUOTEBOT_QDRANT_PATH"):
            values["qdrant_path"] = Path(env["QUOTEBOT_QDRANT_PATH"])
        if env.get("QUOTEBOT_QDRANT_COLLECTION"):
            values["qdrant_collection"] = env["QUOTEBOT_QDRANT_COLLECTION"].strip()
        if env.get("QDRANT_API_KEY"):
            values["qdrant_api_key"] = env["QDRANT_API_KEY"].strip()
        if env.get("QUOTEBOT_QDRANT_SHARDS"):
            values["qdrant_shards"] = _positive_int("QUOTEBOT_QDRANT_SHARDS", env["QUOTEBOT_QDRANT_SHARDS"])
        if env.get("QUOTEBOT_QDRANT_REPLICAS"):
            values["qdrant_replicas"] = _positive_int("QUOTEBOT_QDRANT_REPLICAS", env["QUOTEBOT_QDRANT_REPLICAS"])
        if env.get("QUOTEBOT_POLL_SECONDS"):
            values["poll_seconds"] = _seconds("QUOTEBOT_POLL_SECONDS", env["QUOTEBOT_POLL_SECONDS"])
        if env.get("QUOTEBOT_STATE"):
            values["state_dir"] = Path(env["QUOTEBOT_STATE"])
        for key, value in flags.items():
            if value is not None:
                values[key] = Path(value) if key in {"seeds_dir", "index_dir", "qdrant_path", "state_dir"} else value
        settings = replace(cls(), **values)
        if settings.passage_vectors not in PASSAGE_VECTORS:
            raise ConfigError(f"QUOTEBOT_PASSAGE_VECTORS must be one of {', '.join(PASSAGE_VECTORS)}, "
                              f"not {settings.passage_vectors!r}")
        if settings.backend not in BACKENDS:
            raise ConfigError(f"the backend must be one of {', '.join(BACKENDS)}, not {settings.backend!r}")
        if settings.backend == "qdrant" and not (settings.qdrant_url or settings.qdrant_path):
            raise ConfigError("the qdrant backend needs --qdrant-url URL (QUOTEBOT_QDRANT_URL) or "
                              "--qdrant-path FOLDER (QUOTEBOT_QDRANT_PATH, qdrant-client's local mode)")
        if not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", settings.qdrant_collection) or "--" in settings.qdrant_collection:
            raise ConfigError(f"the Qdrant collection name must be 1-64 letters, digits, '-' or '_' (no '--'), "
                              f"not {settings.qdrant_collection!r}")
        return settings


BACKENDS = ("local", "qdrant")
PASSAGE_VECTORS = ("whole", "mean")


def _seconds(name: str, text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value > 0:
        raise ConfigError(f"{name} must be a positive number of seconds, not {text!r}")
    return value


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
