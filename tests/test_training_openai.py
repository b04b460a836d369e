"""The openai backend end to end: the real openai client, over HTTP, against a fake service.

Each test builds a project (the real Azure intent split, config, a marked test or a
``[[train]]`` declaration), runs pytest on it with ``--finetune-train`` and reads the
outcome, the terminal and the JSON report. The fake service (``fake_openai.py``) trains
a real classifier on the uploaded file, so the accuracy asserted here is measured.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from typing import Any

import httpcore2
import openai
import pytest
import tiktoken
from conftest import needs_encodings, write_files
from fake_openai import FakeOpenAI
from training_project import KEY, TRAIN, VALID, intent_files, marked_test, openai_config

# Imported here so that pytester's in-process runs find them loaded: modules first
# imported inside an inner run are dropped after it and re-imported by the next, and
# the HTTP client caches httpcore2's exception classes on first use (a re-imported
# httpcore2 would raise classes it no longer recognises).
import pytest_finetune.training.backends.openai
import pytest_finetune.training.plots
import pytest_finetune.training.run  # noqa: F401
from pytest_finetune.cli import main
from pytest_finetune.training.backends.local import LocalClassifier
from pytest_finetune.training.examples import read_examples

assert httpcore2  # see above

CREATE = ("POST", "/fine_tuning/jobs")


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch):
    with FakeOpenAI(KEY) as service:
        monkeypatch.setenv("OPENAI_API_KEY", KEY)
        monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
        yield service


def run(pytester: pytest.Pytester, *args: str) -> tuple[pytest.RunResult, dict[str, Any]]:
    report = pytester.path / "report.json"
    # Only the test module: the datasets' check items are another suite's business.
    result = pytester.runpytest(
        "test_model.py", "--finetune-train", f"--finetune-report={report}", "-rs", *args
    )
    data = json.loads(report.read_text()) if report.exists() else {}
    return result, data


def project(
    pytester: pytest.Pytester, fake: FakeOpenAI, test: str, *, chat: bool = False, **training: Any
) -> None:
    """The intent split, a marked test and configuration pointing at the fake service."""
    files = {
        "pyproject.toml": openai_config(fake.url, **training),
        "test_model.py": test,
        **intent_files(chat=chat),
    }
    write_files(pytester.path, files)


def expected_accuracy(seed: int = 42) -> float:
    """What a classifier trained as the fake trains scores on the validation split."""
    train = read_examples(TRAIN)
    valid = read_examples(VALID, train.conventions)
    classifier = LocalClassifier(seed=seed)
    classifier.fit(train.texts(), [e.expected for e in train.examples])
    answers = classifier.answer(valid.texts())
    right = sum(a == e.expected for a, e in zip(answers, valid.examples, strict=True))
    return right / len(valid.examples)


def assert_no_traceback(result: pytest.RunResult) -> None:
    output = result.stdout.str()
    assert "Traceback" not in output
    assert "openai._exceptions" not in output
    assert "INTERNALERROR" not in output


# -- the gate ------------------------------------------------------------------------


def test_a_model_above_the_threshold_passes_with_its_accuracy_measured(pytester, fake):
    body = (
        "    assert finetune.model.startswith('ft:babbage-002:')\n"
        "    assert finetune.job.startswith('ftjob-')\n"
        "    assert not finetune.reused\n"
        "    assert finetune.confusion.to_numpy().sum() == 45\n"
        "    assert finetune.per_class['4'].support == 15\n"
        "    assert finetune.per_class[' 4'] is finetune.per_class['4']\n"
        "    assert {'train_loss', 'valid_loss', 'full_valid_loss'} <= set(finetune.metrics)\n"
        "    assert finetune.cost.trained_tokens > 0\n"
    )
    test = marked_test(body, train="data/intent_train.jsonl", model="babbage-002", min_accuracy=0.8)
    project(pytester, fake, test)
    result, report = run(pytester)
    result.assert_outcomes(passed=1, skipped=0, failed=0)
    [training] = report["training"]
    assert training["passed"] is True
    assert training["backend"] == "openai"
    assert training["job"] == fake.job().id
    assert training["model"] == fake.job().fine_tuned_model
    assert training["thresholds"] == {"min_accuracy": 0.8}
    assert training["metrics"]["accuracy"] == pytest.approx(expected_accuracy())
    assert sum(map(sum, training["evaluation"]["confusion_matrix"]["counts"])) == 45
    assert set(training["evaluation"]["per_class"]) == {" 1", " 2", " 3", " 4"}
    # One upload per file, one job, one completion per validation example, asked with
    # the prompt as it is in the data (separator included) and no stop sequence.
    assert fake.count("POST", "/files") == 2
    assert fake.count(*CREATE) == 1
    completions = [r.body for r in fake.requests if r.path == "/completions"]
    assert len(completions) == 45
    assert all(body["prompt"].endswith(" ->") and "stop" not in body for body in completions)
    [job] = [r.body for r in fake.requests if r.method == "POST" and r.path == "/fine_tuning/jobs"]
    assert job["method"] == {"type": "supervised"}
    assert (
        job["metadata"]["pytest_finetune_key"]
        == json.loads((pytester.path / ".pytest_cache/d/finetune/jobs.json").read_text())[
            "jobs"
        ].popitem()[0]
    )


def test_metrics_show_every_ten_steps_by_default_and_the_last_one(pytester, fake):
    project(pytester, fake, marked_test(train="data/intent_train.jsonl", model="babbage-002"))
    result, _ = run(pytester, "-s")
    result.assert_outcomes(passed=1)
    steps = [
        line.split("] Step ")[1].split(":")[0] for line in result.stdout.lines if "] Step " in line
    ]
    assert steps == ["1/69", "11/69", "21/69", "31/69", "41/69", "51/69", "61/69", "69/69"]


@needs_encodings
def test_job_events_stream_with_timestamps_as_the_legacy_follow_printed_them(pytester, fake):
    project(pytester, fake, marked_test(train="data/intent_train.jsonl", model="babbage-002"))
    result, _ = run(pytester, "-s")
    result.stdout.re_match_lines(
        [
            r"Created fine-tuning job ftjob-\d+ for babbage-002; estimated cost \$0\.\d+ "
            r"\([\d,]+ tokens x 3 epochs at \$0\.40 per 1M tokens\)",
            r"\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\] Created fine-tuning job: ftjob-\d+",
            r"\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\] Files validated, moving job to queued state",
            r"\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\] Fine-tuning job started",
            r"\[.*\] Step 1/69: training loss=.*",
            r"\[.*\] The job has successfully completed",
        ],
        consecutive=False,
    )


def test_a_model_below_the_threshold_fails_naming_metric_value_and_threshold(pytester, fake):
    body = "    raise AssertionError('the test body must not run when a threshold fails')\n"
    test = marked_test(
        body, train="data/intent_train.jsonl", model="babbage-002", min_accuracy=0.99
    )
    project(pytester, fake, test)
    result, report = run(pytester)
    result.assert_outcomes(failed=1)
    accuracy = expected_accuracy()
    result.stdout.fnmatch_lines(
        [
            "1 threshold not met by openai:babbage-002 on intent_valid.jsonl (model ft:babbage-002:*",
            f"  min_accuracy: accuracy {accuracy:.3f} is below the threshold 0.99",
            "Per class: precision, recall, F1 (examples)",
            "Confusion matrix (rows: expected, columns: predicted)",
        ]
    )
    assert "the test body must not run" not in result.stdout.str()
    assert_no_traceback(result)
    [training] = report["training"]
    assert training["passed"] is False
    assert training["verdicts"] == [
        {
            "threshold": "min_accuracy",
            "metric": "accuracy",
            "label": None,
            "limit": 0.99,
            "value": pytest.approx(accuracy),
            "passed": False,
        }
    ]


def test_loss_and_per_class_thresholds_read_the_jobs_figures(pytester, fake):
    test = marked_test(
        train="data/intent_train.jsonl",
        model="babbage-002",
        max_valid_loss=0.0001,
        min_class_f1={"3": 0.5, "9": 0.5},
    )
    project(pytester, fake, test)
    result, report = run(pytester)
    result.assert_outcomes(failed=1)
    final = fake.job().checkpoints[-1]["metrics"]["full_valid_loss"]
    result.stdout.fnmatch_lines(
        [
            "2 thresholds not met by *",
            "  min_class_f1: no validation example has the class '9', so its threshold 0.5 "
            "cannot be checked",
            f"  max_valid_loss: valid_loss {final:.3f} is above the threshold 0.0001",
        ]
    )
    verdicts = {
        (v["threshold"], v["label"]): v["passed"] for v in report["training"][0]["verdicts"]
    }
    assert verdicts == {
        ("max_valid_loss", None): False,
        ("min_class_f1", "3"): True,
        ("min_class_f1", "9"): False,
    }


# -- reuse, resume, never twice ------------------------------------------------------


def test_unchanged_data_reuses_the_model_without_a_second_job(pytester, fake):
    project(
        pytester,
        fake,
        marked_test(
            "    assert finetune.reused\n",
            train="data/intent_train.jsonl",
            model="babbage-002",
            min_accuracy=0.8,
        ),
    )
    first, _ = run(pytester)
    first.assert_outcomes(failed=1)  # the first run trained: reused is False
    second, report = run(pytester)
    second.assert_outcomes(passed=1)
    second.stdout.fnmatch_lines(
        ["*Reusing ft:babbage-002:* from job ftjob-*: the data and parameters are unchanged.*"]
    )
    assert report["training"][0]["reused"] is True
    # What it cost is what the service billed; the file is not counted again.
    assert report["training"][0]["cost"]["billed_tokens"] == fake.job().trained_tokens
    assert report["training"][0]["cost"]["tokens"] is None
    assert fake.count(*CREATE) == 1
    assert fake.count("POST", "/files") == 2


def test_changing_a_threshold_reuses_but_changing_the_data_trains_again(pytester, fake):
    project(pytester, fake, marked_test(train="data/intent_train.jsonl", model="babbage-002"))
    run(pytester)[0].assert_outcomes(passed=1)
    (pytester.path / "test_model.py").write_text(
        marked_test(train="data/intent_train.jsonl", model="babbage-002", min_accuracy=0.5)
    )
    run(pytester)[0].assert_outcomes(passed=1)
    assert fake.count(*CREATE) == 1
    train = pytester.path / "data/intent_train.jsonl"
    train.write_bytes(train.read_bytes() + b'{"prompt":"Is it raining? ->","completion":" 3"}\n')
    run(pytester)[0].assert_outcomes(passed=1)
    assert fake.count(*CREATE) == 2


def test_a_lost_state_file_finds_the_job_through_its_metadata(pytester, fake):
    project(pytester, fake, marked_test(train="data/intent_train.jsonl", model="babbage-002"))
    run(pytester)[0].assert_outcomes(passed=1)
    (pytester.path / ".pytest_cache/d/finetune/jobs.json").unlink()
    result, report = run(pytester)
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(
        [
            "*Found job ftjob-* (succeeded) for the same data and parameters in the provider's job list.*"
        ]
    )
    assert fake.count(*CREATE) == 1
    listing = [
        r.query for r in fake.requests if r.method == "GET" and r.path == "/fine_tuning/jobs"
    ][-1]
    assert listing["metadata[pytest_finetune_key]"] == fake.job().metadata["pytest_finetune_key"]
    assert report["training"][0]["job"] == fake.job().id


def test_a_committed_state_file_is_used_instead_of_the_cache(pytester, fake):
    project(
        pytester,
        fake,
        marked_test(train="data/intent_train.jsonl", model="babbage-002"),
        **{"state-file": "finetune-jobs.json"},
    )
    run(pytester, "-p", "no:cacheprovider")[0].assert_outcomes(passed=1)
    state = json.loads((pytester.path / "finetune-jobs.json").read_text())
    [entry] = state["jobs"].values()
    assert entry["job"] == fake.job().id
    assert entry["status"] == "succeeded"
    assert entry["fine_tuned_model"] == fake.job().fine_tuned_model
    # Relative to the configuration: the same file on every machine.
    assert (entry["train"], entry["valid"]) == (
        "data/intent_train.jsonl",
        "data/intent_valid.jsonl",
    )
    assert not (pytester.path / ".pytest_cache").exists()


def test_ctrl_c_leaves_the_job_running_and_the_next_run_resumes_it(
    pytester, fake, monkeypatch, capsys
):
    project(pytester, fake, marked_test(train="data/intent_train.jsonl", model="babbage-002"))
    (pytester.path / "pyproject.toml").write_text(
        openai_config(fake.url).replace("poll-interval = 0", "poll-interval = 0.05")
    )
    fake.hold.set()  # the job stays running until released
    process = subprocess.Popen(
        [sys.executable, "-m", "pytest", "test_model.py", "--finetune-train"],
        cwd=pytester.path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    deadline = time.monotonic() + 60
    # Every step's event is out by the third poll; two quiet polls later, all are shown.
    while not (fake.jobs and fake.job().status == "running" and fake.job().running_polls >= 5):
        assert time.monotonic() < deadline, "the job never started running"
        assert process.poll() is None, process.communicate()[0]
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    output, _ = process.communicate(timeout=60)
    assert process.returncode == 2, output  # pytest's exit code for an interrupted run
    job = fake.job()
    assert f"Interrupted: job {job.id} keeps running at openai; its state is saved in" in output
    assert "Run the same pytest command again to resume following it." in output
    # A command that reads the configuration, and so reaches the configured base-url.
    assert f"To cancel it instead: pytest-finetune jobs cancel {job.id}\n" in output
    assert job.status == "running"
    state = json.loads((pytester.path / ".pytest_cache/d/finetune/jobs.json").read_text())
    assert [entry["job"] for entry in state["jobs"].values()] == [job.id]
    monkeypatch.chdir(pytester.path)
    assert main(["jobs", "list"]) == 0
    listed = capsys.readouterr().out.splitlines()
    assert listed[0].split() == ["job", "backend", "status", "model", "train", "updated"]
    assert listed[1].split()[:5] == [
        job.id,
        "openai",
        "running",
        "babbage-002",
        "data/intent_train.jsonl",
    ]

    # Still running when the next run starts: it has three more polls to go.
    fake.running_polls = job.running_polls + 3
    fake.hold.clear()
    result, report = run(pytester, "-s")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines([f"*Resuming job {job.id} (running).*"])
    assert fake.count(*CREATE) == 1
    assert report["training"][0]["job"] == job.id
    # Only the events the interrupted run did not show: each event once in all.
    before = [line for line in output.splitlines() if line.startswith("[")]
    after = [line for line in result.stdout.lines if line.startswith("[")]
    assert "Fine-tuning job started" in before[-1] or "Step" in before[-1]
    assert after and not set(before) & set(after)
    assert after[-1].endswith("The job has successfully completed")


def test_jobs_cancel_cancels_at_the_configured_service_with_the_configured_key(
    pytester, fake, monkeypatch, capsys
):
    project(pytester, fake, marked_test(train="data/intent_train.jsonl", model="babbage-002"))
    client = openai.OpenAI(api_key=KEY, base_url=fake.url)
    with TRAIN.open("rb") as stream:
        training = client.files.create(file=("train.jsonl", stream), purpose="fine-tune")
    job = client.fine_tuning.jobs.create(model="babbage-002", training_file=training.id)
    client.fine_tuning.jobs.retrieve(job.id)  # validating_files -> queued
    # The environment names the default host: the configuration's base-url must win.
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    monkeypatch.chdir(pytester.path)
    assert main(["jobs", "cancel", job.id]) == 0
    out, err = capsys.readouterr()
    assert out == f"Cancelled job {job.id} at openai (cancelled).\n"
    assert fake.job(job.id).status == "cancelled"
    assert fake.count("POST", f"/fine_tuning/jobs/{job.id}/cancel") == 1
    # Once more: it has finished, and says so; an unknown job is the provider's 404.
    assert main(["jobs", "cancel", job.id]) == 0
    assert (
        capsys.readouterr().out
        == f"Job {job.id} at openai has finished (cancelled): nothing to cancel.\n"
    )
    assert main(["jobs", "cancel", "ftjob-nothing"]) == 1
    assert capsys.readouterr().err == "pytest-finetune: openai knows no job ftjob-nothing.\n"
    monkeypatch.setenv("OPENAI_API_KEY", "sk-proj-WrongKeyThatMustNeverBePrinted987654321")
    assert main(["jobs", "cancel", job.id]) == 1
    out, err = capsys.readouterr()
    assert err.startswith(
        f"pytest-finetune: OpenAI refused reading fine-tuning job {job.id} (HTTP 401 invalid_api_key)"
    )
    assert "WrongKeyThatMustNeverBePrinted" not in out + err


def test_parallel_workers_share_one_job_for_the_same_data(pytester, fake):
    test = marked_test(train="data/intent_train.jsonl", model="babbage-002")
    twice = test + "\n\ntest_same_model_again = test_intent_model\n"
    project(pytester, fake, twice)
    result, report = run(pytester, "-n", "2")
    result.assert_outcomes(passed=2)
    assert fake.count(*CREATE) == 1
    assert len(report["training"]) == 2
    assert {entry["job"] for entry in report["training"]} == {fake.job().id}


# -- the provider's words, never a traceback -----------------------------------------


@pytest.mark.parametrize(
    ("status", "code", "message", "expected"),
    [
        (
            403,
            "model_not_available",
            "You have not been granted access to fine-tune babbage-002.",
            "OpenAI refused creating a fine-tuning job for babbage-002 (HTTP 403 "
            "model_not_available): You have not been granted access to fine-tune "
            "babbage-002. The account or project has no access to this; ask its owner.",
        ),
        (
            403,
            "fine_tuning_unavailable",
            "Self-serve fine-tuning is winding down: new fine-tuning jobs can no longer be "
            "created for this organization",
            "OpenAI refused creating a fine-tuning job for babbage-002 (HTTP 403 "
            "fine_tuning_unavailable): Self-serve fine-tuning is winding down: new "
            "fine-tuning jobs can no longer be created for this organization.*",
        ),
        (
            429,
            "insufficient_quota",
            "You exceeded your current quota, please check your plan and billing details.",
            "OpenAI refused creating a fine-tuning job for babbage-002 (HTTP 429 "
            "insufficient_quota): You exceeded your current quota, please check your plan "
            "and billing details. The account is out of quota: check its plan and billing.",
        ),
    ],
    ids=["no-access", "winding-down", "quota"],
)
def test_a_refusal_is_one_paragraph_in_the_providers_words(
    pytester, fake, status, code, message, expected
):
    fake.fail("POST", "/fine_tuning/jobs", status, message, code=code, times=-1)
    project(pytester, fake, marked_test(train="data/intent_train.jsonl", model="babbage-002"))
    result, report = run(pytester)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([expected])
    assert_no_traceback(result)
    assert report["training"][0]["error"].startswith("OpenAI refused creating a fine-tuning job")
    assert not fake.jobs


def test_a_wrong_api_key_is_refused_and_never_printed(pytester, fake, monkeypatch):
    wrong = "sk-proj-WrongKeyThatMustNeverBePrinted987654321"
    monkeypatch.setenv("OPENAI_API_KEY", wrong)
    project(pytester, fake, marked_test(train="data/intent_train.jsonl", model="babbage-002"))
    result, report = run(pytester, "-v")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "OpenAI refused listing fine-tuning jobs (HTTP 401 invalid_api_key): Incorrect API key provided: sk-***. * Check the key in OPENAI_API_KEY."
        ]
    )
    everything = result.stdout.str() + result.stderr.str() + json.dumps(report)
    assert wrong not in everything
    assert KEY not in everything
    assert_no_traceback(result)


def test_no_api_key_says_which_variable_to_set(pytester, fake, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY")
    project(pytester, fake, marked_test(train="data/intent_train.jsonl", model="babbage-002"))
    result, _ = run(pytester)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "No OpenAI API key: set the OPENAI_API_KEY environment variable (or name another one with api-key-env in [tool.pytest_finetune.training.openai])."
        ]
    )
    assert not fake.requests


def test_a_failed_job_reports_its_error_code_and_message_and_is_not_retried(pytester, fake):
    # Prompt/completion data for a chat model: the service validates and fails the job.
    # FT603 would stop it before the upload (see the next test): let it through.
    test = marked_test(
        train="data/intent_train.jsonl", model="gpt-4o-mini-2024-07-18", allow_check_errors=True
    )
    project(pytester, fake, test)
    result, report = run(pytester, "-s")
    result.assert_outcomes(failed=1)
    job = fake.job()
    result.stdout.fnmatch_lines(["*] ERROR: The job failed due to an invalid training file.*"])
    result.stdout.fnmatch_lines(
        [
            f"The openai fine-tuning job {job.id} for intent_train.jsonl failed "
            "(invalid_training_file): The job failed due to an invalid training file. Invalid "
            "file format. Example 1: the model gpt-4o-mini-2024-07-18 requires data in the "
            "chat-completion format (a 'messages' list). Fix the data and run again (changed "
            "data starts a new job), or run with --finetune-retrain to try the same data again."
        ]
    )
    assert_no_traceback(result)
    assert report["training"][0]["job"] == job.id
    again, report = run(pytester, "-s")
    again.assert_outcomes(failed=1)
    assert fake.count(*CREATE) == 1  # the same data would fail the same way
    again.stdout.fnmatch_lines(
        [
            f"Job {job.id} for the same data and parameters failed; reporting it without "
            "starting another (the same data would fail the same way)."
        ]
    )
    assert "Resuming" not in again.stdout.str()
    # Its events were shown by the first run.
    assert "] ERROR: The job failed" not in again.stdout.str()
    assert report["training"][0]["job"] == job.id
    run(pytester, "--finetune-retrain")[0].assert_outcomes(failed=1)
    assert fake.count(*CREATE) == 2


def test_data_the_model_does_not_fine_tune_on_is_refused_before_any_upload(pytester, fake):
    project(
        pytester, fake, marked_test(train="data/intent_train.jsonl", model="gpt-4o-mini-2024-07-18")
    )
    result, report = run(pytester)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "Not trained: the data has 2 check errors (FT603), *",
            "  data/intent_train.jsonl: FT603 Prompt/completion data, but gpt-4o-mini-2024-07-18 "
            "fine-tunes on chat and preference data only: convert the examples to chat "
            "messages, or train babbage-002 or davinci-002",
        ]
    )
    assert report["training"][0]["error"].startswith("Not trained: the data has 2 check errors")
    assert not fake.requests


def test_unreachable_service_is_a_clear_failure(pytester, fake):
    project(pytester, fake, marked_test(train="data/intent_train.jsonl", model="babbage-002"))
    config = pytester.path / "pyproject.toml"
    config.write_text(
        config.read_text()
        .replace(fake.url, "http://127.0.0.1:9/v1")
        .replace("max-retries = 3", "max-retries = 0")
    )
    result, _ = run(pytester)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "Could not reach OpenAI at http://127.0.0.1:9/v1/ while listing fine-tuning jobs: *. Check the network and the base URL; the job state is saved, so running again resumes."
        ]
    )
    assert_no_traceback(result)


# -- flaky service ---------------------------------------------------------------------


def test_rate_limits_and_server_errors_while_answering_are_retried(pytester, fake):
    # Five failures in all, fewer than one request's retries: whichever of the threads
    # that gather answers meets them, none runs out.
    fake.fail(
        "POST",
        "/completions",
        429,
        "Rate limit reached for requests",
        code="rate_limit_exceeded",
        times=3,
    )
    fake.fail(
        "POST",
        "/completions",
        500,
        "The server had an error processing your request.",
        times=2,
        headers={"retry-after-ms": "0"},
    )
    project(pytester, fake, marked_test(train="data/intent_train.jsonl", model="babbage-002"))
    result, report = run(pytester, "-s")
    result.assert_outcomes(passed=1)
    assert fake.count("POST", "/completions") == 45 + 5
    assert report["training"][0]["metrics"]["accuracy"] == pytest.approx(expected_accuracy())
    # The first retry for each reason is shown; the rest are counted.
    output = result.stdout.str()
    assert output.count("Rate limit reached for requests. Retrying") == 1
    assert output.count("The server had an error processing your request. Retrying") == 1
    [summary] = [line for line in result.stdout.lines if line.startswith("Retried ")]
    assert summary.startswith("Retried 5 requests: ")
    assert "3 after 'Rate limit reached for requests.'" in summary
    assert "2 after 'The server had an error processing your request.'" in summary


def test_answers_that_keep_failing_end_in_a_clear_failure(pytester, fake):
    fake.fail(
        "POST", "/completions", 500, "The server had an error processing your request.", times=-1
    )
    project(
        pytester, fake, marked_test(train="data/intent_train.jsonl", model="babbage-002"), retries=2
    )
    result, _ = run(pytester)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "OpenAI failed while asking ft:babbage-002:* (HTTP 500): The server had an error processing your request. Run again later; the job state is saved, so nothing is trained twice."
        ]
    )
    assert_no_traceback(result)


def test_server_errors_on_job_requests_are_retried_by_the_client(pytester, fake):
    fake.fail("GET", "/fine_tuning/jobs/ftjob-.*", 500, "The server had an error.", times=2)
    fake.fail("GET", "/fine_tuning/jobs/ftjob-.*/events", 502, "Bad gateway", times=1)
    project(pytester, fake, marked_test(train="data/intent_train.jsonl", model="babbage-002"))
    run(pytester)[0].assert_outcomes(passed=1)
    assert fake.count(*CREATE) == 1


# -- results, pagination, formats, Azure, cost ----------------------------------------


@pytest.mark.parametrize("encoded", [False, True], ids=["plain-csv", "base64"])
def test_results_file_events_and_checkpoints_give_the_metrics_by_step(pytester, encoded):
    with FakeOpenAI(KEY, results_base64=encoded, page_cap=4) as fake:
        os.environ["OPENAI_API_KEY"] = KEY
        try:
            body = (
                "    metrics = finetune.metrics\n"
                "    assert list(metrics['step']) == list(range(1, 70))\n"
                "    assert metrics['train_loss'].notna().all()\n"
                "    assert metrics['full_valid_loss'].notna().sum() == 3\n"
            )
            project(
                pytester,
                fake,
                marked_test(body, train="data/intent_train.jsonl", model="babbage-002"),
                **{"progress-every": 1},
            )
            result, report = run(pytester, "-s")
        finally:
            del os.environ["OPENAI_API_KEY"]
    result.assert_outcomes(passed=1)
    job = fake.job()
    final = job.checkpoints[-1]["metrics"]
    metrics = report["training"][0]["metrics"]
    assert metrics["valid_loss"] == pytest.approx(final["full_valid_loss"], abs=1e-5)
    assert metrics["valid_mean_token_accuracy"] == pytest.approx(
        final["full_valid_mean_token_accuracy"], abs=1e-5
    )
    # Events come 4 to a page, newest first: each is printed once, in order (one a
    # step, as progress-every = 1 asks).
    steps = [line for line in result.stdout.lines if "] Step " in line]
    assert [line.split("] Step ")[1].split("/")[0] for line in steps] == [
        str(n) for n in range(1, 70)
    ]


def test_chat_data_is_answered_through_chat_completions(pytester, fake):
    test = marked_test(
        "    assert finetune.per_class['4'].f1 > 0.5\n",
        train="data/intent_train.jsonl",
        model="gpt-4o-mini-2024-07-18",
        min_accuracy=0.8,
        n_epochs=4,
    )
    project(pytester, fake, test, chat=True)
    result, report = run(pytester)
    result.assert_outcomes(passed=1)
    assert fake.count("POST", "/chat/completions") == 45
    assert fake.count("POST", "/completions") == 0
    [job] = [r.body for r in fake.requests if r.path == "/fine_tuning/jobs" and r.method == "POST"]
    assert job["method"] == {
        "type": "supervised",
        "supervised": {"hyperparameters": {"n_epochs": 4}},
    }
    assert set(report["training"][0]["evaluation"]["per_class"]) == {"1", "2", "3", "4"}


def test_azure_openai_trains_through_its_endpoint_and_deployments(pytester, fake, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY")
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", KEY)
    monkeypatch.setenv("AZURE_OPENAI_ENDPOINT", fake.origin)
    project(
        pytester,
        fake,
        marked_test(
            train="data/intent_train.jsonl", backend="azure", model="babbage-002", min_accuracy=0.8
        ),
    )
    result, report = run(pytester)
    result.assert_outcomes(passed=1)
    assert report["training"][0]["backend"] == "azure"
    assert all(r.azure for r in fake.requests)
    assert fake.count("POST", "/completions") == 45
    assert fake.count(*CREATE) == 1


def test_azure_without_a_deployment_of_the_model_says_how_to_serve_it(pytester, fake, monkeypatch):
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", KEY)
    monkeypatch.setenv("AZURE_OPENAI_ENDPOINT", fake.origin)
    project(
        pytester,
        fake,
        marked_test(
            train="data/intent_train.jsonl",
            backend="azure",
            model="babbage-002",
            deployment="intent-ft",
        ),
    )
    result, _ = run(pytester)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "Azure OpenAI refused asking intent-ft (HTTP 404 DeploymentNotFound): *. Azure serves a fine-tuned model only once it is deployed: deploy it and name the deployment with deployment='...'."
        ]
    )


@needs_encodings
def test_the_cost_guard_refuses_a_job_above_the_limit_before_uploading(pytester, fake):
    encoding = tiktoken.get_encoding("cl100k_base")  # babbage-002's
    records = [json.loads(line) for line in TRAIN.read_text().splitlines()]
    tokens = sum(
        len(encoding.encode(r["prompt"])) + len(encoding.encode(r["completion"])) for r in records
    )
    usd = tokens * 3 * 0.40 / 1_000_000  # 178 examples: the default is 3 epochs
    project(pytester, fake, marked_test(train="data/intent_train.jsonl", model="babbage-002"))
    result, _ = run(pytester, "--finetune-max-cost=0.001")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            f"Not training: the job would cost about ${usd:.4f} ({tokens:,} tokens x 3 epochs at $0.40 per 1M tokens), above --finetune-max-cost=0.001. Raise the limit, train fewer epochs or on fewer examples."
        ]
    )
    assert fake.count("POST", "/files") == 0  # refused before anything was uploaded
    assert fake.count(*CREATE) == 0
    result, _ = run(pytester, "--finetune-max-cost=0.01")
    result.assert_outcomes(passed=1)


@needs_encodings
def test_the_cost_guard_uses_the_configured_price_table(pytester, fake):
    project(
        pytester,
        fake,
        marked_test(train="data/intent_train.jsonl", model="babbage-002", n_epochs=2),
        **{"max-cost": 1.0},
    )
    config = pytester.path / "pyproject.toml"
    config.write_text(
        config.read_text()
        + '[tool.pytest_finetune.models."babbage-002"]\ntraining-price = 50000.0\n'
    )
    result, _ = run(pytester)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "Not training: the job would cost about $* (* tokens x 2 epochs at $50,000.00 per 1M tokens), above --finetune-max-cost=1. *"
        ]
    )
    assert fake.count("POST", "/files") == 0
    assert fake.count(*CREATE) == 0
