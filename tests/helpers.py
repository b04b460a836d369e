"""Data builders the tests share."""

from __future__ import annotations

import json
from typing import Any


def jsonl(*records: Any) -> str:
    """Records as JSON Lines text."""
    return "".join(json.dumps(record, ensure_ascii=False) + "\n" for record in records)


def pc(prompt: str, completion: str) -> dict[str, str]:
    return {"prompt": prompt, "completion": completion}


_OPENINGS = ["Where is", "Please check", "Why was I charged for", "Can you cancel", "Help with"]
_SUBJECTS = ["my parcel", "order", "the invoice", "my subscription", "the delivery address"]


def intents(count: int) -> list[dict[str, str]]:
    """``count`` clean prompt/completion examples of a three-class intent dataset.

    Clean by every check: prompts that start differently and end with `` ->``,
    labels with a leading space and a ``\n`` stop.
    """
    labels = [" shipping", " billing", " account"]
    return [
        pc(
            f"{_OPENINGS[i % 5]} {_SUBJECTS[i // 5 % 5]} (ticket {i}) ->",
            labels[i % 3] + "\n",
        )
        for i in range(count)
    ]
