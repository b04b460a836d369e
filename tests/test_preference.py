"""Preference checks (FT3xx), and the chat checks on the messages of preference pairs."""

from __future__ import annotations

import pytest
from chat_corpus import (
    PNG,
    VALID_PREFERENCE,
    WEATHER_TOOL,
    assistant,
    call,
    calls,
    image,
    pair,
    result,
    system,
    text,
    user,
)
from conftest import REAL
from helpers import jsonl

OK = pair("Capital of France?", "Paris.", "Lyon.")
PATH = "data/prefs.jsonl"


def run(lint, records, *args):
    return lint({PATH: jsonl(*records)}, "--finetune-select=FT2,FT3", *args)


def messages_of(run_result, code):
    return [f["message"] for f in run_result.dataset(PATH)["findings"] if f["code"] == code]


def with_outputs(preferred, rejected, **extra):
    return {"input": {"messages": [user("Capital of France?")]}, **extra} | {
        key: value
        for key, value in (("preferred_output", preferred), ("non_preferred_output", rejected))
        if value is not None
    }


def test_valid_preference_data_gives_no_finding(lint):
    result_ = run(lint, VALID_PREFERENCE)
    assert result_.findings(PATH) == []
    assert result_.result.ret == 0


CASES = {
    "FT301": [
        {**OK, "input": "Capital of France?"},
        {**OK, "input": {"messages": []}},
        {**OK, "input": {"msgs": [user("Capital of France?")]}},
        {**OK, "input": [user("Capital of France?")]},
        {**OK, "input": {"messages": [user("Capital of France?"), "Be brief."]}},
    ],
    "FT302": [
        with_outputs("Paris.", [assistant("Lyon.")]),
        with_outputs(assistant("Paris."), [assistant("Lyon.")]),
        with_outputs([assistant("Paris.")], [assistant("Lyon."), assistant("Or Nice.")]),
        with_outputs([], [assistant("Lyon.")]),
        with_outputs([user("Paris.")], [assistant("Lyon.")]),
        with_outputs([assistant("Paris.")], None),
        {**OK, "preferred_completion": [assistant("Paris.")]},
        with_outputs(
            [calls(call("c1", "lookup", city="Paris"))],
            [assistant("Lyon.")],
        ),
        with_outputs([assistant("Paris.")], ["Lyon."]),
    ],
    "FT303": [
        with_outputs([assistant("")], [assistant("Lyon.")]),
        with_outputs([assistant("Paris.")], [assistant("  ")]),
        with_outputs([assistant([text("")])], [assistant("Lyon.")]),
    ],
    "FT304": [
        pair("Capital of France?", "Paris.", "Paris."),
        pair("Capital of France?", "Paris is\nthe capital.", "  Paris is the   capital. "),
        pair("Explain.", "word " * 100 + "end.", "word  " * 100 + "\nend."),
    ],
}
SEVERAL: dict[tuple[str, int], int] = {}


@pytest.mark.parametrize("code", sorted(CASES))
def test_each_check_fires_on_exactly_its_failing_lines(lint, code):
    records = [OK]
    expected = []
    for index, example in enumerate(CASES[code]):
        records += [example, VALID_PREFERENCE[index % len(VALID_PREFERENCE)]]
        expected += [len(records) - 1] * SEVERAL.get((code, index), 1)
    assert run(lint, records).lines(PATH, code) == expected


def test_output_messages_say_what_shape_is_expected(lint):
    result_ = run(lint, [with_outputs("Paris.", [assistant("Lyon.")]), with_outputs([], None)])
    assert messages_of(result_, "FT302") == [
        '`preferred_output` is a string; it must be [{"role": "assistant", "content": ...}]',
        "`preferred_output` holds 0 messages; it must hold exactly one: "
        '[{"role": "assistant", "content": ...}]',
        "No `non_preferred_output`: a preference pair needs both outputs",
    ]


def test_the_older_output_keys_are_accepted_with_one_warning_for_the_file(lint):
    older = {
        "input": {"messages": [user("Capital of France?")]},
        "preferred_completion": [assistant("Paris.")],
        "non_preferred_completion": [assistant("Lyon.")],
    }
    result_ = run(lint, [OK, older, older, OK])
    findings = result_.dataset(PATH)["findings"]
    assert [(f["line"], f["code"], f["severity"]) for f in findings] == [(2, "FT305", "warning")]
    assert findings[0]["message"] == (
        "2 pairs (from here) use the older keys preferred_completion/non_preferred_completion; "
        "rename them preferred_output/non_preferred_output"
    )
    assert result_.dataset(PATH)["length_bias"]["pairs"] == 4  # the older pairs count too


