"""Deterministic generator of realistic fine-tuning datasets for benchmarks.

    python benchmarks/generate.py prompt_completion 1000000 benchmarks/data/pc_1m.jsonl
    python benchmarks/generate.py chat 100000 benchmarks/data/chat_100k.jsonl

Prompt/completion rows are support tickets classified or answered in the usual legacy
layout (`` ->`` separator, leading space, ``\\n`` stop); chat rows are support
conversations with a system prompt and one to three turns. Lengths vary the way real
tickets do (a long tail), and the same seed always gives the same bytes.
"""

from __future__ import annotations

import argparse
import json
import random
from collections.abc import Iterator
from pathlib import Path

WORDS = [
    "order",
    "parcel",
    "refund",
    "invoice",
    "account",
    "password",
    "delivery",
    "tracking",
    "screen",
    "battery",
    "charger",
    "update",
    "firmware",
    "warranty",
    "replacement",
    "subscription",
    "payment",
    "card",
    "address",
    "courier",
    "box",
    "broken",
    "cracked",
    "missing",
    "late",
    "twice",
    "charged",
    "login",
    "email",
    "verification",
    "reset",
    "factory",
    "bluetooth",
    "wifi",
    "app",
    "crash",
    "error",
    "noise",
    "display",
    "speaker",
    "keyboard",
    "cable",
    "store",
    "return",
    "please",
    "thanks",
    "hello",
    "morning",
    "urgent",
    "yesterday",
    "week",
    "month",
    "today",
    "again",
    "still",
    "never",
]
LABELS = [" billing", " shipping", " account", " technical", " returns", " other"]
WEIGHTS = [30, 25, 18, 15, 8, 4]


def sentence(rng: random.Random, low: int, high: int) -> str:
    words = rng.choices(WORDS, k=rng.randint(low, high))
    return " ".join(words).capitalize() + rng.choice([".", "?", "!", "."])


def paragraph(rng: random.Random, sentences: int) -> str:
    return " ".join(sentence(rng, 5, 18) for _ in range(sentences))


def prompt_completion(rng: random.Random) -> dict[str, str]:
    # A long tail: most tickets are a few sentences, some are pages.
    length = min(60, int(rng.paretovariate(1.6) * 4))
    prompt = f"Customer #{rng.randint(10_000, 99_999)}: {paragraph(rng, length)} ->"
    if rng.random() < 0.5:
        completion = rng.choices(LABELS, WEIGHTS)[0] + "\n"
    else:
        completion = " " + paragraph(rng, rng.randint(1, 6)) + "\n"
    return {"prompt": prompt, "completion": completion}


def chat(rng: random.Random) -> dict[str, object]:
    messages: list[dict[str, str]] = [
        {"role": "system", "content": "You are a concise, friendly support assistant."}
    ]
    for _ in range(rng.randint(1, 3)):
        messages.append({"role": "user", "content": paragraph(rng, rng.randint(1, 8))})
        messages.append({"role": "assistant", "content": paragraph(rng, rng.randint(1, 6))})
    return {"messages": messages}


def rows(kind: str, count: int, seed: int) -> Iterator[str]:
    rng = random.Random(seed)
    make = prompt_completion if kind == "prompt_completion" else chat
    for _ in range(count):
        yield json.dumps(make(rng), ensure_ascii=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
    parser.add_argument("kind", choices=["prompt_completion", "chat"])
    parser.add_argument("rows", type=int)
    parser.add_argument("output", type=Path)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    args.output.parent.mkdir(parents=True, exist_ok=True)
    with args.output.open("w", encoding="utf-8") as stream:
        for row in rows(args.kind, args.rows, args.seed):
            stream.write(row + "\n")
    print(f"{args.output}: {args.rows:,} rows, {args.output.stat().st_size / 1e6:,.0f} MB")


if __name__ == "__main__":
    main()
