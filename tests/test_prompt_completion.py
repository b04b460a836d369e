"""FT1xx: each prompt/completion check fires on the lines it must, and on nothing else.

The catalog (tests/test_catalog.py) proves one failing and one passing example per
check; these tests cover the rules' edges: what counts as a separator, when data is
open-ended or classification, the options, and lines beyond the first records.
"""

from __future__ import annotations

import pytest
from helpers import intents, jsonl, pc

from pytest_finetune import Settings
from pytest_finetune.checks.context import ScanContext
from pytest_finetune.checks.prompt_completion import survey as prompt_completion
from pytest_finetune.lint import lint as lint_file
from pytest_finetune.lint import plan

TICKETS = [
    ("Where is my parcel?", " shipping"),
    ("I was charged twice this month", " billing"),
    ("Please reset my password", " account"),
    ("The box arrived crushed", " shipping"),
    ("My card was declined at checkout", " billing"),
    ("I cannot log in on my phone", " account"),
    ("The courier left it at the wrong door", " shipping"),
    ("Refund the second charge please", " billing"),
    ("How do I change my e-mail address?", " account"),
    ("Tracking has not moved for a week", " shipping"),
    ("Why is there a fee on my invoice?", " billing"),
    ("Delete my account and my data", " account"),
]
QA = [
    ("Capital of France?", " Paris is the capital of France"),
    ("Capital of Italy?", " Rome, since 1871"),
    ("Capital of Spain?", " Madrid, in the middle of the country"),
    ("Capital of Japan?", " Tokyo, on Honshu"),
    ("Capital of Kenya?", " Nairobi, a highland city"),
    ("Capital of Peru?", " Lima, by the Pacific"),
]


def tickets(separator: str = " ->", stop: str = "\n") -> list[dict[str, str]]:
    return [pc(q + separator, a + stop) for q, a in TICKETS]


def answers(separator: str = " ->", stop: str = " END") -> list[dict[str, str]]:
    return [pc(q + separator, a + stop) for q, a in QA]


def run(tmp_path, records, *select: str, config: str = "", raw: str | None = None):
    """``(line, code, message)`` of the findings of ``select`` on ``records``."""
    path = tmp_path / "data.jsonl"
    path.write_text(raw if raw is not None else jsonl(*records), "utf-8")
    if config:
        (tmp_path / "finetune.toml").write_text(config, "utf-8")
    result = lint_file(path, Settings(overrides={"select": list(select)}), display_path="d")
    found = []
    for outcome in result.outcomes.values():
        assert outcome.crash is None, outcome.crash
        found += [(f.line, f.code, f.message) for f in outcome.sorted_findings()]
    return found


def lines(found, code: str | None = None) -> list[int | None]:
    return [line for line, c, _ in found if code is None or c == code]


def test_clean_intents_give_no_finding_of_the_family(tmp_path):
    assert run(tmp_path, intents(300), "FT1") == []


def test_clean_generation_data_gives_no_finding_of_the_family(tmp_path):
    assert run(tmp_path, answers(), "FT1") == []


# -- keys and values -----------------------------------------------------------------


def test_a_key_in_another_case_is_read_as_the_key_it_means(tmp_path):
    records = [{"Prompt": q + " ->", "completion": a + "\n"} for q, a in TICKETS]
    records[3]["completion"] = "shipping\n"
    found = run(tmp_path, records, "FT1")
    assert [(line, code) for line, code, _ in found] == [(1, "FT101"), (4, "FT120")]


def test_a_wrong_case_key_beside_the_right_one_is_an_extra_key(tmp_path):
    records = tickets()
    records[2] = {**records[2], "Prompt": "older copy"}
    found = run(tmp_path, records, "FT101", "FT103")
    assert found == [
        (
            3,
            "FT103",
            "Key 'Prompt' is not prompt or completion, in this example only; fine-tuning "
            "does not use it: remove it",
        )
    ]


def test_extra_keys_beyond_fifty_are_counted_together(tmp_path):
    records = [{**record, f"column_{line}": 1} for line, record in enumerate(intents(60), start=1)]
    found = run(tmp_path, records, "FT103")
    assert lines(found) == [*range(1, 51), 51]
    assert found[-1][2].startswith("Other keys are not prompt or completion, in 10 examples")


