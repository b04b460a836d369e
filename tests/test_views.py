"""The checks of chat and preference data judge every trainer's format, read as OpenAI data.

A ShareGPT, Alpaca, Gemini, Claude or Nova record is also given, as chat or as a
preference pair, to the chat, preference, content, label and token checks, with its
own line; checks of OpenAI's schema alone, and those the format's own checks (FT7xx)
cover, do not judge it twice.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from helpers import jsonl

from pytest_finetune import Settings
from pytest_finetune.lint import lint

KEY = "sk-proj-" + "Zx9Yw8Vu7Ts6Rq5Po4Nm3Lk2Ji1Hg0Fe"


def findings(path: Path, target: str = "trl") -> dict[str, list[int | None]]:
    result = lint(path, Settings(overrides={"target": target}))
    found: dict[str, list[int | None]] = {}
    for outcome in result.outcomes.values():
        for finding in outcome.sorted_findings():
            found.setdefault(finding.code, []).append(finding.line)
    return found


def sharegpt(human: str, gpt: str) -> dict:
    return {"conversations": [{"from": "human", "value": human}, {"from": "gpt", "value": gpt}]}


def test_sharegpt_records_get_the_content_and_duplicate_checks(tmp_path):
    rows = [sharegpt(f"Question {n}?", f"Answer {n}.") for n in range(20)]
    rows[4] = sharegpt(f"My key is {KEY}, is it safe?", "Never share it.")
    rows[9] = sharegpt("Dear {customer_name}, your order?", "Shipped.")
    rows[15] = rows[12]
    path = tmp_path / "data.jsonl"
    path.write_text(jsonl(*rows), "utf-8")

    found = findings(path)

    assert (found["FT404"], found["FT403"], found["FT401"]) == ([5], [10], [16])
    assert found.keys() <= {"FT404", "FT403", "FT401", "FT014"}  # and 20 examples are few


def test_an_empty_reply_in_gemini_data_is_found_on_its_line(tmp_path):
    def gemini(question: str, answer: str) -> dict:
        return {
            "contents": [
                {"role": "user", "parts": [{"text": question}]},
                {"role": "model", "parts": [{"text": answer}]},
            ]
        }

    rows = [gemini(f"Question {n}?", f"Answer {n}.") for n in range(12)]
    rows[7] = gemini("Question 7?", "")
    path = tmp_path / "data.jsonl"
    path.write_text(jsonl(*rows), "utf-8")

    assert findings(path, "vertex").get("FT206") == [8]


def test_checks_of_openai_schema_and_those_the_format_judges_skip_views(tmp_path):
    # Two human turns in a row: ShareGPT's own FT703 says so; chat's FT222 does not
    # repeat it, and keys ShareGPT records carry (id) are not OpenAI's FT204 business.
    rows = [{"id": n, **sharegpt(f"Question {n}?", f"Answer {n}.")} for n in range(12)]
    rows[3]["conversations"].insert(0, {"from": "human", "value": "Hello?"})
    path = tmp_path / "data.jsonl"
    path.write_text(jsonl(*rows), "utf-8")

    found = findings(path)

    assert found.get("FT703") == [4]
    assert "FT222" not in found and "FT204" not in found


def test_alpaca_preference_pairs_and_transcripts_are_judged_as_pairs(tmp_path):
    rows = [
        {
            "conversations": [{"from": "human", "value": f"Question {n}?"}],
            "chosen": {"from": "gpt", "value": f"Good answer {n}."},
            "rejected": {"from": "gpt", "value": f"Bad answer {n}."},
        }
        for n in range(12)
    ]
    rows[6]["rejected"]["value"] = rows[6]["chosen"]["value"]
    path = tmp_path / "data.json"
    path.write_text(jsonl(*rows), "utf-8")

    assert findings(path).get("FT304") == [7]


def test_openai_data_is_judged_once(tmp_path):
    rows = [
        {"messages": [{"role": "user", "content": f"Q{n}"}, {"role": "assistant", "content": ""}]}
        for n in range(12)
    ]
    path = tmp_path / "data.jsonl"
    path.write_text(jsonl(*rows), "utf-8")

    counts = Counter(code for code, lines in findings(path, "openai").items() for _ in lines)
    assert counts["FT206"] == 12
