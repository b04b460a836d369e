"""The real datasets, all checks at once: exactly the problems they are known to have.

Each family's tests look at its own findings in detail; this one runs everything at
the default settings through pytest and pins the whole picture, so that no family
starts reporting something new on real data unnoticed.
"""

from __future__ import annotations

import json
import shutil
from collections import Counter

from conftest import REAL, needs_encodings

pytestmark = needs_encodings

#: File -> (format, examples, classes, findings by code), at the default settings.
KNOWN = {
    "autotunegpt__data.jsonl": (
        "prompt_completion",
        22,
        None,
        {"FT014": 1, "FT110": 1, "FT120": 22, "FT130": 1},
    ),
    "autotunegpt__data_prepared.jsonl": (
        "prompt_completion",
        11,
        None,
        {"FT014": 1, "FT110": 1},
    ),
    "azuresamples__context_switching_prepared_train.jsonl": (
        "prompt_completion",
        178,
        {" 1": 51, " 2": 50, " 4": 48, " 3": 29},
        {"FT113": 41, "FT503": 4, "FT504": 1},
    ),
    "azuresamples__context_switching_prepared_valid.jsonl": (
        "prompt_completion",
        45,
        {" 4": 15, " 2": 13, " 1": 12, " 3": 5},
        {"FT113": 15, "FT503": 4, "FT504": 1},
    ),
    "gptchem__mof_solvent_train.jsonl": (
        "prompt_completion",
        328,
        {" 1": 215, " 0": 113},
        {"FT103": 1, "FT150": 1, "FT401": 1, "FT503": 2, "FT504": 1},
    ),
    "msfoundry__gsm8k_chat_train.jsonl": (
        "chat",
        449,
        None,
        {"FT225": 1, "FT226": 1, "FT227": 1},
    ),
    "msfoundry__orca_dpo_pairs_validation.jsonl": (
        "preference",
        284,
        None,
        {"FT012": 1, "FT403": 2, "FT406": 3},
    ),
    "openai-cookbook__toy_chat_fine_tuning.jsonl": (
        "chat",
        5,
        None,
        {"FT013": 1, "FT212": 1},
    ),
}


def test_every_real_file_has_exactly_its_known_problems(pytester):
    data = pytester.mkdir("data")
    for name in KNOWN:
        shutil.copy(REAL / name, data / name)
    out = pytester.path / "report.json"
    result = pytester.runpytest("-p", "no:cacheprovider", f"--finetune-report={out}", "data")
    datasets = {d["path"].removeprefix("data/"): d for d in json.loads(out.read_text())["datasets"]}
    assert set(datasets) == set(KNOWN)
    for name, (fmt, examples, classes, codes) in KNOWN.items():
        dataset = datasets[name]
        found = Counter(finding["code"] for finding in dataset["findings"])
        assert (dataset["format"], dataset["examples"], dataset["classes"], dict(found)) == (
            fmt,
            examples,
            classes,
            codes,
        ), name
        assert dataset["tokens"]["exact"] is True, name
    # Errors: the autotune file's completions lack a leading space, the toy file has 5
    # examples; every other finding is a warning.
    failed = (line.partition(" - ")[0] for line in result.outlines if line.startswith("FAILED"))
    assert sorted(failed) == [
        "FAILED data/autotunegpt__data.jsonl::checks",
        "FAILED data/openai-cookbook__toy_chat_fine_tuning.jsonl::checks",
    ]
    result.stdout.fnmatch_lines(
        ["FT120 completion-missing-leading-space: 22 errors in data/autotunegpt__data.jsonl"]
    )