@pytest.mark.parametrize(
    ("value", "described"),
    [(True, "a boolean (true)"), ({"text": "x"}, "an object"), (2.5, "a number (2.5)")],
)
def test_non_string_values_name_their_json_type(tmp_path, value, described):
    records = tickets()
    records[0]["completion"] = value
    [(line, _, message)] = run(tmp_path, records, "FT104")
    assert (line, message) == (
        1,
        f"The completion is {described}, not a string; write it as text (in quotes)",
    )


def test_a_non_string_value_is_judged_by_no_other_check(tmp_path):
    records = tickets()
    records[0]["completion"] = 1
    assert lines(run(tmp_path, records, "FT1")) == [1]


# -- empty texts ---------------------------------------------------------------------


def test_open_ended_data_has_empty_prompts_on_purpose(tmp_path):
    records = [pc("", a + " END") for _, a in QA]
    assert run(tmp_path, records, "FT1") == []


def test_empty_prompts_among_others_are_reported_and_not_judged_otherwise(tmp_path):
    records = tickets()
    records[4]["prompt"] = ""
    records[8]["prompt"] = "\n"
    found = run(tmp_path, records, "FT1")
    assert [(line, code) for line, code, _ in found] == [(5, "FT106"), (9, "FT106")]
    assert found[1][2] == "The prompt is only whitespace ('\\n'); fill it in or remove the example"


# -- the separator -------------------------------------------------------------------


def test_prompts_lacking_the_separator_are_reported_after_the_first_thousand(tmp_path):
    records = intents(1500)
    records[1399]["prompt"] = records[1399]["prompt"].removesuffix(" ->")
    found = run(tmp_path, records, "FT111")
    assert found == [
        (
            1400,
            "FT111",
            "The prompt does not end with the separator ' ->' that 100% of the first 1,000 "
            "prompts end with; add it",
        )
    ]


def test_a_separator_placed_earlier_is_pointed_out(tmp_path):
    records = tickets()
    records[2]["prompt"] = "Please reset -> my password"
    [(_, _, message)] = run(tmp_path, records, "FT111")
    assert "(it holds it earlier, not at the end)" in message


def test_a_declared_separator_is_named_as_declared(tmp_path):
    found = run(tmp_path, tickets(), "FT111", config='separator = "\\n\\n###\\n\\n"\n')
    assert lines(found) == list(range(1, 13))
    assert found[0][2] == (
        "The prompt does not end with the separator '\\n\\n###\\n\\n' declared in the "
        "configuration; add it"
    )


def test_the_suggested_separator_occurs_in_no_prompt_of_the_whole_file(tmp_path):
    # " ->" appears only after the first 1,000 prompts: it is still not suggested.
    records = [pc(f"Question number {i}?", f" answer {i}\n") for i in range(1200)]
    records[1100]["prompt"] = "What does -> mean?"
    [(line, _, message)] = run(tmp_path, records, "FT110")
    assert line is None
    assert "add one such as '\\n\\n###\\n\\n', which occurs in no prompt" in message


def test_when_every_candidate_occurs_the_legacy_fallback_is_suggested(tmp_path):
    candidates = [*prompt_completion.conventions.SEPARATOR_CANDIDATES]
    records = [pc(f"Text {i}: {c.strip()} {c}?", " answer\n") for i, c in enumerate(candidates)]
    records += [pc(f"More text {i}?", f" answer {i}\n") for i in range(6)]
    [(_, _, message)] = run(tmp_path, records, "FT110")
    assert "'\\n\\n### =>\\n\\n'" in message


def test_a_separator_of_whitespace_is_not_searched_inside_texts(tmp_path):
    records = [pc(q + "\nAnswer briefly.\n", a + " END") for q, a in QA]
    assert run(tmp_path, records, "FT112") == []


def test_stray_whitespace_is_not_reported_where_most_prompts_have_it(tmp_path):
    records = [pc(" " + q + " ->", a + "\n") for q, a in TICKETS]
    assert run(tmp_path, records, "FT113") == []


def test_the_label_of_stray_whitespace_prompts_matters_only_for_classification(tmp_path):
    records = answers()
    for record in records[:2]:
        record["prompt"] = " " + record["prompt"]
    assert lines(run(tmp_path, records, "FT113")) == [1, 2]


