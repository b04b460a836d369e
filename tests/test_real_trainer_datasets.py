"""Real files in the trainers' and providers' formats: exactly the problems they are known to have.

LLaMA-Factory's example datasets, Anthropic's Bedrock cookbook data and hh-rlhf, a
Vertex AI tuning sample and Amazon Nova's documented example (``tests/data/real/README.md``
names each source). They are valid data for their trainer or service, so the checks
of their format must pass them; what is pinned here is what they really have.
LLaMA-Factory's are JSON arrays, as it ships them.
"""

from __future__ import annotations

import json
import shutil
from collections import Counter

from conftest import REAL, needs_encodings

pytestmark = needs_encodings

#: File -> (the target it is for, format, examples, findings by code), at the default settings.
#: Read as chat, the files are judged by the chat and content checks too: FT014 says an
#: excerpt is few examples; identity.json is LLaMA-Factory's template, its {{name}}
#: placeholders unfilled (FT403); the glaive excerpt repeats an example (FT401) and holds
#: e-mail addresses (FT405); a DPO letter keeps "[Recipient's Name]" (FT403).
KNOWN = {
    "llamafactory__alpaca_en_demo_excerpt.json": ("trl", "alpaca", 15, {"FT014": 1}),
    "llamafactory__identity_excerpt.json": ("trl", "alpaca", 15, {"FT014": 1, "FT403": 15}),
    "llamafactory__glaive_toolcall_en_demo_excerpt.json": (
        "trl",
        "sharegpt",
        8,
        {"FT014": 1, "FT401": 1, "FT405": 2},
    ),
    "llamafactory__glaive_toolcall_zh_demo_excerpt.json": ("trl", "sharegpt", 4, {"FT014": 1}),
    "llamafactory__dpo_en_demo_excerpt.json": (
        "trl",
        "sharegpt_preference",
        6,
        {"FT014": 1, "FT403": 1},
    ),
    # Excerpts: Bedrock takes 32 examples or more.
    "anthropic-cookbook__json_mode_dataset_excerpt.jsonl": ("bedrock", "claude", 20, {"FT013": 1}),
    "hh-rlhf__harmless_base_test.jsonl": ("trl", "chosen_rejected", 30, {"FT014": 1}),
    # The sample has no newline after its one line.
    "gcp-generative-ai__patient_1_glucose_examples.jsonl": (
        "vertex",
        "gemini",
        1,
        {"FT012": 1, "FT014": 1},
    ),
    "aws-nova-docs__text_example.jsonl": ("bedrock", "nova", 1, {"FT013": 1}),
}


def test_every_real_trainer_file_has_exactly_its_known_problems(pytester):
    data = pytester.mkdir("data")
    for name in KNOWN:
        shutil.copy(REAL / name, data / name)
    targets = "\n".join(f'"data/{name}" = "{target}"' for name, (target, *_) in KNOWN.items())
    pytester.makepyprojecttoml(f"[tool.pytest_finetune.per-file-target]\n{targets}\n")
    out = pytester.path / "report.json"
    pytester.runpytest("-p", "no:cacheprovider", f"--finetune-report={out}", "data")
    datasets = {d["path"].removeprefix("data/"): d for d in json.loads(out.read_text())["datasets"]}
    assert set(datasets) == set(KNOWN)
    for name, (_, fmt, examples, codes) in KNOWN.items():
        dataset = datasets[name]
        found = Counter(finding["code"] for finding in dataset["findings"])
        assert (dataset["format"], dataset["examples"], dict(found)) == (fmt, examples, codes), name


def test_a_nova_record_is_recognised_by_its_system_blocks_without_a_schema_version(pytester):
    # Amazon's own Nova 2 samples leave schemaVersion out; the system blocks say Nova.
    record = {
        "system": [{"text": "You are a securities law tool selection specialist."}],
        "messages": [
            {"role": "user", "content": [{"text": "Verify this citation."}]},
            {"role": "assistant", "content": [{"text": "It is valid."}]},
        ],
    }
    pytester.makefile(".jsonl", nova=json.dumps(record))
    out = pytester.path / "report.json"
    pytester.runpytest("-p", "no:cacheprovider", f"--finetune-report={out}", "nova.jsonl")
    (dataset,) = json.loads(out.read_text())["datasets"]
    assert dataset["format"] == "nova"
    assert [f["code"] for f in dataset["findings"] if f["code"].startswith("FT7")] == []
