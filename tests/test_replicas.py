"""Two `serve` replicas behind a round-robin load balancer, answering from one Qdrant collection."""

from __future__ import annotations

import shutil
import subprocess
import sys
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.botapi import BotProcess, User, free_port, node_missing_reason, wait_for_line
from tests.conftest import ROOT, SEEDS
from tests.test_telegram_e2e import NEW_ARTICLE, quotes

pytestmark = [pytest.mark.e2e, pytest.mark.slow,
              pytest.mark.skipif(node_missing_reason() is not None, reason=node_missing_reason() or "")]

TOKEN = "777001:AAE-replica_token_for_the_emulator_0001"
ADMIN = 5151


class Balancer:
    """Forwards each webhook POST to the next replica in turn and counts what each one got."""

    def __init__(self, ports: list[int]):
        self.ports = ports
        self.got = [0] * len(ports)
        self._next = 0
        self._lock = threading.Lock()
        balancer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with balancer._lock:
                    k = balancer._next
                    balancer._next = (k + 1) % len(balancer.ports)
                    balancer.got[k] += 1
                headers = {h: self.headers[h] for h in ("Content-Type", "X-Telegram-Bot-Api-Secret-Token")
                           if self.headers.get(h)}
                request = urllib.request.Request(f"http://127.0.0.1:{balancer.ports[k]}{self.path}", data=body,
                                                 headers=headers, method="POST")
                with urllib.request.urlopen(request, timeout=60) as response:
                    status, data = response.status, response.read()
                self.send_response(status)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()


@pytest.fixture(scope="module")
def qdrant_url(tmp_path_factory):
    """The emulated Qdrant server (tests/qdrant_server.py), as its own process."""
    tmp = tmp_path_factory.mktemp("qdrant")
    port = free_port()
    log = tmp / "qdrant.log"
    proc = subprocess.Popen([sys.executable, "-m", "tests.qdrant_server", "--path", str(tmp / "data"), "--port",
                             str(port)], cwd=ROOT, stdout=log.open("w"), stderr=subprocess.STDOUT)
    wait_for_line(log, "listening", proc, timeout=60)
    yield f"http://127.0.0.1:{port}"
    proc.terminate()
    proc.wait(timeout=10)


def test_two_replicas_answer_the_same_and_share_reindex_limits_and_audit(emulator, qdrant_url, tmp_path):
    seeds = tmp_path / "seeds"
    shutil.copytree(SEEDS, seeds)
    ports = [free_port(), free_port()]
    balancer = Balancer(ports)
    hook = f"http://127.0.0.1:{balancer.port}/quotebot-hook"
    env = {"QUOTEBOT_STATE": str(tmp_path / "state"), "TELEGRAM_WEBHOOK_SECRET": "replica-secret-0123",
           "QUOTEBOT_POLL_SECONDS": "1", "QUOTEBOT_RATE_LIMIT": "4/120"}
    replicas = []
    try:
        for k, port in enumerate(ports):  # the first one builds and publishes; the second finds it published
            work = tmp_path / f"replica{k}"
            work.mkdir()
            replicas.append(BotProcess(emulator, work, seeds, TOKEN, admins=str(ADMIN), env=env, extra_args=(
                "--webhook-url", hook, "--listen", "127.0.0.1", "--port", str(port),
                "--backend", "qdrant", "--qdrant-url", qdrant_url)))
        assert "indexed" in replicas[0].logs() and "indexed" not in replicas[1].logs()
        assert not (tmp_path / "replica1" / "index").exists()  # the second replica keeps no index of its own

        # The same question, once to each replica (the balancer alternates): the same reply.
        asked = [User(emulator, TOKEN), User(emulator, TOKEN)]
        answers = []
        for u in asked:
            u.say("H200芯片的单价是多少？")
            answers += u.replies(1)
        assert balancer.got == [1, 1]
        assert "27000美元" in answers[0].text and quotes(answers[0]) and answers[0].html == answers[1].html

        # Feedback taken by the first replica is in the second one's /stats: one audit log for both.
        vote = dict(answers[0].buttons)["👎"]
        asked[0].press(answers[0], vote)
        time.sleep(0.5)
        admin = User(emulator, TOKEN, user_id=ADMIN)
        admin.command("/stats")
        [stats] = admin.replies(1)
        assert balancer.got == [2, 2] and vote.split("|")[1] in stats.text

        # A reindex by one replica is seen by the other.
        (seeds / "maglev.md").write_text(NEW_ARTICLE, encoding="utf-8")
        admin.command("/reindex")
        report = "".join(r.text for r in admin.replies(2, timeout=120))
        assert "新增 1" in report and "maglev.md" in report, report
        time.sleep(2.5)  # the other replica's next look at the alias (every second)
        readers = [User(emulator, TOKEN), User(emulator, TOKEN)]
        for u in readers:
            u.say("示例市的磁悬浮线路全长多少公里？")
            [reply] = u.replies(1)
            assert any("42公里" in q for q in quotes(reply)), reply.text
        assert balancer.got == [4, 3]

        # One user's limit (4 in two minutes) counts the questions both replicas took.
        busy = User(emulator, TOKEN)
        for n in range(5):
            busy.say(f"H200芯片的单价是多少？{'？' * n}")
        replies = busy.replies(5, timeout=60)
        assert sum("太频繁" in r.text for r in replies) == 1
        assert balancer.got == [6, 6]
    finally:
        for r in replicas:
            assert r.stop() == 0, r.logs()[-3000:]
        balancer.stop()
    for r in replicas:
        assert TOKEN not in r.logs()
