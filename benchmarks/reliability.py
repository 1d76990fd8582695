"""Run the reliability tests and write their figures to docs/reliability.md."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TESTS = ["tests/test_reliability.py", "tests/test_chat_reliability.py"]


def run(soak: int) -> tuple[list[dict], str, int]:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "reliability.json"
        env = dict(os.environ, QUOTEBOT_RELIABILITY_OUT=str(out), QUOTEBOT_SOAK_QUESTIONS=str(soak),
                   OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
        r = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *TESTS], cwd=ROOT, env=env,
                           capture_output=True, text=True)
        summary = (r.stdout.strip().splitlines() or ["(no output)"])[-1]
        if r.returncode != 0:
            print(r.stdout[-6000:], file=sys.stderr)
        records = json.loads(out.read_text(encoding="utf-8")) if out.exists() else []
    return records, summary, r.returncode


def merge(records: list[dict]) -> list[dict]:
    """One row per fault: cases summed (hypothesis and parametrised tests record one case each)."""
    rows: dict[str, dict] = {}
    for rec in records:
        row = rows.setdefault(rec["fault"], {"fault": rec["fault"], "cases": 0, "outcome": rec["outcome"]})
        row["cases"] += rec["cases"]
        row["outcome"] = rec["outcome"]
    return list(rows.values())


def render(rows: list[dict], summary: str, command: str) -> str:
    lines = [
        "# Reliability",
        "",
        "Each fault or bad input the tests try, how many cases, and what the bot did. Written by",
        f"`{command}` on {time.strftime('%Y-%m-%d')} ({summary}).",
        "The same tests run in `.ci/run` (the soak with 200 questions; `--soak N` or",
        "`QUOTEBOT_SOAK_QUESTIONS=N` for a longer one).",
        "",
        "| fault or input | cases | what the bot did |",
        "| --- | ---: | --- |",
    ]
    for row in rows:
        lines.append(f"| {row['fault'].replace('|', '/')} | {row['cases']} | {row['outcome'].replace('|', '/')} |")
    lines += ["", "Also covered elsewhere in the suite: a file that cannot be read (empty, binary, broken JSON, 21.6 MB,",
              "Markdown without front matter) is skipped with a warning naming it (`tests/test_documents.py`); the token",
              "is grepped for in the bot's captured logs after every chat test run (`tests/test_telegram_e2e.py`,",
              "`tests/test_chat_reliability.py`).", ""]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--soak", type=int, default=200, help="questions in the soak test (default 200)")
    parser.add_argument("--write", action="store_true", help="write docs/reliability.md")
    args = parser.parse_args()
    records, summary, code = run(args.soak)
    command = "python benchmarks/reliability.py --write" + (f" --soak {args.soak}" if args.soak != 200 else "")
    text = render(merge(records), summary, command)
    print(text)
    if args.write:
        if code != 0:
            print(f"not writing docs/reliability.md: the tests failed ({summary})", file=sys.stderr)
            return 1
        (ROOT / "docs" / "reliability.md").write_text(text, encoding="utf-8")
    return code


if __name__ == "__main__":
    sys.exit(main())
