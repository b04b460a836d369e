"""The training engine's parts on their own: conventions, results files, measurement,
cost, job state and declarations."""

from __future__ import annotations

import base64
import json
import math
import threading
import time
from pathlib import Path

import pytest
from training_project import REAL, TRAIN, VALID

from pytest_finetune.money import dollars
from pytest_finetune.training.backends.base import JobEvent, Retryable
from pytest_finetune.training.backends.local import LocalClassifier
from pytest_finetune.training.cost import (
    CostEstimate,
    CostRefused,
    guard,
)
from pytest_finetune.training.evaluate import (
    OTHER,
    gather_answers,
    match_label,
    measure,
    to_dict,
)
from pytest_finetune.training.examples import Example, read_examples
from pytest_finetune.training.progress import Progress, Terminal
from pytest_finetune.training.results import (
    ResultsError,
    final_metrics,
    metrics_frame,
    read_results_file,
)
from pytest_finetune.training.session import Outcome
from pytest_finetune.training.settings import TrainingSettings
from pytest_finetune.training.spec import SpecError, parse
from pytest_finetune.training.state import JobEntry, JobStore, StateError, job_key
from pytest_finetune.training.thresholds import check

# -- the dataset's conventions -----------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "separator", "stop", "classification"),
    [
        ("azuresamples__context_switching_prepared_train", " ->", "", True),
        ("gptchem__mof_solvent_train", "###", "@@@", True),
        ("autotunegpt__data_prepared", "", " END", False),
    ],
)
def test_real_datasets_give_their_separator_and_stop_sequence(
    name, separator, stop, classification
):
    examples = read_examples(REAL / f"{name}.jsonl")
    assert (examples.separator, examples.stop) == (separator, stop)
    assert examples.is_classification is classification


def test_the_expected_answer_is_the_completion_without_its_stop_sequence():
    examples = read_examples(REAL / "gptchem__mof_solvent_train.jsonl")
    assert {example.expected for example in examples.examples} == {" 0", " 1"}
    assert examples.examples[0].prompt.endswith("###")
    assert not examples.texts()[0].endswith("###")


def test_validation_examples_use_the_training_files_conventions():
    train = read_examples(TRAIN)
    valid = read_examples(VALID, train.conventions)
    assert len(valid.examples) == 45
    assert valid.conventions == train.conventions
    assert valid.texts()[0] == "What is the price of the new Surface Laptop 4?"


def test_chat_examples_are_the_conversation_before_the_last_assistant_turn(tmp_path):
    data = {
        "messages": [
            {"role": "system", "content": "Classify."},
            {"role": "user", "content": "Where is my parcel?"},
            {"role": "assistant", "content": "shipping", "weight": 1},
        ]
    }
    path = tmp_path / "chat.jsonl"
    path.write_text(json.dumps(data) + "\n")
    [example] = read_examples(path).examples
    assert example.expected == "shipping"
    assert example.messages == (
        {"role": "system", "content": "Classify."},
        {"role": "user", "content": "Where is my parcel?"},
    )
    assert example.text() == "Classify.\nWhere is my parcel?"


# -- results files ----------------------------------------------------------------------

RESULTS = (
    "step,train_loss,train_accuracy,valid_loss,valid_mean_token_accuracy\n"
    "1,1.5,0.25,1.6,0.2\n"
    "2,0.9,0.5,,\n"
    "3,0.4,0.75,0.5,0.8\n"
)


@pytest.mark.parametrize("encode", [False, True], ids=["plain", "base64"])
def test_a_results_file_is_read_plain_or_base64(encode):
    content = RESULTS.encode()
    frame = read_results_file(base64.b64encode(content) if encode else content)
    assert list(frame["step"]) == [1, 2, 3]
    assert list(frame["train_loss"]) == [1.5, 0.9, 0.4]
    assert final_metrics(frame) == {
        "train_loss": 0.4,
        "valid_loss": 0.5,
        "valid_mean_token_accuracy": 0.8,
    }


