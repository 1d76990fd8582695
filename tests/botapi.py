"""Test harness for the chat: the emulated Bot API server, the real bot process, and users who talk to it."""

from __future__ import annotations

import hashlib
import html
import itertools
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
EMULATOR_DIR = ROOT / "tests" / "telegram"
BOT_ID = 666  # the emulator's getMe
BOT_USERNAME = "TestNameBot"
_ids = itertools.count(1000)


def node_missing_reason() -> str | None:
    if shutil.which("node") is None or shutil.which("npm") is None:
        return "Node.js/npm not installed: the Telegram end-to-end tests need them to run the emulated Bot API"
    return None


def install_emulator() -> None:
    """npm ci the pinned emulator unless its node_modules already matches the lock file."""
    lock = EMULATOR_DIR / "package-lock.json"
    stamp = EMULATOR_DIR / "node_modules" / ".installed"
    digest = hashlib.sha256(lock.read_bytes()).hexdigest()
    if stamp.exists() and stamp.read_text() == digest:
        return
    subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=EMULATOR_DIR, check=True,
                   timeout=300)
    stamp.write_text(digest)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_line(path: Path, pattern: str, proc: subprocess.Popen, timeout: float) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = path.read_text(errors="replace") if path.exists() else ""
        m = re.search(pattern, text)
        if m:
            return m.group(0)
        if proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode}:\n{text[-3000:]}")
        time.sleep(0.1)
    raise TimeoutError(f"no {pattern!r} in {path} after {timeout}s:\n{path.read_text(errors='replace')[-3000:]}")


class Emulator:
    """telegram-test-api started by the project's starter on a loopback port."""

    def __init__(self, workdir: Path):
        install_emulator()
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = workdir / "emulator.log"
        self.proc = subprocess.Popen(["node", str(EMULATOR_DIR / "emulator.js"), str(self.port)],
                                     stdin=subprocess.PIPE, stdout=self.log.open("w"), stderr=subprocess.STDOUT)
        wait_for_line(self.log, r"ready http://\S+", self.proc, timeout=30)
        self.http = httpx.Client(base_url=self.url, timeout=10)

    def post(self, route: str, body: dict) -> dict:
        r = self.http.post(route, json=body)
        r.raise_for_status()
        return r.json()

    def stop(self) -> None:
        self.http.close()
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


class BotProcess:
    """`python -m bot serve` as a real process, configured by environment like in production."""

    def __init__(self, emulator: Emulator, workdir: Path, seeds: Path, token: str, admins: str = "",
                 extra_args: tuple[str, ...] = (), env: dict | None = None):
        self.token = token
        self.log = workdir / f"bot-{token.split(':')[0]}.log"
        environment = {**os.environ, "TELEGRAM_BOT_TOKEN": token, "TELEGRAM_API_BASE_URL": emulator.url,
                       "BOT_ADMINS": admins, "QUOTEBOT_THREADS": "1", "OMP_NUM_THREADS": "1",
                       "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1",
                       **(env or {})}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bot", "serve", "--seeds", str(seeds), "--index", str(workdir / "index"),
             *extra_args], cwd=ROOT, env=environment, stdout=self.log.open("w"), stderr=subprocess.STDOUT)
        wait_for_line(self.log, r"Application started", self.proc, timeout=240)

    def logs(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self) -> int:
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return -9


@dataclass
class Reply:
    html: str
    buttons: list[tuple[str, str]] = field(default_factory=list)
    message_id: int = 0
    markup: dict = field(default_factory=dict)  # the reply_markup as sent (inline buttons or a reply keyboard)

    @property
    def text(self) -> str:
        """What the user sees: tags dropped, entities decoded."""
        return html.unescape(re.sub(r"<[^>]+>", "", self.html))


def sent_messages(emulator: Emulator, token: str) -> list[dict]:
    """Every message the bot sent, as the Bot API received it (parse_mode included)."""
    history = emulator.post("/getUpdatesHistory", {"token": token}).get("result") or []
    return [h["message"] for h in history if "chat_id" in h.get("message", {})]


