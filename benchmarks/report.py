"""Replace one marked section of docs/benchmarks.md, leaving the other scripts' sections alone."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

DOC = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"
HEADER = "# Benchmarks\n\nEvery table here is written by a script in `benchmarks/`; the command that produced it is above it.\n"


def write_section(name: str, body: str, doc: Path = DOC) -> None:
    doc.parent.mkdir(parents=True, exist_ok=True)
    text = doc.read_text(encoding="utf-8") if doc.exists() else HEADER
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    block = f"{start}\n{body.strip()}\n{end}"
    if start in text:
        text = re.sub(re.escape(start) + r".*?" + re.escape(end), lambda _m: block, text, flags=re.S)
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    doc.write_text(text, encoding="utf-8")


def command_line(script: str) -> str:
    """The command that writes this script's section: as it was run, with --write."""
    return f"python benchmarks/{script} " + " ".join(a for a in sys.argv[1:] if a != "--write") + " --write"


def read_logs(paths: list[Path]) -> tuple[list[dict], str]:
    """The JSON objects earlier runs printed, one a line, and their commands (lines {"command": ...}) joined:
    for sections whose sizes were measured by separate, long runs."""
    logged = [json.loads(line) for path in paths for line in path.read_text(encoding="utf-8").splitlines()
              if line.startswith("{")]
    return [r for r in logged if "command" not in r], "` and `".join(r["command"] for r in logged if "command" in r)