def test_legacy_columns_are_renamed_and_classification_columns_kept():
    legacy = (
        "step,elapsed_tokens,training_loss,training_token_accuracy,validation_loss,"
        "validation_token_accuracy,classification/accuracy,classification/weighted_f1_score\n"
        "1,100,1.2,0.5,1.3,0.4,,\n"
        "2,200,0.6,0.7,0.7,0.6,0.88,0.87\n"
    )
    frame = read_results_file(legacy.encode())
    assert {"train_loss", "train_accuracy", "valid_loss", "valid_mean_token_accuracy"} <= set(frame)
    assert final_metrics(frame) == {
        "train_loss": 0.6,
        "valid_loss": 0.7,
        "valid_mean_token_accuracy": 0.6,
        "classification/accuracy": 0.88,
        "classification/weighted_f1_score": 0.87,
    }


def test_full_validation_figures_from_checkpoints_win_over_sampled_ones():
    frame = metrics_frame(
        [
            {
                "step": 3,
                "valid_loss": 0.5,
                "full_valid_loss": 0.45,
                "full_valid_mean_token_accuracy": 0.9,
            },
            {"step": 1, "valid_loss": 1.6},
        ]
    )
    assert list(frame["step"]) == [1, 3]
    assert final_metrics(frame)["valid_loss"] == 0.45
    assert final_metrics(frame)["valid_mean_token_accuracy"] == 0.9


def test_a_results_file_that_is_not_csv_is_a_clear_error():
    with pytest.raises(ResultsError, match="no 'step' column"):
        read_results_file(b"loss,accuracy\n1,2\n")


# -- measuring ---------------------------------------------------------------------------


def test_an_answer_matches_its_class_ignoring_spacing_and_what_follows_the_label():
    labels = [" 1", " 10", " 2"]
    assert match_label("1", labels) == " 1"
    assert match_label(" 10", labels) == " 10"
    assert match_label(" 1\n\n###\n\nThe", labels) == " 1"  # a model asked without stop
    assert match_label(" 10 ->", labels) == " 10"
    assert match_label(" 12", labels) == OTHER
    assert match_label(" 1x", labels) == OTHER


def test_precision_recall_f1_and_confusion_matrix_are_computed_from_answers():
    examples = [
        Example(n, label) for n, label in enumerate([" a", " a", " a", " b", " b", " c"], 1)
    ]
    evaluation = measure(examples, ["a", "a", "b", "b", "b", "nonsense"], classification=True)
    assert evaluation.accuracy == pytest.approx(4 / 6)
    a, b, c = (evaluation.per_class[label] for label in ("a", "b", "c"))
    assert (a.precision, a.recall, a.support) == (1.0, pytest.approx(2 / 3), 3)
    assert (b.precision, b.recall) == (pytest.approx(2 / 3), 1.0)
    assert (c.precision, c.recall, c.f1) == (0.0, 0.0, 0.0)
    assert evaluation.f1 == pytest.approx((0.8 + 0.8 + 0) / 3)
    confusion = evaluation.confusion()
    assert list(confusion.columns) == [" a", " b", " c", OTHER]
    assert confusion.to_numpy().tolist() == [[2, 1, 0, 0], [0, 2, 0, 0], [0, 0, 0, 1]]


def test_a_training_label_the_validation_split_lacks_is_its_own_column():
    examples = [Example(1, " a"), Example(2, " b")]
    evaluation = measure(examples, ["a", "c"], classification=True, labels=[" a", " b", " c"])
    assert list(evaluation.per_class) == [" a", " b"]
    confusion = evaluation.confusion()
    assert list(confusion.columns) == [" a", " b", " c"]
    assert confusion.loc[" b", " c"] == 1


def test_the_reports_view_of_an_evaluation_masks_labels_that_hold_secrets():
    examples = [Example(1, " jo@gmail.com"), Example(2, " 4111111111111111")]
    evaluation = measure(examples, ["jo@gmail.com", "ann@corp.io"], classification=True)
    report = to_dict(evaluation)
    assert list(report["per_class"]) == [" ****1111", " j***@***.com"]
    assert report["confusion_matrix"]["labels"] == [" ****1111", " j***@***.com"]
    assert report["confusion_matrix"]["predicted"] == [" ****1111", " j***@***.com", OTHER]


