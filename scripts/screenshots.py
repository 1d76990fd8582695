"""What a reader sees in Telegram, without a Telegram account: the real bot against the emulated Bot API, each
message it sent drawn as a phone-width chat bubble in headless Chromium, written to docs/screenshots/.

    python scripts/screenshots.py

Installs Debian's chromium if it is missing (apt-get, as root or with sudo) and the emulator's npm packages.
Writes one PNG per conversation and docs/screenshots/README.md with what was asked and how tall each reply is
next to one phone screen (390 × 844 CSS pixels).
"""

from __future__ import annotations

import html
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # for tests/botapi.py: the test harness is not an installed package

from tests.botapi import BotProcess, Emulator, Reply, User  # noqa: E402

OUT = ROOT / "docs" / "screenshots"
TOKEN = "123456:AAE-screenshot_token_for_the_emulator_01"
ADMIN = 4242
WIDTH, SCREEN = 390, 844  # an iPhone 12-15's CSS viewport


@dataclass(frozen=True)
class Scene:
    name: str
    caption: str
    turns: tuple[str, ...]  # what the user sends, in order ("/ask …" in a group)
    language: str = "zh-hans"
    chat_type: str = "private"
    user_id: int | None = None


SCENES = (
    Scene("answer", "A lookup: one quote, the answer in bold, outlet · date · linked title", ("H200芯片的单价是多少？",)),
    Scene("timeline", "The story changed: dated quotes, the newest first", ("H200现在能进入中国吗？",)),
    Scene("refusal", "Not in the articles: one line, two related titles", ("今天北京天气怎么样？",)),
    Scene("followup", "A follow-up read with the topic before", ("网信办什么时候约谈了英伟达？", "它要求英伟达做什么？")),
    Scene("traditional", "A traditional-script reader", ("輝達的H200晶片被中國海關擋下了嗎？",), language="zh-hant"),
    Scene("group", "In a group: asked with /ask", ("/ask 国家网信办在哪一天约谈了英伟达？",),
          chat_type="group"),
    Scene("start", "/start: what the bot knows and questions to tap", ("/start",)),
)

STYLE = """
body { margin: 0; background: #c9d9e8; font: 15px/1.35 -apple-system, "Noto Sans CJK SC", "Noto Sans SC",
       "WenQuanYi Micro Hei", sans-serif; width: %dpx; }
.chat { padding: 10px 8px 14px; }
.msg { max-width: 86%%; margin: 6px 0; padding: 7px 10px 8px; border-radius: 12px; white-space: pre-wrap;
       word-wrap: break-word; box-shadow: 0 1px 1px rgba(0,0,0,.12); }
.user { margin-left: auto; background: #e1ffc7; border-bottom-right-radius: 4px; }
.bot { background: #fff; border-bottom-left-radius: 4px; }
.bot a { color: #168acd; text-decoration: none; }
blockquote { margin: 4px 0; padding: 2px 0 2px 8px; border-left: 3px solid #5eb5f7; background: #eef6fd;
             border-radius: 3px; white-space: pre-wrap; }
code { font-family: monospace; background: #f3f3f3; }
.keys { display: flex; flex-wrap: wrap; gap: 4px; max-width: 86%%; margin: -2px 0 6px; }
.keys .row { display: flex; gap: 4px; width: 100%%; }
.keys span { flex: 1; text-align: center; padding: 7px 4px; border-radius: 8px; background: rgba(70,110,150,.55);
             color: #fff; font-size: 14px; }
.reply-keyboard { background: #f1f1f1; padding: 6px; margin-top: 8px; }
.reply-keyboard span { display: block; margin: 4px 0; padding: 8px; background: #fff; border-radius: 6px;
                       text-align: center; font-size: 14px; }
.caption { font-size: 12px; color: #44617d; text-align: center; margin: 4px 0 8px; }
""" % WIDTH


def ensure_chromium() -> str:
    """Debian's chromium, and Chinese and emoji fonts for it (without them every character is drawn as a box)."""
    missing = [] if shutil.which("chromium") else ["chromium"]
    fonts = subprocess.run(["fc-list"], capture_output=True, text=True).stdout if shutil.which("fc-list") else ""
    if "wqy" not in fonts.lower() and "cjk" not in fonts.lower():
        missing.append("fonts-wqy-microhei")
    if "emoji" not in fonts.lower():  # the 👍 / 👎 buttons
        missing.append("fonts-noto-color-emoji")
    if missing:
        prefix = [] if os.geteuid() == 0 else ["sudo"]
        print(f"installing Debian's {' and '.join(missing)} (apt-get) …", file=sys.stderr)
        subprocess.run([*prefix, "apt-get", "install", "-y", "-q", *missing], check=True,
                       env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})
    return shutil.which("chromium") or "/usr/bin/chromium"


