"""Latency benchmark for chatbot.intents.parse (a script, not a test).

Parses every utterance of the test table (tests/chatbot/test_intents.py), the
labelled development set and the question corpus (tests/chatbot/data) many
times and prints p50 / p99 / max per-utterance latency in microseconds, plus
the slowest utterance (by its median time). The knowledge index is built first.

    .venv/bin/python bench/bench_intents.py [--rounds N]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "chatbot"))

import json  # noqa: E402

from test_intents import EXAMPLES  # noqa: E402

from chatbot.intents import parse, warm  # noqa: E402

DATA = ROOT / "tests" / "chatbot" / "data"


def _labelled() -> list[str]:
    return [json.loads(line)["text"] for name in ("understanding_dev.jsonl", "questions_corpus.jsonl")
            for line in (DATA / name).read_text(encoding="utf-8").splitlines() if line.strip()]


def _percentile(sorted_values: list[int], fraction: float) -> int:
    index = min(len(sorted_values) - 1, max(0, round(fraction * (len(sorted_values) - 1))))
    return sorted_values[index]


def run(rounds: int, warmup: int) -> None:
    utterances = [example.text for example in EXAMPLES] + _labelled()
    warm()
    for _ in range(warmup):
        for text in utterances:
            parse(text)

    samples: list[int] = []
    per_utterance: dict[str, list[int]] = {text: [] for text in utterances}
    clock = time.perf_counter_ns
    for _ in range(rounds):
        for text in utterances:
            start = clock()
            parse(text)
            elapsed = clock() - start
            samples.append(elapsed)
            per_utterance[text].append(elapsed)

    samples.sort()
    slowest_text, slowest_times = max(
        per_utterance.items(), key=lambda item: statistics.median(item[1]))
    print(f"utterances: {len(utterances)}  rounds: {rounds}  samples: {len(samples)}")
    print(f"p50: {_percentile(samples, 0.50) / 1000:.1f} µs")
    print(f"p99: {_percentile(samples, 0.99) / 1000:.1f} µs")
    print(f"max: {samples[-1] / 1000:.1f} µs")
    print(f"slowest utterance (median {statistics.median(slowest_times) / 1000:.1f} µs): "
          f"{slowest_text!r}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    args = parser.parse_args()
    run(args.rounds, args.warmup)


if __name__ == "__main__":
    main()