# -- completions ---------------------------------------------------------------------


def test_digit_labels_need_no_leading_space(tmp_path):
    # " 1" is two tokens (' ', '1') with cl100k_base and o200k_base; "1" is one.
    records = [pc(q + " ->", str(i % 3) + "\n") for i, (q, _) in enumerate(TICKETS)]
    records[5]["completion"] = "  2\n"
    assert run(tmp_path, records, "FT120") == [
        (6, "FT120", "The completion starts with '  '; start it with one space")
    ]


def test_classification_needs_no_stop_sequence_but_one_most_labels_have_must_be_everywhere(
    tmp_path,
):
    no_stop = tickets(stop="")
    assert run(tmp_path, no_stop, "FT13") == []
    some_without = tickets()
    for index in (3, 7):
        some_without[index]["completion"] = some_without[index]["completion"].rstrip("\n")
    assert lines(run(tmp_path, some_without, "FT13")) == [4, 8]


def test_generation_data_without_a_stop_gets_a_suggestion(tmp_path):
    [(line, code, message)] = run(tmp_path, answers(stop=""), "FT13")
    assert (line, code) == (None, "FT130")
    # "\n" occurs in no completion, so the legacy tool's first choice is suggested.
    assert "add one such as '\\n', which occurs in no completion," in message


def test_a_newline_stop_inside_a_completion_is_reported(tmp_path):
    records = answers(stop="\n")
    records[2]["completion"] = " Madrid,\nin the middle of the country\n"
    assert run(tmp_path, records, "FT132") == [
        (
            3,
            "FT132",
            "The stop sequence '\\n' occurs inside the completion, at character 9; generation "
            "stops there, cutting the answer short: remove it from the text or choose a stop "
            "sequence that occurs in no completion",
        )
    ]


# -- case, prefixes, identical texts -------------------------------------------------


def test_uppercase_prompts_are_judged_per_column_and_the_rows_option_limits_the_names(tmp_path):
    records = [pc(q.upper() + " ->", a + "\n") for q, a in TICKETS]
    found = run(tmp_path, records, "FT140", config="[checks.FT140]\nrows = 2\n")
    # All rows are 100% uppercase: those with the most letters are named (30 and 27).
    assert [(line, message) for line, _, message in found] == [
        (None, "100% of the letters in prompts are uppercase, more than 33%; lowercase them if case carries no meaning"),
        (5, "This prompt is 100% uppercase"),
        (7, "This prompt is 100% uppercase"),
    ]  # fmt: skip


def test_uppercase_share_is_sampled_beyond_the_first_thousand_examples(tmp_path):
    records = [pc(f"TICKET {i} ABOUT MY PARCEL ->", " shipping\n") for i in range(1500)]
    found = run(tmp_path, records, "FT140")
    assert found[0][2].startswith("100% of the letters in prompts are uppercase (sampled)")


@pytest.mark.parametrize(("max_length", "reported"), [(12, False), (11, True)])
def test_the_common_prompt_prefix_threshold_is_an_option(tmp_path, max_length, reported):
    records = [pc("What is the " + q[0].lower() + q[1:] + " ->", a + "\n") for q, a in TICKETS]
    found = run(tmp_path, records, "FT150", config=f"[checks.FT150]\nmax-length = {max_length}\n")
    assert bool(found) is reported


def test_a_common_completion_prefix_counts_its_leading_space(tmp_path):
    # " The " is five characters with its space: the legacy threshold.
    records = [pc(q + " ->", " The " + a.strip() + "\n") for q, a in TICKETS]
    assert lines(run(tmp_path, records, "FT151")) == [None]
    records = [pc(q + " ->", " An " + a.strip() + "\n") for q, a in TICKETS]
    assert run(tmp_path, records, "FT151") == []


def test_identical_texts_are_one_finding_and_not_a_common_prefix(tmp_path):
    records = [pc("Write a tagline about our delivery service ->", a + "\n") for _, a in QA]
    found = run(tmp_path, records, "FT15", "FT16")
    assert [code for _, code, _ in found] == ["FT160"]


