"""The together backend end to end: the real together SDK, over HTTP, against a fake service.

As for the openai backend, each test builds a project (the real Azure intent split,
config, a marked test), runs pytest on it with ``--finetune-train`` and reads the
outcome, the terminal and the JSON report. The fake service (``fake_together.py``)
trains a real classifier on the uploaded file, so the accuracy asserted here is measured.
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
import pytest
from conftest import write_files
from fake_together import FakeTogether, TogetherJob
from test_training_openai import assert_no_traceback, expected_accuracy
from training_project import KEY, PROJECT, intent_files, marked_test

# Loaded before pytester's inner runs, as in test_training_openai.
import pytest_finetune.training.backends.together
import pytest_finetune.training.run  # noqa: F401
from pytest_finetune.cli import main

assert httpcore2

MODEL = "meta-llama/Meta-Llama-3.1-8B-Instruct-Reference"
CREATE = ("POST", "/fine-tunes")


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch):
    with FakeTogether(KEY) as service:
        monkeypatch.setenv("TOGETHER_API_KEY", KEY)
        monkeypatch.delenv("TOGETHER_BASE_URL", raising=False)
        yield service


def config(url: str, *, poll: float = 0, **training: Any) -> str:
    settings = "".join(f"{key} = {json.dumps(value)}\n" for key, value in training.items())
    return (
        PROJECT + "[tool.pytest_finetune.training]\n"
        f"poll-interval = {poll}\n"
        f"{settings}"
        "[tool.pytest_finetune.training.together]\n"
        f'base-url = "{url}"\n'
        "max-retries = 3\n"
    )


def project(pytester: pytest.Pytester, fake: FakeTogether, test: str, **training: Any) -> None:
    files = {
        "pyproject.toml": config(fake.url, **training),
        "test_model.py": test,
        **intent_files(),
    }
    write_files(pytester.path, files)


def run(pytester: pytest.Pytester, *args: str) -> tuple[pytest.RunResult, dict[str, Any]]:
    report = pytester.path / "report.json"
    result = pytester.runpytest(
        "test_model.py", "--finetune-train", f"--finetune-report={report}", "-rs", *args
    )
    data = json.loads(report.read_text()) if report.exists() else {}
    return result, data


def declaration(**more: Any) -> dict[str, Any]:
    return {"train": "data/intent_train.jsonl", "backend": "together", "model": MODEL, **more}


# -- the gate ------------------------------------------------------------------------


def test_a_model_trained_on_together_is_measured_and_gated(pytester, fake):
    body = (
        "    assert finetune.model.startswith('fake-user/Meta-Llama-3.1-8B-Instruct-Reference-')\n"
        "    assert not finetune.reused\n"
        "    assert finetune.confusion.to_numpy().sum() == 45\n"
        "    assert {'train_loss', 'valid_loss'} <= set(finetune.metrics)\n"
    )
    project(pytester, fake, marked_test(body, **declaration(min_accuracy=0.8)))
    result, report = run(pytester, "-s")
    result.assert_outcomes(passed=1)
    [training] = report["training"]
    job = fake.job()
    assert training["backend"] == "together"
    assert training["job"] == job.id
    assert training["model"] == job.output_name
    assert training["metrics"]["accuracy"] == pytest.approx(expected_accuracy())
    # One upload per file (bytes PUT to the storage URL), one job, one completion per
    # validation example, through Together's OpenAI-compatible API.
    assert fake.count("POST", "/files") == 2
    assert [len(f.content) for f in fake.uploads.values()] == [
        (pytester.path / "data" / name).stat().st_size
        for name in ("intent_train.jsonl", "intent_valid.jsonl")
    ]
    assert fake.count(*CREATE) == 1
    assert fake.count("POST", "/completions") == 45
    # The provider's defaults, a LoRA job, and the key's tag in the suffix.
    assert job.body["n_epochs"] == 1
    assert job.body["n_evals"] == 1
    assert job.body["validation_file"] == list(fake.uploads)[1]
    state = json.loads((pytester.path / ".pytest_cache/d/finetune/jobs.json").read_text())
    [key] = state["jobs"]
    assert job.suffix == f"pf{key[:12]}"
    # One epoch of the file billed at Together's price for models up to 16B.
    assert training["cost"]["epochs"] == 1
    assert training["cost"]["price_per_million"] == 0.48
    assert training["cost"]["billed_tokens"] == job.token_count
    result.stdout.fnmatch_lines(
        [
            f"Created fine-tuning job {job.id} for {MODEL}; estimated cost *$0.00* (*tokens x "
            "1 epochs at $0.48 per 1M tokens)",
            "[[]*] Training started",
            "[[]*] Job finished",
            "finetune: together:* thresholds met: accuracy * on 45 examples",
        ]
    )


def test_hyperparameters_go_to_together_under_its_names(pytester, fake):
    test = marked_test(
        **declaration(
            n_epochs=3, batch_size=16, learning_rate=0.0002, lora_rank=8, lora_alpha=16, seed=7
        ),
        suffix="intent",
    )
    project(pytester, fake, test)
    run(pytester)[0].assert_outcomes(passed=1)
    body = fake.job().body
    assert body["n_epochs"] == 3
    assert body["batch_size"] == 16
    assert body["learning_rate"] == 0.0002
    assert body["random_seed"] == 7
    assert body["training_type"]["type"] == "Lora"
    assert (body["training_type"]["lora_r"], body["training_type"]["lora_alpha"]) == (8, 16)
    assert body["suffix"].startswith("intent-pf")


def test_a_hyperparameter_together_does_not_take_is_refused_before_any_request(pytester, fake):
    project(pytester, fake, marked_test(**declaration(learning_rate_multiplier=2.0)))
    result, _ = run(pytester)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "The together backend does not take learning_rate_multiplier: its hyperparameters "
            "are n_epochs, batch_size, learning_rate, lora_rank, lora_alpha, lora_dropout."
        ]
    )
    assert not fake.requests


# -- reuse, resume, never twice ------------------------------------------------------


def test_a_rerun_reuses_the_model_and_a_lost_state_file_finds_it_by_its_suffix(pytester, fake):
    project(pytester, fake, marked_test("    assert finetune.reused\n", **declaration()))
    run(pytester)[0].assert_outcomes(failed=1)  # the first run trained: reused is False
    second, report = run(pytester)
    second.assert_outcomes(passed=1)
    second.stdout.fnmatch_lines(["*Reusing fake-user/* from job ft-*: the data and parameters*"])
    (pytester.path / ".pytest_cache/d/finetune/jobs.json").unlink()
    third, report = run(pytester)
    third.assert_outcomes(passed=1)
    third.stdout.fnmatch_lines(
        [
            "*Found job ft-* (succeeded) for the same data and parameters in the provider's job list.*"
        ]
    )
    assert fake.count(*CREATE) == 1
    assert report["training"][0]["job"] == fake.job().id


def test_ctrl_c_leaves_the_job_running_and_the_next_run_resumes_it(pytester, fake):
    project(pytester, fake, marked_test(**declaration()))
    (pytester.path / "pyproject.toml").write_text(config(fake.url, poll=0.05))
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
    while not (fake.together_jobs and fake.job().running_polls >= 3):
        assert time.monotonic() < deadline, "the job never started running"
        assert process.poll() is None, process.communicate()[0]
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    output, _ = process.communicate(timeout=60)
    assert process.returncode == 2, output
    job = fake.job()
    assert f"Interrupted: job {job.id} keeps running at together" in output
    # A command that reads the configuration: the configured service and key variable.
    assert f"To cancel it instead: pytest-finetune jobs cancel {job.id}\n" in output
    assert KEY not in output
    assert job.status == "running"

    fake.running_polls = job.running_polls + 2
    fake.hold.clear()
    result, report = run(pytester)
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines([f"*Resuming job {job.id} (running).*"])
    assert fake.count(*CREATE) == 1
    assert report["training"][0]["job"] == job.id


def test_a_job_cancelled_at_together_is_not_adopted_again(pytester, fake):
    project(pytester, fake, marked_test(**declaration()))
    run(pytester)[0].assert_outcomes(passed=1)
    fake.job().status = "cancelled"  # cancelled in Together's dashboard
    (pytester.path / ".pytest_cache/d/finetune/jobs.json").unlink()
    result, report = run(pytester)
    result.assert_outcomes(passed=1)
    assert "Found job" not in result.stdout.str()
    assert fake.count(*CREATE) == 2
    assert report["training"][0]["job"] != next(iter(fake.together_jobs))


def test_the_cost_guard_prices_one_epoch_at_togethers_rate_before_uploading(pytester, fake):
    project(pytester, fake, marked_test(**declaration()))
    result, _ = run(pytester, "--finetune-max-cost=0.0001")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "Not training: the job would cost about *$0.00* (*tokens x 1 epochs at $0.48 "
            "per 1M tokens), above --finetune-max-cost=0.0001. *"
        ]
    )
    assert fake.count("POST", "/files") == 0
    assert not fake.together_jobs


# -- the provider's words, never a traceback -----------------------------------------


def test_a_failed_job_says_why_in_togethers_words_and_is_not_retried(pytester, fake):
    fake.crash = "CUDA out of memory: reduce the batch size"
    project(pytester, fake, marked_test(**declaration()))
    result, _ = run(pytester)
    result.assert_outcomes(failed=1)
    job = fake.job()
    result.stdout.fnmatch_lines(
        [
            f"The together fine-tuning job {job.id} for intent_train.jsonl failed: CUDA out of "
            "memory: reduce the batch size. Fix the data and run again *"
        ]
    )
    assert_no_traceback(result)
    run(pytester)[0].assert_outcomes(failed=1)
    assert fake.count(*CREATE) == 1


def test_a_model_together_does_not_fine_tune_is_refused_in_its_words(pytester, fake):
    project(pytester, fake, marked_test(**declaration(model="Qwen/Qwen3-8B")))
    result, report = run(pytester)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "Together AI refused creating a fine-tuning job for Qwen/Qwen3-8B (HTTP 404): Model "
            "Qwen/Qwen3-8B is not available for fine-tuning."
        ]
    )
    assert report["training"][0]["error"].startswith("Together AI refused")
    assert_no_traceback(result)
    assert not fake.together_jobs


def test_a_wrong_key_is_refused_and_never_shown(pytester, fake, monkeypatch):
    wrong = "tgp_v1_WrongKeyThatMustNeverBePrinted987654321"
    monkeypatch.setenv("TOGETHER_API_KEY", wrong)
    project(pytester, fake, marked_test(**declaration()))
    result, report = run(pytester, "-v")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "Together AI refused listing fine-tuning jobs (HTTP 401): *Check the key in TOGETHER_API_KEY."
        ]
    )
    everything = result.stdout.str() + result.stderr.str() + json.dumps(report)
    assert wrong not in everything
    assert KEY not in everything
    assert_no_traceback(result)


def test_no_key_names_the_configured_variable(pytester, fake, monkeypatch):
    monkeypatch.setenv("TEAM_TOGETHER_KEY", KEY)
    monkeypatch.delenv("TOGETHER_API_KEY")
    project(pytester, fake, marked_test(**declaration()))
    config_file = pytester.path / "pyproject.toml"
    config_file.write_text(config_file.read_text() + 'api-key-env = "TEAM_TOGETHER_KEY"\n')
    run(pytester)[0].assert_outcomes(passed=1)
    monkeypatch.delenv("TEAM_TOGETHER_KEY")
    result, _ = run(pytester, "--finetune-retrain")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "No Together AI API key: set the TEAM_TOGETHER_KEY environment variable (or name "
            "another one with api-key-env in [tool.pytest_finetune.training.together])."
        ]
    )


def test_rate_limits_and_server_errors_are_retried(pytester, fake):
    fake.fail("GET", "/fine-tunes/ft-.*", 500, "Internal server error", times=2)
    fake.fail("POST", "/fine-tunes", 429, "Rate limit exceeded", times=2)
    fake.fail("POST", "/completions", 429, "Rate limit exceeded", times=3)
    project(pytester, fake, marked_test(**declaration(min_accuracy=0.8)))
    result, report = run(pytester)
    result.assert_outcomes(passed=1)
    assert fake.count(*CREATE) == 3  # two refused, one created
    assert len(fake.together_jobs) == 1
    assert fake.count("POST", "/completions") == 45 + 3
    assert report["training"][0]["metrics"]["accuracy"] == pytest.approx(expected_accuracy())


def test_jobs_cancel_cancels_at_the_configured_service(pytester, fake, monkeypatch, capsys):
    project(pytester, fake, marked_test(**declaration()))
    job = TogetherJob("ft-left-running", {"model": MODEL, "training_file": "file-1"}, time.time())
    fake.together_jobs[job.id] = job
    monkeypatch.chdir(pytester.path)
    assert main(["jobs", "cancel", job.id, "--backend", "together"]) == 0
    out, err = capsys.readouterr()
    assert out == f"Cancelled job {job.id} at together (cancelled).\n"
    assert job.status == "cancelled"
    assert fake.count("POST", f"/fine-tunes/{job.id}/cancel") == 1
    assert KEY not in out + err
