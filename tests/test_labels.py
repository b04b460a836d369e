"""FT5xx: class counts, imbalance, rare and multi-token labels, and validation files."""

from __future__ import annotations

from pathlib import Path

from conftest import needs_encodings
from helpers import intents, jsonl, pc

from pytest_finetune import Settings, token_counting
from pytest_finetune import training_file as labels
from pytest_finetune.lint import lint as lint_file

LABELS = [" shipping", " billing", " account"]


def classified(counts: dict[str, int], stop: str = "\n") -> list[dict[str, str]]:
    """Examples with ``counts[label]`` of each label, interleaved, with distinct prompts."""
    records = []
    remaining = dict(counts)
    index = 0
    while any(remaining.values()):
        for label in counts:
            if remaining[label]:
                remaining[label] -= 1
                records.append(pc(f"Support ticket {index} about{label} ->", label + stop))
                index += 1
    return records


def run(tmp_path, files: dict[str, list], *select: str, config: str = "", shared=None):
    """``{name: [(line, code, message)]}`` for each file of a project in ``tmp_path``."""
    for name, records in files.items():
        (tmp_path / name).write_text(jsonl(*records), "utf-8")
    if config:
        (tmp_path / "finetune.toml").write_text(config, "utf-8")
    found = {}
    for name in files:
        result = lint_file(
            tmp_path / name,
            Settings(overrides={"select": list(select)}),
            display_path=f"data/{name}",
            shared=shared,
        )
        found[name] = []
        for outcome in result.outcomes.values():
            assert outcome.crash is None, outcome.crash
            found[name] += [(f.line, f.code, f.message) for f in outcome.sorted_findings()]
    return found


# -- classes in the summary and the report ---------------------------------------------


def test_class_counts_go_to_the_report_and_the_summary_table(lint):
    records = classified({" shipping": 40, " billing": 25, " account": 35})
    result = lint({"data/train.jsonl": jsonl(*records)})
    assert result.dataset("data/train.jsonl")["classes"] == {
        " shipping": 40,
        " account": 35,
        " billing": 25,
    }
    result.result.stdout.re_match_lines([r"data/train\.jsonl\s+prompt_completion\s+100\s+3\s"])


def test_labels_that_hold_secrets_are_masked_in_the_report(lint):
    records = classified({" shipping": 40, " jo@gmail.com": 30, " jan@gmail.com": 30})
    result = lint({"data/train.jsonl": jsonl(*records)})
    assert result.dataset("data/train.jsonl")["classes"] == {
        " shipping": 40,
        " j***@***.com": 30,
        " j***@***.com (2)": 30,
    }
    assert "gmail" not in result.output


def test_classes_are_counted_over_the_whole_file(lint):
    records = classified({" shipping": 900, " billing": 900, " account": 200})
    result = lint({"data/train.jsonl": jsonl(*records)})
    assert sum(result.dataset("data/train.jsonl")["classes"].values()) == 2000


def test_generation_data_has_no_classes(lint):
    result = lint({"data/train.jsonl": jsonl(*[pc(f"Q{i} ->", f" A{i}\n") for i in range(30)])})
    assert result.dataset("data/train.jsonl")["classes"] is None


def test_a_file_that_is_classification_only_in_its_first_records_has_no_classes(tmp_path):
    # The first 1,000 examples have three labels; the 2,000 after them are all different.
    records = classified({label: 334 for label in LABELS})[:1000]
    records += [pc(f"Question {i} ->", f" Answer number {i}\n") for i in range(2000)]
    path = tmp_path / "train.jsonl"
    path.write_text(jsonl(*records), "utf-8")
    assert lint_file(path, Settings(overrides={"select": ["FT5"]})).stats.classes is None


def test_declared_classification_counts_every_label(tmp_path):
    records = [pc(f"Ticket {i} ->", f" queue_{i % 8}\n") for i in range(16)]
    path = tmp_path / "train.jsonl"
    path.write_text(jsonl(*records), "utf-8")
    assert lint_file(path, Settings(overrides={"select": ["FT5"]})).stats.classes is None
    (tmp_path / "finetune.toml").write_text('task = "classification"\n', "utf-8")
    classes = lint_file(path, Settings(overrides={"select": ["FT5"]})).stats.classes
    assert classes == {f" queue_{i}": 2 for i in range(8)}


def test_chat_labels_are_the_last_assistant_replies(tmp_path):
    records = [
        {
            "messages": [
                {"role": "system", "content": "Route the ticket."},
                {"role": "user", "content": f"Ticket {i}"},
                {"role": "assistant", "content": ["billing", "shipping", "billing"][i % 3]},
            ]
        }
        for i in range(30)
    ]
    path = tmp_path / "chat.jsonl"
    path.write_text(jsonl(*records), "utf-8")
    classes = lint_file(path, Settings(overrides={"select": ["FT5"]})).stats.classes
    assert classes == {"billing": 20, "shipping": 10}


# -- imbalance and rare classes ------------------------------------------------------