def test_chat_checks_look_at_the_messages_of_a_pair(lint):
    records = [
        OK,
        pair([{"role": "human", "content": "Hi"}], "Hello!", "Go away."),
        pair([system(), user("Hi")], "Hello!", "Go away.") | {"source": "web"},
        {**OK, "preferred_output": [assistant("Paris.", weight=1)]},
        pair([system("Be kind.")], "Hello!", "Go away."),
        pair([user("Weather?"), calls(call("c1", "get_weather")), result("c2", "-3")], "-3.", "?")
        | {
            "input": {
                "messages": [
                    user("Weather?"),
                    calls(call("c1", "get_weather")),
                    result("c2", "-3"),
                ],
                "tools": [WEATHER_TOOL],
            }
        },
        pair([user([text("Describe it."), *[image(PNG) for _ in range(11)]])], "Dots.", "?"),
        {**OK, "non_preferred_output": [assistant([image(PNG)])]},
    ]
    result_ = run(lint, records)
    assert result_.findings(PATH) == [
        (2, "FT202"),
        (3, "FT204"),
        (4, "FT203"),
        (5, "FT212"),
        (6, "FT219"),
        (6, "FT220"),
        (7, "FT210"),
        (8, "FT209"),
        (8, "FT302"),
    ]
    assert messages_of(result_, "FT203") == [
        "`preferred_output[0]` has the key 'weight', which assistant messages do not take "
        "(keys: audio, content, function_call, name, refusal, role, tool_calls)"
    ]
    assert messages_of(result_, "FT212") == [
        "`input.messages` has no user message: the model learns to answer without being asked"
    ]


# -- length bias -----------------------------------------------------------------------


def pairs(longer: int, shorter: int, same: int = 0):
    return (
        [pair(f"Question {n}?", f"A full answer {n}.", f"No {n}.") for n in range(longer)]
        + [pair(f"Question {n}?", f"Yes {n}.", f"A wrong answer {n}.") for n in range(shorter)]
        + [pair(f"Question {n}?", f"Yes {n}.", f"Nah {n}.") for n in range(same)]
    )


def test_length_bias_reaches_the_json_report_and_the_summary(lint):
    result_ = run(lint, pairs(longer=6, shorter=3, same=1))
    assert result_.dataset(PATH)["length_bias"] == {
        "pairs": 10,
        "preferred_longer": 6,
        "preferred_shorter": 3,
        "share": 0.6,
    }
    assert result_.findings(PATH) == []
    result_.result.stdout.fnmatch_lines(
        [f"{PATH}: the preferred answer is longer in 6 of 10 pairs (60%), shorter in 3"]
    )


@pytest.mark.parametrize(
    ("longer", "shorter", "expected"),
    [
        (
            19,
            1,
            "The preferred answer is the longer one in 95% of pairs (19 of 20); DPO learns "
            "to prefer longer answers: add pairs whose preferred answer is the shorter one",
        ),
        (
            1,
            24,
            "The preferred answer is the shorter one in 96% of pairs (24 of 25); DPO learns "
            "to prefer shorter answers: add pairs whose preferred answer is the longer one",
        ),
        (18, 2, None),  # 90% is not more than 90%
        (19, 0, None),  # too few pairs to call it a bias
    ],
)
def test_a_strong_length_bias_is_a_warning_for_the_file(lint, longer, shorter, expected):
    result_ = run(lint, pairs(longer, shorter))
    findings = result_.dataset(PATH)["findings"]
    if expected is None:
        assert findings == []
    else:
        assert [(f["line"], f["code"], f["severity"], f["message"]) for f in findings] == [
            (None, "FT306", "warning", expected)
        ]
        assert result_.result.ret == 0


def test_length_bias_thresholds_are_configurable(lint):
    result_ = lint(
        {
            "data/finetune.toml": "[checks.preference-length-bias]\nmax-share = 0.5\nmin-pairs = 4\n",
            PATH: jsonl(*pairs(longer=3, shorter=1)),
        },
        "--finetune-select=FT306",
    )
    assert result_.lines(PATH, "FT306") == [None]


# -- real data -------------------------------------------------------------------------


def test_orca_dpo_pairs_are_valid_and_mostly_prefer_the_shorter_answer(lint):
    name = "msfoundry__orca_dpo_pairs_validation.jsonl"
    result_ = lint({name: (REAL / name).read_bytes()}, "--finetune-select=FT2,FT3")
    dataset = result_.dataset(name)
    assert dataset["findings"] == []
    assert dataset["examples"] == 284
    assert dataset["length_bias"] == {
        "pairs": 284,
        "preferred_longer": 52,
        "preferred_shorter": 232,
        "share": 0.1831,
    }
    assert result_.result.ret == 0
