"""Projects for the training tests: the real Azure intent split, config and a marked test."""

from __future__ import annotations

import json
from typing import Any

from conftest import REAL

TRAIN = REAL / "azuresamples__context_switching_prepared_train.jsonl"
VALID = REAL / "azuresamples__context_switching_prepared_valid.jsonl"
#: The key the fake service accepts; shaped like a real one so that leaks would show.
KEY = "sk-proj-T3stKeyNeverPrintedAnywhere0123456789"


def intent_files(*, chat: bool = False, folder: str = "data") -> dict[str, str | bytes]:
    """The real 4-class split (178 training, 45 validation examples), as chat if asked."""
    files: dict[str, str | bytes] = {}
    for name, path in (("intent_train.jsonl", TRAIN), ("intent_valid.jsonl", VALID)):
        files[f"{folder}/{name}"] = as_chat(path.read_bytes()) if chat else path.read_bytes()
    return files


def as_chat(data: bytes) -> str:
    """Prompt/completion records as chat: the prompt without separator, the bare label."""
    lines = []
    for line in data.decode().splitlines():
        record = json.loads(line)
        messages = [
            {
                "role": "system",
                "content": "Classify the request: 1 data, 2 product, 3 chat, 4 more.",
            },
            {"role": "user", "content": record["prompt"].removesuffix(" ->").strip()},
            {"role": "assistant", "content": record["completion"].strip()},
        ]
        lines.append(json.dumps({"messages": messages}))
    return "\n".join(lines) + "\n"


#: The projects' configuration: none beyond the defaults.
PROJECT = "[tool.pytest_finetune]\n"


def openai_config(url: str, *, extra: str = "", **training: Any) -> str:
    """pyproject.toml for a project trained on the fake service, polling without sleeping."""
    settings = "".join(f"{key} = {json.dumps(value)}\n" for key, value in training.items())
    return (
        PROJECT + f"{extra}" + "[tool.pytest_finetune.training]\n"
        "poll-interval = 0\n"
        f"{settings}"
        "[tool.pytest_finetune.training.openai]\n"
        f'base-url = "{url}"\n'
        "max-retries = 3\n"
    )


def marked_test(body: str = "    pass\n", **declaration: Any) -> str:
    """A test module with one test marked ``finetune(**declaration)``."""
    arguments = ", ".join(f"{key}={value!r}" for key, value in declaration.items())
    return (
        "import pytest\n\n\n"
        f"@pytest.mark.finetune({arguments})\n"
        "def test_intent_model(finetune):\n"
        f"{body}"
    )
