"""A dataset's separator, stop sequence and task are learned from its first records."""

from __future__ import annotations

import orjson
import pytest
from conftest import REAL

from pytest_finetune import conventions
from pytest_finetune.conventions import Task, dominant_suffix
from pytest_finetune.formats import Record, detect


def records(*pairs: tuple[str, str]) -> list[Record]:
    return [
        Record(line, b"", data, detect(data))
        for line, data in enumerate(({"prompt": p, "completion": c} for p, c in pairs), 1)
    ]


def read(name: str) -> list[Record]:
    lines = (REAL / name).read_bytes().splitlines()
    return [
        Record(n, raw, data, detect(data))
        for n, raw in enumerate(lines, 1)
        for data in [orjson.loads(raw)]
    ]


def separator(*prompts: str) -> str:
    return dominant_suffix(prompts, conventions.KNOWN_SEPARATORS, natural=False).text


def test_separator_is_the_suffix_most_prompts_share_even_when_some_lack_it():
    prompts = [f"question {i}? ->" for i in range(8)] + ["no separator here", "nor here"]
    found = dominant_suffix(prompts, conventions.KNOWN_SEPARATORS, natural=False)
    assert (found.text, found.share) == (" ->", 0.8)


def test_separator_stops_where_prompts_start_to_differ():
    # Most prompts are questions ("? ->"), some are statements (". ->"): the
    # convention is what they all share.
    assert separator(*[f"q{i}? ->" for i in range(7)], "a statement. ->", "another. ->") == " ->"


def test_separator_is_cut_back_to_a_known_marker():
    assert separator("react at 48.0h###", "react at 24.0h###", "react at 12.0h###") == "###"


def test_separator_is_not_inside_a_word_nor_sentence_punctuation():
    assert separator("is it positive", "is it negative", "so sensitive") == ""
    assert separator("Where is my parcel?", "Why was I charged?", "Can I return it?") == ""


def test_no_separator_when_no_suffix_is_shared_by_most_prompts():
    assert separator("a ->", "b ###", "c", "d") == ""


def test_unknown_separators_are_found_too():
    assert separator("text one <SEP>", "text two <SEP>", "three <SEP>") == " <SEP>"


def test_stop_sequences_may_be_words_or_punctuation():
    stop = conventions.KNOWN_STOPS
    assert dominant_suffix([" yes END", " no END"], stop, natural=True).text == " END"
    assert dominant_suffix([" It is.", " It was."], stop, natural=True).text == "."
    assert dominant_suffix([" positive", " negative"] * 3, stop, natural=True).text == ""


def test_punctuation_that_also_ends_sentences_inside_the_texts_is_no_stop_sequence():
    stop = conventions.KNOWN_STOPS
    sentences = [" One. Two.", " Three. Four.", " Five."]
    assert dominant_suffix(sentences, stop, natural=True).text == ""
    paragraphs = [" First.\n\nSecond.\n", " Third.\n\nFourth.\n"]
    assert dominant_suffix(paragraphs, stop, natural=True).text == ""
    # Nor is the end of a text that repeats itself.
    assert dominant_suffix([" lorem ipsum" * 10] * 2, stop, natural=True).text == ""
    # A marker is a stop sequence even where it also occurs inside (a finding, then).
    assert dominant_suffix([" a END b END", " c END"], stop, natural=True).text == " END"


def test_the_label_of_most_examples_is_no_stop_sequence():
    # Imbalanced classification without a stop: the majority label is what most
    # completions end with, but it is all of them, so it is the label, not a stop.
    stop = conventions.KNOWN_STOPS
    assert dominant_suffix([" billing"] * 22 + [" fraud"] * 2, stop, natural=True).text == ""
    assert dominant_suffix([" 1@@@"] * 215 + [" 0@@@"] * 113, stop, natural=True).text == "@@@"
    assert dominant_suffix([" yes\n"] * 20 + [" no\n"] * 2, stop, natural=True).text == "\n"


def test_task_follows_the_legacy_rule():
    # Fewer distinct completions than a third of the rows: 2 < 7 / 3.
    assert conventions.infer_task(list("abcdefg"), [" x"] * 6 + [" y"]) is Task.CLASSIFICATION
    assert conventions.infer_task(list("abcdef"), [" x"] * 5 + [" y"]) is Task.GENERATION
    assert conventions.infer_task(["a", "b", "c"], [" x", " y", " z"]) is Task.GENERATION
    assert conventions.infer_task(["", ""], [" x", " y"]) is Task.OPEN_ENDED


def test_configuration_declares_what_inference_would_guess():
    head = records(("a ->", " x"), ("b ->", " y"), ("c ->", " z"))
    found = conventions.infer(head, {"separator": "\n", "stop": " END", "task": "classification"})
    assert (found.separator.text, found.stop.text, found.task) == (
        "\n",
        " END",
        Task.CLASSIFICATION,
    )
    assert found.separator.share == 0.0
    assert found.declared == {"separator", "stop", "task"}


def test_labels_are_completions_without_the_stop_sequence():
    found = conventions.infer(records(("a ->", " yes\n"), ("b ->", " no\n")))
    assert found.stop.text == "\n"
    assert found.label(" yes\n") == " yes"


@pytest.mark.parametrize(
    ("name", "separator", "stop", "task"),
    [
        ("azuresamples__context_switching_prepared_train.jsonl", " ->", "", Task.CLASSIFICATION),
        ("gptchem__mof_solvent_train.jsonl", "###", "@@@", Task.CLASSIFICATION),
        ("autotunegpt__data.jsonl", "", "", Task.GENERATION),
        ("autotunegpt__data_prepared.jsonl", "", " END", Task.GENERATION),
    ],
)
def test_real_datasets(name, separator, stop, task):
    found = conventions.infer(read(name))
    assert (found.separator.text, found.stop.text, found.task) == (separator, stop, task)


def test_chat_classification_is_detected_from_the_last_assistant_turn():
    head = [
        Record(n, b"", data, detect(data))
        for n, data in enumerate(
            (
                {
                    "messages": [
                        {"role": "user", "content": f"ticket {i}"},
                        {"role": "assistant", "content": ["billing", "shipping"][i % 2]},
                    ]
                }
                for i in range(12)
            ),
            1,
        )
    ]
    assert conventions.infer(head).task is Task.CLASSIFICATION
