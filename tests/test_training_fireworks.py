"""The fireworks backend end to end: the real fireworks-ai SDK, over HTTP, against a fake service.

As for the openai backend, each test builds a project (the real Azure intent split,
config, a marked test), runs pytest on it with ``--finetune-train`` and reads the
outcome, the terminal and the JSON report. The fake service (``fake_fireworks.py``)
trains a real classifier on the uploaded dataset, so the accuracy asserted is measured.
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
from fake_fireworks import ACCOUNT, DEPLOYMENT, FakeFireworks, SftJob
from test_training_openai import assert_no_traceback, expected_accuracy
from training_project import KEY, PROJECT, intent_files, marked_test

# Loaded before pytester's inner runs, as in test_training_openai.
import pytest_finetune.training.backends.fireworks
import pytest_finetune.training.run  # noqa: F401
from pytest_finetune.cli import main

assert httpcore2

MODEL = "accounts/fireworks/models/llama-v3p1-8b-instruct"
JOBS = f"/accounts/{ACCOUNT}/supervisedFineTuningJobs"


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch):
    with FakeFireworks(KEY) as service:
        monkeypatch.setenv("FIREWORKS_API_KEY", KEY)
        monkeypatch.setenv("FIREWORKS_ACCOUNT_ID", ACCOUNT)
        monkeypatch.delenv("FIREWORKS_BASE_URL", raising=False)
        yield service


def config(url: str, *, poll: float = 0) -> str:
    return (
        PROJECT + "[tool.pytest_finetune.training]\n"
        f"poll-interval = {poll}\n"
        "[tool.pytest_finetune.training.fireworks]\n"
        f'base-url = "{url}"\n'
        "max-retries = 3\n"
    )


def project(pytester: pytest.Pytester, fake: FakeFireworks, test: str) -> None:
    write_files(
        pytester.path,
        {"pyproject.toml": config(fake.url), "test_model.py": test, **intent_files(chat=True)},
    )


def run(pytester: pytest.Pytester, *args: str) -> tuple[pytest.RunResult, dict[str, Any]]:
    report = pytester.path / "report.json"
    result = pytester.runpytest(
        "test_model.py", "--finetune-train", f"--finetune-report={report}", "-rs", *args
    )
    data = json.loads(report.read_text()) if report.exists() else {}
    return result, data


def declaration(**more: Any) -> dict[str, Any]:
    return {
        "train": "data/intent_train.jsonl",
        "backend": "fireworks",
        "model": MODEL,
        "deployment": "intent-base",
        **more,
    }


def test_a_model_trained_on_fireworks_is_loaded_on_its_deployment_and_measured(pytester, fake):
    project(pytester, fake, marked_test(**declaration(min_accuracy=0.8, n_epochs=2, lora_rank=8)))
    result, report = run(pytester, "-s")
    result.assert_outcomes(passed=1)
    [training] = report["training"]
    job = fake.job()
    assert training["backend"] == "fireworks"
    assert training["job"] == job.id
    assert training["model"] == job.output_model == f"accounts/{ACCOUNT}/models/{job.id}"
    assert training["metrics"]["accuracy"] == pytest.approx(expected_accuracy())
    # Two datasets named after their bytes, one job with Fireworks' names for the
    # hyperparameters, the model loaded on the deployment and asked there.
    assert [d.content for d in fake.datasets.values()] == [
        (pytester.path / "data" / name).read_bytes()
        for name in ("intent_train.jsonl", "intent_valid.jsonl")
    ]
    assert job.body["baseModel"] == MODEL
    assert (job.body["epochs"], job.body["loraRank"]) == (2, 8)
    assert job.body["evaluationDataset"].endswith(list(fake.datasets)[1])
    assert fake.count("POST", f"/accounts/{ACCOUNT}/deployedModels") == 1
    asked = [r.body for r in fake.requests if r.path == "/inference/v1/chat/completions"]
    assert [body["model"] for body in asked] == [f"{job.output_model}#{DEPLOYMENT}"] * 45
    # The answer's limit under the name OpenAI-compatible services take.
    assert all("max_tokens" in body and "max_completion_tokens" not in body for body in asked)
    assert training["cost"]["price_per_million"] == 0.50
    assert training["cost"]["epochs"] == 2
    result.stdout.fnmatch_lines(
        [
            f"Created fine-tuning job {job.id} for {MODEL}; estimated cost *",
            "[[]*] Job running",
            "[[]*] Training: epoch 1, 0% done",
            "[[]*] Job completed",
        ]
    )


def test_without_a_deployment_nothing_is_uploaded_or_paid(pytester, fake):
    test = marked_test(train="data/intent_train.jsonl", backend="fireworks", model=MODEL)
    project(pytester, fake, test)
    result, _ = run(pytester)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "Fireworks AI serves a fine-tuned LoRA model only on a deployment of its base model, "
            f"and accuracy is measured from its answers: create one (firectl create deployment "
            f"{MODEL} --enable-addons) and name it with deployment='...'."
        ]
    )
    assert not fake.datasets
    assert not fake.sft_jobs


def test_a_rerun_reuses_the_model_and_a_lost_state_file_finds_it_by_its_name(pytester, fake):
    project(pytester, fake, marked_test("    assert finetune.reused\n", **declaration()))
    run(pytester)[0].assert_outcomes(failed=1)  # the first run trained
    run(pytester)[0].assert_outcomes(passed=1)
    (pytester.path / ".pytest_cache/d/finetune/jobs.json").unlink()
    result, report = run(pytester)
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(
        [
            "*Found job sftj-* (succeeded) for the same data and parameters in the provider's job list.*"
        ]
    )
    assert fake.count("POST", JOBS) == 1
    # The datasets were uploaded once; a changed file uploads only itself.
    assert fake.count("POST", f"/accounts/{ACCOUNT}/datasets/.*") == 2
    assert report["training"][0]["job"] == fake.job().id


def test_ctrl_c_leaves_the_job_running_and_the_next_run_resumes_it(pytester, fake):
    project(pytester, fake, marked_test(**declaration()))
    (pytester.path / "pyproject.toml").write_text(config(fake.url, poll=0.05))
    fake.hold.set()
    process = subprocess.Popen(
        [sys.executable, "-m", "pytest", "test_model.py", "--finetune-train"],
        cwd=pytester.path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    deadline = time.monotonic() + 60
    while not (fake.sft_jobs and fake.job().running_polls >= 3):
        assert time.monotonic() < deadline, "the job never started running"
        assert process.poll() is None, process.communicate()[0]
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    output, _ = process.communicate(timeout=60)
    assert process.returncode == 2, output
    job = fake.job()
    assert f"Interrupted: job {job.id} keeps running at fireworks" in output
    assert f"To cancel it instead: pytest-finetune jobs cancel {job.id}\n" in output
    assert KEY not in output
    assert job.state == "JOB_STATE_RUNNING"

    fake.running_polls = job.running_polls + 2
    fake.hold.clear()
    result, report = run(pytester)
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines([f"*Resuming job {job.id} (running).*"])
    assert fake.count("POST", JOBS) == 1
    assert report["training"][0]["job"] == job.id


def test_a_failed_job_says_why_in_fireworks_words(pytester, fake):
    fake.crash = "Training diverged: loss is NaN at step 12"
    project(pytester, fake, marked_test(**declaration()))
    result, _ = run(pytester)
    result.assert_outcomes(failed=1)
    job = fake.job()
    result.stdout.fnmatch_lines(
        [
            f"The fireworks fine-tuning job {job.id} for intent_train.jsonl failed (INTERNAL): "
            "Training diverged: loss is NaN at step 12. Fix the data and run again *"
        ]
    )
    assert_no_traceback(result)
    run(pytester)[0].assert_outcomes(failed=1)
    assert fake.count("POST", JOBS) == 1


def test_a_refusal_is_shown_in_fireworks_words(pytester, fake):
    project(pytester, fake, marked_test(**declaration(model="accounts/fireworks/models/qwen3-8b")))
    result, _ = run(pytester)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "Fireworks AI refused creating a fine-tuning job for accounts/fireworks/models/"
            "qwen3-8b (HTTP 400): base model accounts/fireworks/models/qwen3-8b is not "
            "supported for fine-tuning."
        ]
    )
    assert_no_traceback(result)


def test_a_wrong_key_is_refused_and_never_shown(pytester, fake, monkeypatch):
    wrong = "fw_WrongKeyThatMustNeverBePrinted987654321"
    monkeypatch.setenv("FIREWORKS_API_KEY", wrong)
    project(pytester, fake, marked_test(**declaration()))
    result, report = run(pytester, "-v")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "Fireworks AI refused listing fine-tuning jobs (HTTP 401): *Check the key in FIREWORKS_API_KEY."
        ]
    )
    everything = result.stdout.str() + result.stderr.str() + json.dumps(report)
    assert wrong not in everything
    assert KEY not in everything
    assert_no_traceback(result)


def test_rate_limits_and_server_errors_are_retried(pytester, fake):
    fake.fail("GET", f"{JOBS}/sftj-.*", 503, "The service is unavailable", times=2)
    fake.fail("POST", JOBS, 429, "Too many requests", times=1)
    fake.fail("POST", "/inference/v1/chat/completions", 429, "Too many requests", times=3)
    project(pytester, fake, marked_test(**declaration(min_accuracy=0.8)))
    result, report = run(pytester)
    result.assert_outcomes(passed=1)
    assert len(fake.sft_jobs) == 1
    assert fake.count("POST", "/inference/v1/chat/completions") == 45 + 3
    assert report["training"][0]["metrics"]["accuracy"] == pytest.approx(expected_accuracy())


def test_jobs_cancel_cancels_at_the_configured_account(pytester, fake, monkeypatch, capsys):
    project(pytester, fake, marked_test(**declaration()))
    job = SftJob("sftj-left-running", {"baseModel": MODEL}, time.time())
    fake.sft_jobs[job.id] = job
    monkeypatch.chdir(pytester.path)
    assert main(["jobs", "cancel", job.id, "--backend", "fireworks"]) == 0
    out, err = capsys.readouterr()
    assert out == f"Cancelled job {job.id} at fireworks (cancelled).\n"
    assert job.state == "JOB_STATE_CANCELLED"
    assert KEY not in out + err


def test_data_other_than_chat_is_refused_before_any_upload(pytester, fake):
    write_files(
        pytester.path,
        {
            "pyproject.toml": config(fake.url),
            "test_model.py": marked_test(**declaration(allow_check_errors=True)),
            **intent_files(),
        },
    )
    result, _ = run(pytester)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "The fireworks backend runs supervised fine-tuning, which takes chat data "
            "(intent_train.jsonl is not): convert it with pytest-finetune prepare."
        ]
    )
    assert not fake.datasets