def test_open_ended_answers_are_right_when_they_are_the_expected_text():
    examples = [Example(1, " Paris"), Example(2, " Rome")]
    evaluation = measure(examples, ["Paris", " Milan"], classification=False)
    assert evaluation.accuracy == 0.5
    assert evaluation.f1 is None
    assert not evaluation.per_class


def test_rate_limited_answers_wait_as_asked_then_back_off_exponentially():
    waits: list[float] = []
    failures = {1: [0.25, None, None]}

    def answer(example: Example) -> str:
        pending = failures.get(example.line)
        if pending:
            raise Retryable("Rate limit reached.", pending.pop(0))
        return example.expected

    examples = [Example(1, "x"), Example(2, "y")]
    answers = gather_answers(answer, examples, concurrency=2, retries=3, sleep=waits.append)
    assert answers == ["x", "y"]
    assert waits == [0.25, 1.0, 2.0]  # as asked, then 0.5 * 2**attempt


def test_answers_that_keep_failing_give_up_after_the_retries():
    calls = []

    def answer(example: Example) -> str:
        calls.append(example.line)
        raise Retryable("Server error.")

    with pytest.raises(Retryable):
        gather_answers(answer, [Example(1, "x")], concurrency=4, retries=2, sleep=lambda _: None)
    assert calls == [1, 1, 1]


def test_concurrency_is_bounded():
    running = 0
    most = 0
    lock = threading.Lock()

    def answer(example: Example) -> str:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        time.sleep(0.01)
        with lock:
            running -= 1
        return ""

    gather_answers(
        answer, [Example(n, "") for n in range(20)], concurrency=3, retries=0, sleep=time.sleep
    )
    assert most == 3


def test_the_local_classifier_reports_loss_for_a_label_only_validation_has():
    classifier = LocalClassifier(epochs=1, batch_size=4)
    texts = ["refund please", "money back", "where is it", "track parcel"] * 3
    labels = [" refund", " refund", " shipping", " shipping"] * 3
    steps = classifier.fit(texts, labels, ["cancel my order"], [" cancel"])
    assert steps[-1]["full_valid_mean_token_accuracy"] == 0.0
    assert steps[-1]["full_valid_loss"] == pytest.approx(-math.log(1e-15))


# -- cost ------------------------------------------------------------------------------


def test_the_guard_refuses_above_the_limit_and_unknown_prices_under_one():
    cost = CostEstimate("gpt-4.1-mini", 100, 1_000_000, 3, True, 5.0)
    assert cost.usd == 15.0
    guard(cost, None)
    guard(cost, 15.0)
    with pytest.raises(CostRefused, match=r"about \$15.00 \(1,000,000 tokens x 3 epochs at \$5.00"):
        guard(cost, 14.99)
    with pytest.raises(CostRefused, match="No price is known for my-model"):
        guard(CostEstimate("my-model", 100, 1000, 3, True, None), 10.0)


def test_small_amounts_keep_their_cents_fraction():
    assert dollars(12.345) == "$12.35"
    assert dollars(0.0045) == "$0.0045"
    assert dollars(0) == "$0.00"


# -- job state ---------------------------------------------------------------------------


def test_the_job_key_changes_with_data_backend_and_parameters_only(tmp_path):
    train, valid = tmp_path / "t.jsonl", tmp_path / "v.jsonl"
    train.write_text("a\n")
    valid.write_text("b\n")
    parameters = {"model": "m", "hyperparameters": {"n_epochs": 3}}
    key = job_key(train, valid, "openai", parameters)
    assert key == job_key(train, valid, "openai", dict(reversed(parameters.items())))
    assert key != job_key(train, valid, "azure", parameters)
    assert key != job_key(
        train, valid, "openai", {**parameters, "hyperparameters": {"n_epochs": 4}}
    )
    assert key != job_key(train, valid, "openai", {**parameters, "model": "n"})
    valid.write_text("c\n")
    assert key != job_key(train, valid, "openai", parameters)
    # Moving bytes between the files is a different split.
    train.write_text("a\nb\n")
    valid.write_text("")
    moved = job_key(train, valid, "openai", parameters)
    train.write_text("a\n")
    valid.write_text("b\n")
    assert moved != key == job_key(train, valid, "openai", parameters)


