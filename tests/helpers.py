"""Data builders the tests share."""

from __future__ import annotations

import json
from typing import Any


def jsonl(*records: Any) -> str:
    """Records as JSON Lines text."""
    return "".join(json.dumps(record, ensure_ascii=False) + "\n" for record in records)


def pc(prompt: str, completion: str) -> dict[str, str]:
    return {"prompt": prompt, "completion": completion}


def intents(count: int) -> list[dict[str, str]]:
    """``count`` clean prompt/completion examples of a three-class intent dataset."""
    labels = [" shipping", " billing", " account"]
    return [pc(f"Customer message number {i} ->", labels[i % 3] + "\n") for i in range(count)]