def test_imbalance_threshold_is_an_option(tmp_path):
    files = {"train.jsonl": classified({" shipping": 60, " billing": 12, " account": 30})}
    assert run(tmp_path, files, "FT501") == {"train.jsonl": []}
    found = run(tmp_path, files, "FT501", config="[checks.FT501]\nmax-ratio = 4\n")
    assert found == {
        "train.jsonl": [
            (
                None,
                "FT501",
                "The largest class ' shipping' has 5 times the examples of the smallest, "
                "' billing' (60 against 12; at most 4 times is advised): add examples of the "
                "small classes",
            )
        ]
    }


def test_imbalance_and_rare_classes_are_left_to_the_training_file(tmp_path):
    records = classified({" shipping": 60, " billing": 3, " account": 30})
    found = run(tmp_path, {"a_train.jsonl": records, "a_valid.jsonl": records}, "FT501", "FT502")
    assert [code for _, code, _ in found["a_train.jsonl"]] == ["FT501", "FT502"]
    assert found["a_valid.jsonl"] == []


def test_a_rare_class_is_reported_at_its_first_example(tmp_path):
    records = classified({" shipping": 20, " billing": 20, " account": 20})
    records.insert(41, pc("Where is it? ->", " shiping\n"))
    found = run(tmp_path, {"train.jsonl": records}, "FT502")["train.jsonl"]
    assert found == [
        (
            42,
            "FT502",
            "The class ' shiping' has only 1 example (a typo of ' shipping'?); at least 10 "
            "are needed to learn and measure it",
        )
    ]


# -- tokens ----------------------------------------------------------------------------


@needs_encodings
def test_labels_are_tokenized_for_the_configured_model(tmp_path):
    records = classified({" very_positive": 10, " positive": 10, " negative": 10})
    found = run(
        tmp_path, {"train.jsonl": records}, "FT503", "FT504", config='model = "babbage-002"\n'
    )
    assert found["train.jsonl"] == [
        (
            1,
            "FT503",
            "The label ' very_positive' is 2 tokens for babbage-002 (' very', '_positive'); "
            "a one-token answer holds only the first: use labels of one token",
        )
    ]


def test_without_the_encoding_the_token_checks_say_nothing(tmp_path, monkeypatch):
    monkeypatch.setattr(token_counting, "_load_encoding", lambda name: None)
    records = classified({" class_a": 10, " class_b": 10})
    assert run(tmp_path, {"train.jsonl": records}, "FT503", "FT504") == {"train.jsonl": []}


# -- leakage -----------------------------------------------------------------------------


def test_validation_examples_found_in_the_training_file_are_reported_with_its_line(tmp_path):
    train = intents(40)
    valid = [
        pc("A question nobody asked before ->", " billing\n"),
        dict(train[24]),  # the same example
        {"prompt": "  " + train[30]["prompt"], "completion": train[30]["completion"]},
        {"prompt": train[7]["prompt"], "completion": " refund\n"},  # same prompt
    ]
    found = run(tmp_path, {"a_train.jsonl": train, "a_valid.jsonl": valid}, "FT510")
    assert found["a_train.jsonl"] == []
    assert found["a_valid.jsonl"] == [
        (
            2,
            "FT510",
            "This example is also in the training file data/a_train.jsonl, line 25; remove "
            "it from one of them",
        ),
        (
            3,
            "FT510",
            "This example is also in the training file data/a_train.jsonl, line 31; remove "
            "it from one of them",
        ),
        (
            4,
            "FT510",
            "This prompt is also in the training file data/a_train.jsonl, line 8, with another "
            "completion; remove it from one of them",
        ),
    ]


def test_leakage_in_chat_data_compares_the_conversation_before_the_answer(tmp_path):
    def chat(question: str, answer: str) -> dict:
        return {
            "messages": [
                {"role": "user", "content": question},
                {"role": "assistant", "content": answer},
            ]
        }

    train = [chat(f"Question {i}", f"Answer {i}") for i in range(20)]
    valid = [
        chat("Question 3", "Answer 3"),
        chat("Question 99", "Answer 99"),
        chat("Question 5", "No"),
    ]
    found = run(tmp_path, {"train.jsonl": train, "valid.jsonl": valid}, "FT510")
    assert [(line, message.split(",")[0]) for line, _, message in found["valid.jsonl"]] == [
        (1, "This example is also in the training file data/train.jsonl"),
        (3, "This input is also in the training file data/train.jsonl"),
    ]


def test_open_ended_examples_leak_only_as_whole_examples(tmp_path):
    train = [pc("", f" Story number {i}.\n") for i in range(20)]
    valid = [pc("", " Story number 4.\n"), pc("", " A new story.\n")]
    found = run(tmp_path, {"train.jsonl": train, "valid.jsonl": valid}, "FT510")
    assert [line for line, _, _ in found["valid.jsonl"]] == [1]