def play(emulator: Emulator, scene: Scene) -> list[tuple[str, object]]:
    """The conversation: ('user', text) and ('bot', reply) in order."""
    user = User(emulator, TOKEN, user_id=scene.user_id, chat_type=scene.chat_type, language_code=scene.language)
    out: list[tuple[str, object]] = []
    for turn in scene.turns:
        (user.command if turn.startswith("/") else user.say)(turn)
        out.append(("user", turn))
        out += [("bot", reply) for reply in user.replies(1, timeout=90, settle=0.5)]
    return out


def bubble(reply: Reply) -> str:
    body = f'<div class="msg bot">{reply.html}</div>'
    markup = reply.markup
    if markup.get("inline_keyboard"):
        rows = "".join('<div class="row">' + "".join(f"<span>{html.escape(b['text'])}</span>" for b in row) + "</div>"
                       for row in markup["inline_keyboard"])
        body += f'<div class="keys">{rows}</div>'
    if markup.get("keyboard"):
        keys = "".join(f"<span>{html.escape(b['text'] if isinstance(b, dict) else b)}</span>"
                       for row in markup["keyboard"] for b in row)
        body += f'<div class="reply-keyboard">{keys}</div>'
    return body


def page(scene: Scene, conversation: list[tuple[str, object]]) -> str:
    parts = [f'<div class="caption">{html.escape(scene.caption)}</div>']
    for who, item in conversation:
        parts.append(f'<div class="msg user">{html.escape(item)}</div>' if who == "user" else bubble(item))
    # the height of the bot's replies to the last question, measured where Chromium lays them out
    # (messages and their buttons, from the bottom of the last question to the end of the chat)
    script = ("<script>window.onload=function(){var c=document.querySelector('.chat');var u=document.querySelectorAll"
              "('.user');var last=u[u.length-1];var h=c.offsetTop+c.offsetHeight-(last.offsetTop+last.offsetHeight);"
              "document.body.setAttribute('data-reply',h);document.body.setAttribute('data-total',c.offsetHeight);}"
              "</script>")
    return (f"<!doctype html><html><head><meta charset='utf-8'><style>{STYLE}</style>{script}</head>"
            f"<body><div class='chat'>{''.join(parts)}</div></body></html>")


def chromium(binary: str, *args: str) -> subprocess.CompletedProcess:
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars"]
    with tempfile.TemporaryDirectory() as profile:
        return subprocess.run([binary, *flags, f"--user-data-dir={profile}", *args], capture_output=True, text=True,
                              timeout=120)


def measure(binary: str, path: Path) -> tuple[int, int]:
    dom = chromium(binary, f"--window-size={WIDTH},{SCREEN}", "--dump-dom", path.as_uri()).stdout
    reply = re.search(r'data-reply="(\d+)"', dom)
    total = re.search(r'data-total="(\d+)"', dom)
    return (int(reply.group(1)) if reply else -1), (int(total.group(1)) if total else SCREEN)


def main() -> int:
    binary = ensure_chromium()
    OUT.mkdir(parents=True, exist_ok=True)
    rows = []
    with tempfile.TemporaryDirectory(prefix="quotebot-screens-") as tmp:
        work = Path(tmp)
        shutil.copytree(ROOT / "seeds", work / "seeds")
        emulator = Emulator(work)
        bot = BotProcess(emulator, work, work / "seeds", TOKEN, admins=str(ADMIN))
        try:
            for scene in SCENES:
                conversation = play(emulator, scene)
                html_path = work / f"{scene.name}.html"
                html_path.write_text(page(scene, conversation), encoding="utf-8")
                reply_h, total_h = measure(binary, html_path)
                png = OUT / f"{scene.name}.png"
                chromium(binary, f"--window-size={WIDTH},{max(total_h, 200)}", f"--screenshot={png}",
                         html_path.as_uri())
                rows.append((scene, reply_h, png.exists()))
                print(f"{scene.name}: reply {reply_h} px of a {SCREEN} px screen", file=sys.stderr)
        finally:
            bot.stop()
            emulator.stop()
    lines = ["# What a reader sees", "",
             "Written by `python scripts/screenshots.py`: the real bot (`python -m bot serve`) against the emulated"
             " Bot API, over the five seeds; every message the bot sent, drawn as Telegram draws its HTML subset at a"
             f" phone's width ({WIDTH} CSS px) in headless Chromium. Reply height: the bot's messages and buttons after"
             f" the last question, against one phone screen of {SCREEN} px.", "",
             "| screen | what it shows | asked | reply height |", "|---|---|---|---|"]
    for scene, h, ok in rows:
        fits = "fits one screen" if 0 <= h <= SCREEN else "longer than one screen"
        lines.append(f"| [{scene.name}]({scene.name}.png) | {scene.caption} | {' → '.join(scene.turns)} |"
                     f" {h} px ({fits}) |")
    (OUT / "README.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return 0 if all(ok for _, _, ok in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
