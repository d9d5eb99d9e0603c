"""Score the chatbot's understanding layer on a labelled set of lines it was not built from.

Each line of the JSONL file is ``{"text", "intent", "slots", "act", "kind"}`` (the labelling
contract is in ``chatbot/intents/__init__.py``). Printed: intent, slot, act and joint accuracy,
the destructive misfires (a line given a destructive intent it did not ask for), and the same
figures per kind of line. ``--failures`` lists the misses; leave it off when scoring a held-out
set, so that nobody tunes the parser on it.

    .venv/bin/python bench/eval_understanding.py tests/chatbot/data/understanding_eval.jsonl
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

DESTRUCTIVE = {"deactivate_online", "deactivate_offline", "clear_storage", "quit"}


def _load(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _score(rows: list[dict[str, Any]]) -> tuple[dict[str, Any], list[str]]:
    from chatbot.intents import parse

    totals: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    failures: list[str] = []
    for row in rows:
        got = parse(row["text"])
        act = getattr(got, "act", None)
        checks = {
            "intent": got.name == row["intent"],
            "slots": dict(got.slots) == row["slots"],
            "act": act == row["act"],
        }
        checks["joint"] = all(checks.values())
        misfire = got.name in DESTRUCTIVE and got.name != row["intent"]
        for bucket in ("all", row["kind"]):
            totals[bucket]["lines"] += 1
            totals[bucket]["misfires"] += misfire
            for name, ok in checks.items():
                totals[bucket][name] += ok
        if not checks["joint"]:
            failures.append(f"{row['text']!r}: expected {row['intent']} {row['slots']} act={row['act']}, "
                            f"got {got.name} {dict(got.slots)} act={act}")
    return totals, failures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", type=Path)
    parser.add_argument("--failures", action="store_true", help="list every line not understood exactly")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    totals, failures = _score(_load(args.path))
    print(f"{'kind':<18} {'lines':>5} {'intent':>7} {'slots':>7} {'act':>7} {'joint':>7} {'misfires':>8}")
    for kind in ["all", *sorted(k for k in totals if k != "all")]:
        t = totals[kind]
        share = {name: t[name] / t["lines"] for name in ("intent", "slots", "act", "joint")}
        print(f"{kind:<18} {t['lines']:>5} {share['intent']:>7.3f} {share['slots']:>7.3f} {share['act']:>7.3f} "
              f"{share['joint']:>7.3f} {t['misfires']:>8}")
    if args.failures:
        print("\n".join(["", *failures]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