def test_thresholds_are_not_part_of_the_job(tmp_path):
    spec = parse(
        {"train": str(TRAIN), "model": "m", "min_accuracy": 0.9}, where="t", bases=(tmp_path,)
    )
    other = parse(
        {"train": str(TRAIN), "model": "m", "min_accuracy": 0.5}, where="t", bases=(tmp_path,)
    )
    assert spec.job_parameters() == other.job_parameters()


def test_the_store_saves_atomically_and_reads_back(tmp_path):
    store = JobStore(tmp_path / "state" / "jobs.json")
    assert store.get("k") is None
    store.put(JobEntry("k", "openai", "t", "v", job="ftjob-1", status="running"))
    store.put(JobEntry("j", "openai", "t2", "v2", job="ftjob-2"))
    assert store.get("k").job == "ftjob-1"
    assert sorted(path.name for path in (tmp_path / "state").iterdir()) == ["jobs.json"]
    assert json.loads(store.path.read_text())["jobs"]["j"]["job"] == "ftjob-2"


def test_a_corrupt_state_file_says_what_to_do(tmp_path):
    store = JobStore(tmp_path / "jobs.json")
    store.path.write_text("{not json")
    with pytest.raises(StateError, match="Fix or delete it"):
        store.get("k")


def test_claiming_a_key_serialises_processes_that_would_create_the_same_job(tmp_path):
    store = JobStore(tmp_path / "jobs.json")
    created = []

    def obtain() -> None:
        with store.claim("k" * 64):
            if store.get("k") is None:
                time.sleep(0.05)  # a slow upload
                created.append(1)
                store.put(JobEntry("k", "openai", "t", "v", job="ftjob-1"))

    threads = [threading.Thread(target=obtain) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert created == [1]


# -- declarations and thresholds ----------------------------------------------------------


def test_config_spelling_with_dashes_is_accepted(tmp_path):
    spec = parse(
        {"train": str(TRAIN), "backend": "local", "min-accuracy": 0.9, "n-epochs": 2},
        where="t",
        bases=(tmp_path,),
    )
    assert spec.valid == VALID
    assert spec.thresholds == {"min_accuracy": 0.9}
    assert spec.hyperparameters == {"n_epochs": 2}


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"train": "nope.jsonl"}, "t: train file 'nope.jsonl' not found"),
        ({"train": str(TRAIN), "backend": "vertex"}, "backend must be one of openai, azure, local"),
        (
            {"train": str(TRAIN), "backend": "local", "min_accuracy": 90},
            "min_accuracy must be a number between 0 and 1, got 90",
        ),
        (
            {"train": str(TRAIN), "backend": "local", "n_epochs": 2.5},
            "n_epochs must be a positive integer, got 2.5",
        ),
        (
            {"train": str(TRAIN), "backend": "local", "max_valid_loss": -1},
            "max_valid_loss must be a number >= 0",
        ),
        (
            {"train": str(TRAIN), "backend": "local", "allow_check_errors": "yes"},
            "allow_check_errors must be true or false",
        ),
        ({"valid": str(VALID)}, "'train' is required"),
    ],
)
def test_a_declaration_that_cannot_run_is_refused_with_the_reason(tmp_path, options, message):
    with pytest.raises(SpecError, match=message.replace("(", r"\(")):
        parse(options, where="t", bases=(tmp_path,))


def test_a_missing_figure_fails_its_threshold_and_says_so():
    [verdict] = check({"max_valid_loss": 0.5}, {"valid_loss": None}, {})
    assert not verdict.passed
    assert verdict.describe() == (
        "max_valid_loss: valid_loss was not measured (the backend reported no such figure), "
        "so the threshold 0.5 cannot be checked"
    )