def test_prefix_and_identity_are_followed_past_the_first_thousand_examples(tmp_path):
    records = [pc("Classify this support ticket: " + q + " ->", a + "\n") for q, a in TICKETS] * 100
    records.append(pc("Where is my parcel? ->", " shipping\n"))
    assert run(tmp_path, records, "FT150", "FT161") == []


def test_without_a_prefix_check_texts_are_followed_only_until_one_differs():
    # (FT160 and FT161 alone: whether all texts are the same is settled by then.)
    start = prompt_completion.CommonStart()
    start.tracking = True
    for text in ("Where is my parcel? ->", "Where is my parcel? ->", "Where is my order? ->"):
        start.add(text)
    assert (start.repeats, start.differ, start.tracking) == (2, True, False)


# -- the family works as one -----------------------------------------------------------


def test_one_check_of_the_family_is_called_per_record_for_all_of_them(tmp_path):
    path = tmp_path / "data.jsonl"
    path.write_text(jsonl(*intents(30)), "utf-8")
    fmt, settings = plan(path, Settings(overrides={"select": ["FT1"]}))
    context = ScanContext(path, "d", fmt, settings, {})
    checks = [check(context, settings.options[check.code]) for check in settings.checks]
    for check in checks:
        check.begin([])
    assert len(checks) == 19
    visitors = [check.visitor(fmt) for check in checks]
    assert len(visitors) - visitors.count(None) == 1


def test_a_crash_in_the_survey_fails_every_check_of_the_family(tmp_path, monkeypatch):
    def crash(self, record_or_batch):
        raise ZeroDivisionError("boom")

    monkeypatch.setattr(prompt_completion._Survey, "visit", crash)
    monkeypatch.setattr(prompt_completion._Survey, "visit_batch", crash)
    path = tmp_path / "data.jsonl"
    path.write_text(jsonl(*tickets()), "utf-8")
    result = lint_file(path, Settings(overrides={"select": ["FT1", "FT013"]}))
    crashes = {code: outcome.crash for code, outcome in result.outcomes.items()}
    assert crashes.pop("FT013") is None  # other checks are not affected
    assert all(crash is not None for crash in crashes.values())
    driver = next(code for code, crash in crashes.items() if "ZeroDivisionError" in crash)
    assert driver == "FT101"
    assert all("survey crashed" in crash for code, crash in crashes.items() if code != driver)


def test_data_quoted_in_messages_is_redacted(tmp_path):
    records = tickets()
    secret = "sk-proj-" + "a1B2c3D4" * 6
    records[1]["prompt"] = f" {secret} ->"
    [(_, _, message)] = run(tmp_path, records, "FT113")
    assert "sk-proj-a1B2" not in message


def test_findings_go_through_pytest_with_their_item(lint):
    records = tickets()
    records[0]["completion"] = "shipping\n"
    result = lint({"data/train.jsonl": jsonl(*records)}, "--finetune-select=FT120")
    assert result.lines("data/train.jsonl", "FT120") == [1]
    result.result.assert_outcomes(failed=1)
    result.result.stdout.fnmatch_lines(
        [
            "*data/train.jsonl:1: FT120 The completion does not start with a space ('shipping\\n'); start it with one"
        ]
    )
    [finding] = result.dataset("data/train.jsonl")["findings"]
    assert finding["fixable"] is True


def test_findings_beyond_the_kept_ones_are_counted_and_the_file_finding_is_kept(tmp_path):
    records = intents(3000)
    for record in records[1::3]:  # 1,000 stray spaces, all on the ' billing' examples
        record["prompt"] = " " + record["prompt"]
    records[1]["prompt"] = " " + records[1]["prompt"]
    path = tmp_path / "data.jsonl"
    records.append(pc(" One more about billing ->", " billing\n"))
    path.write_text(jsonl(*records), "utf-8")
    outcome = lint_file(path, Settings(overrides={"select": ["FT113"]})).outcomes["FT113"]
    assert outcome.count == 1002
    assert len(outcome.findings) == 1001
    file_level = [f for f in outcome.findings if f.line is None]
    assert [f.message for f in file_level] == [
        "All 1,001 prompts that start with whitespace have the label ' billing': the model "
        "can learn the whitespace as the cue for it"
    ]
