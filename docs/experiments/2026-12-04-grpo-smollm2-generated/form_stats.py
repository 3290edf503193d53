"""Form of the answers before and after practice: how much of a gain is formatting.

    python3 form_stats.py BASE.jsonl PRACTISED.jsonl > reports/form.SPLIT.md

Reads two rollout files (the `run_rollouts.py` record shape) and prints one Markdown table:
completion length, answers cut at the token budget, several code blocks, usage blocks after the
code, parse failures, and passes. Standard library only; counts over every sample.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "src"))  # run from a checkout, no install
from codeself.parsing import USABLE_PARSE_STATUSES  # noqa: E402

USAGE = re.compile(r"(?im)^(#+\s*)?(example usage|usage|example)\b|^\s*print\(")
FENCE = re.compile(r"^\s*```", re.MULTILINE)  # opening and closing fences alike: 2 per block


def form(path: str) -> dict[str, float]:
    rows = [json.loads(line) for line in open(path, encoding="utf-8") if line.strip()]
    if not rows:
        raise SystemExit(f"{path}: no rollouts")
    lengths = [row["metadata"].get("completion_tokens") or 0 for row in rows]
    return {
        "samples": len(rows),
        "mean completion length (tokens)": round(sum(lengths) / len(rows), 1),
        "completions cut at the token budget": sum(row["metadata"].get("finish_reason") == "length" for row in rows),
        "completions with several code blocks": sum(len(FENCE.findall(row["completion"])) > 2 for row in rows),
        'completions with a usage / "print(" block': sum(bool(USAGE.search(row["completion"])) for row in rows),
        "parse failures (no code, truncated, syntax)": sum(row["parse_status"] not in USABLE_PARSE_STATUSES for row in rows),
        "passed": sum(row["execution"]["status"] == "passed" for row in rows),
    }


def main() -> None:
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    before, after = form(sys.argv[1]), form(sys.argv[2])
    print("| | before | after |\n|---|---:|---:|")
    for key in before:
        print(f"| {key} | {before[key]} | {after[key]} |")


if __name__ == "__main__":
    main()