def test_min_class_f1_as_a_number_applies_to_every_class():
    examples = [Example(1, " a"), Example(2, " b")]
    evaluation = measure(examples, ["a", "a"], classification=True)
    verdicts = check({"min_class_f1": 0.5}, {}, evaluation.per_class)
    assert [(v.label, v.passed) for v in verdicts] == [(" a", True), (" b", False)]


def test_the_reports_training_entry_masks_class_labels_in_thresholds_and_verdicts(tmp_path):
    label = " jo@gmail.com"
    spec = parse(
        {"train": str(TRAIN), "model": "m", "min_class_f1": {label: 0.9}},
        where="t",
        bases=(tmp_path,),
    )
    evaluation = measure([Example(1, label)], ["jo@gmail.com"], classification=True)
    outcome = Outcome(spec, verdicts=check(spec.thresholds, {}, evaluation.per_class))
    entry = outcome.payload("test_x.py::test_x", tmp_path)
    assert entry["thresholds"] == {"min_class_f1": {" j***@***.com": 0.9}}
    assert [verdict["label"] for verdict in entry["verdicts"]] == [" j***@***.com"]


def test_the_state_path_is_relative_to_the_configuration(tmp_path):
    settings = TrainingSettings.from_table(
        {"state_file": "ci/jobs.json", "poll_interval": 0.0}, tmp_path
    )
    assert settings.state_file == tmp_path / "ci/jobs.json"
    assert settings.poll_interval == 0.0
    assert Path(settings.state_file).parent.name == "ci"


def _metrics(step: int, total: int = 25) -> JobEvent:
    data = {"step": step, "total_steps": total, "train_loss": 1.0 / step}
    return JobEvent(f"event-{step}", 0.0, f"Step {step}/{total}", data=data)


def test_progress_shows_a_metrics_line_every_n_steps_and_the_last_one():
    shown: list[str] = []
    progress = Progress(shown.append, every=10)
    progress.event(JobEvent("start", 0.0, "Fine-tuning job started"))
    for step in range(1, 26):
        progress.event(_metrics(step))
    steps = [line.split("] ")[1] for line in shown]
    assert steps == [
        "Fine-tuning job started",
        "Step 1/25",
        "Step 11/25",
        "Step 21/25",
        "Step 25/25",
    ]
    assert progress.lines == shown


def test_in_a_terminal_the_steps_between_rewrite_one_line_and_are_not_kept():
    shown: list[str] = []
    rewritten: list[str] = []
    progress = Progress(shown.append, every=10, rewrite=rewritten.append)
    for step in range(1, 26):
        progress.event(_metrics(step))
    assert len(shown) == 4
    assert [line.split("] ")[1] for line in rewritten] == [
        f"Step {step}/25" for step in range(1, 26) if step not in (1, 11, 21, 25)
    ]
    assert progress.lines == shown


class _Reporter:
    """The part of pytest's terminal reporter that progress uses, recording what it gets."""

    isatty = True

    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []

    def write_line(self, line: str) -> None:
        self.calls.append(("line", line))

    def rewrite(self, line: str, erase: bool = False) -> None:
        self.calls.append(("rewrite", line))

    def write(self, content: str, flush: bool = False) -> None:
        self.calls.append(("write", content))

    def ensure_newline(self) -> None:
        self.calls.append(("newline", ""))


def test_a_line_after_rewritten_ones_replaces_them_and_ends_the_line():
    reporter = _Reporter()
    screen = Terminal(reporter, None)
    screen.write("first")
    screen.rewrite("step 2")
    screen.rewrite("step 3")
    screen.write("step 11")
    screen.write("after")
    assert reporter.calls == [
        ("line", "first"),
        ("newline", ""),
        ("rewrite", "step 2"),
        ("write", ""),
        ("rewrite", "step 3"),
        ("write", ""),
        ("rewrite", "step 11"),
        ("write", "\n"),
        ("line", "after"),
    ]