class User:
    """A Telegram user (and their chat) played through the emulator's client API."""

    def __init__(self, emulator: Emulator, token: str, user_id: int | None = None, chat_id: int | None = None,
                 chat_type: str = "private", language_code: str = "zh-hans"):
        self.emulator = emulator
        self.token = token
        self.user_id = user_id if user_id is not None else next(_ids)
        self.chat_id = chat_id if chat_id is not None else (self.user_id if chat_type == "private" else -next(_ids))
        self.chat_type = chat_type
        self.language_code = language_code

    def _message(self, text: str, **extra) -> dict:
        chat = {"id": self.chat_id, "type": self.chat_type}
        if self.chat_type == "private":
            chat["first_name"] = f"user{self.user_id}"
        else:
            chat["title"] = f"group{-self.chat_id}"
        return {"botToken": self.token, "date": int(time.time()), "text": text, "chat": chat,
                "from": {"id": self.user_id, "is_bot": False, "first_name": f"user{self.user_id}",
                         "language_code": self.language_code}, **extra}

    def say(self, text: str, **extra) -> None:
        self.emulator.post("/sendMessage", self._message(text, **extra))

    def command(self, text: str) -> None:
        length = len(text.split(maxsplit=1)[0])
        self.emulator.post("/sendCommand", self._message(
            text, entities=[{"type": "bot_command", "offset": 0, "length": length}]))

    def reply_to_bot(self, text: str, bot_message_id: int) -> None:
        self.say(text, reply_to_message={"message_id": bot_message_id, "date": int(time.time()),
                                         "chat": {"id": self.chat_id, "type": self.chat_type},
                                         "from": {"id": BOT_ID, "is_bot": True, "first_name": "Bot",
                                                  "username": BOT_USERNAME}, "text": "…"})

    def press(self, reply: Reply, data: str) -> None:
        message = {"message_id": reply.message_id, "date": int(time.time()),
                   "chat": {"id": self.chat_id, "type": self.chat_type}, "text": reply.text}
        self.emulator.post("/sendCallback", {
            "botToken": self.token, "data": data, "message": message,
            "from": {"id": self.user_id, "is_bot": False, "first_name": f"user{self.user_id}",
                     "language_code": self.language_code}})

    def edit(self, message_id: int, text: str) -> None:
        """The user edits one of their messages: an edited_message update."""
        message = self._message(text, message_id=message_id, edit_date=int(time.time()))
        message.pop("botToken")
        if text.startswith("/"):
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
        self.emulator.post("/sendUpdate", {"botToken": self.token, "edited_message": message})

    def channel_post(self, text: str) -> None:
        chat = {"id": self.chat_id, "type": "channel", "title": "channel"}
        self.emulator.post("/sendUpdate", {"botToken": self.token, "channel_post": {
            "message_id": next(_ids), "date": int(time.time()), "chat": chat, "text": text}})

    def sticker(self) -> None:
        message = self._message("")
        message.pop("text")
        message["sticker"] = {"file_id": "CAAD", "file_unique_id": "AgAD", "type": "regular", "width": 512,
                              "height": 512, "is_animated": False, "is_video": False}
        self.emulator.post("/sendMessage", message)

    def photo(self) -> None:
        message = self._message("")
        message.pop("text")
        message["photo"] = [{"file_id": "AgAC", "file_unique_id": "AQAD", "width": 90, "height": 90}]
        self.emulator.post("/sendMessage", message)

    def replies(self, count: int = 1, timeout: float = 30.0, settle: float = 0.0) -> list[Reply]:
        """Wait for `count` bot messages in this chat; with `settle`, also wait that long for extras."""
        got: list[Reply] = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            got += self._fetch()
            if len(got) >= count:
                break
            time.sleep(0.05)
        if settle:
            time.sleep(settle)
            got += self._fetch()
        return got

    def _fetch(self) -> list[Reply]:
        data = self.emulator.post("/getUpdates", {"token": self.token, "chatId": self.chat_id})
        out = []
        for item in sorted(data.get("result") or [], key=lambda u: u["messageId"]):
            m = item["message"]
            markup = m.get("reply_markup")
            if isinstance(markup, str):
                markup = json.loads(markup)
            buttons = [(b["text"], b.get("callback_data", "")) for row in (markup or {}).get("inline_keyboard", [])
                       for b in row]
            out.append(Reply(m.get("text", ""), buttons, item["messageId"], markup or {}))
        return out