def test_a_declared_pair_in_another_folder_is_named_by_its_path(tmp_path, monkeypatch):
    (tmp_path / "held_out").mkdir()
    train = intents(20)
    (tmp_path / "intents.jsonl").write_text(jsonl(*train), "utf-8")
    (tmp_path / "held_out" / "intents.jsonl").write_text(jsonl(train[2]), "utf-8")
    (tmp_path / "finetune.toml").write_text(
        'pairs = [{train = "intents.jsonl", valid = "held_out/intents.jsonl"}]\n', "utf-8"
    )
    monkeypatch.chdir(tmp_path)
    result = lint_file(
        tmp_path / "held_out" / "intents.jsonl", Settings(overrides={"select": ["FT510"]})
    )
    [finding] = result.outcomes["FT510"].findings
    assert finding.message.startswith(
        "This example is also in the training file intents.jsonl, line 3"
    )


def test_the_training_file_is_read_once_per_process_and_version(tmp_path, monkeypatch):
    calls = []
    summarise = labels._summarise
    monkeypatch.setattr(
        labels, "_summarise", lambda path, context: calls.append(path) or summarise(path, context)
    )
    shared: dict = {}
    files = {"a_train.jsonl": intents(30), "a_valid.jsonl": intents(3)}
    run(tmp_path, files, "FT510", "FT511", shared=shared)
    run(tmp_path, {"a_valid.jsonl": intents(3)}, "FT510", "FT511", shared=shared)
    assert len(calls) == 1
    # A changed training file is a new version.
    (tmp_path / "a_train.jsonl").write_text(jsonl(*intents(31)), "utf-8")
    run(tmp_path, {"a_valid.jsonl": intents(3)}, "FT510", shared=shared)
    assert len(calls) == 2


def test_one_read_of_the_training_file_serves_every_check_of_its_validation_file(
    tmp_path, monkeypatch
):
    # The conventions (they follow the training file's labels), the leakage check and
    # the labels check each need the training file.
    train = classified({" shipping": 10, " billing": 10, " account": 10, " refund": 10}, stop="")
    valid = classified({" shipping": 3, " billing": 2, " account": 2, " refunds": 2}, stop="")
    (tmp_path / "x_train.jsonl").write_text(jsonl(*train), "utf-8")
    opened = []
    path_open = Path.open

    def counting_open(self, *args, **kwargs):
        opened.append(self.name)
        return path_open(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", counting_open)
    found = run(tmp_path, {"x_valid.jsonl": valid}, "FT1", "FT4", "FT5")
    assert opened.count("x_train.jsonl") == 1
    # FT130 asks for no stop sequence (the conventions learned the training file's
    # classes), FT510 finds the examples of both files, FT511 compares the labels.
    assert [(line, code) for line, code, _ in found["x_valid.jsonl"]] == [
        (None, "FT150"),
        *[(line, "FT510") for line in (1, 2, 3, 5, 6, 7, 9)],
        (None, "FT511"),
        (4, "FT511"),
    ]


# -- labels in one split only ----------------------------------------------------------


def test_labels_missing_from_either_split_are_reported_on_the_validation_file(tmp_path):
    train = classified({" shipping": 12, " billing": 12, " account": 12})
    valid = classified({" shipping": 4, " billing": 4, " refunds": 4})
    found = run(tmp_path, {"x_train.jsonl": train, "x_valid.jsonl": valid}, "FT511")
    assert found["x_train.jsonl"] == []
    assert found["x_valid.jsonl"] == [
        (
            None,
            "FT511",
            "The label ' account' of the training file data/x_train.jsonl (12 examples) has no "
            "validation example; it is never measured",
        ),
        (
            3,
            "FT511",
            "The label ' refunds' (4 examples, the first here) never occurs in the training "
            "file data/x_train.jsonl; the model cannot learn it",
        ),
    ]


def test_labels_are_compared_only_when_both_files_are_classification(tmp_path):
    generation = [pc(f"Q{i} ->", f" Answer {i}\n") for i in range(30)]
    labelled = classified({" yes": 5, " no": 5})
    found = run(tmp_path, {"train.jsonl": generation, "valid.jsonl": labelled}, "FT511")
    assert found["valid.jsonl"] == []
    found = run(tmp_path, {"train.jsonl": labelled, "valid.jsonl": generation}, "FT511")
    assert found["valid.jsonl"] == []


def test_a_small_validation_file_is_classification_when_its_training_file_is(tmp_path):
    train = classified({" shipping": 10, " billing": 10, " account": 10, " refund": 10}, stop="")
    # Nine examples of four labels: on its own, too many labels to look like classes.
    valid = classified({" shipping": 3, " billing": 2, " account": 2, " refunds": 2}, stop="")
    found = run(tmp_path, {"x_train.jsonl": train, "x_valid.jsonl": valid}, "FT130", "FT511")
    assert found["x_valid.jsonl"] == [
        (None, "FT511", "The label ' refund' of the training file data/x_train.jsonl (10 examples) "
         "has no validation example; it is never measured"),
        (4, "FT511", "The label ' refunds' (2 examples, the first here) never occurs in the "
         "training file data/x_train.jsonl (did you mean ' refund'?); the model cannot learn it"),
    ]  # fmt: skip
    # Alone, the same file is generation data without a stop sequence.
    (tmp_path / "alone").mkdir()
    alone = run(tmp_path / "alone", {"x_valid.jsonl": valid}, "FT130", "FT511")
    assert [code for _, code, _ in alone["x_valid.jsonl"]] == ["FT130"]
