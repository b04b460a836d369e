"""The endpoint backend end to end: a model served by an OpenAI-compatible server, gated.

Each test builds a project (the real Azure intent split, config naming the server, a
marked test), runs pytest on it with ``--finetune-train`` and reads the outcome, the
terminal and the JSON report. The server (``fake_server.py``, shaped as vLLM's) serves
a classifier trained on the training split, so the accuracy asserted is measured.
"""

from __future__ import annotations

import json
from typing import Any

import httpcore2
import pytest
from conftest import write_files
from fake_server import FakeServer
from training_project import KEY, PROJECT, TRAIN, VALID, intent_files, marked_test

# Loaded here, not in each in-process run (see test_training_openai.py).
import pytest_finetune.training.backends.endpoint
import pytest_finetune.training.plots
import pytest_finetune.training.run  # noqa: F401
from pytest_finetune.training.backends.local import LocalClassifier
from pytest_finetune.training.examples import read_examples

assert httpcore2

MODEL = "intent-lora"


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch):
    with FakeServer() as service:
        service.serve(MODEL, TRAIN, chat=False)
        # A key for OpenAI in the environment must never be sent to another server.
        monkeypatch.setenv("OPENAI_API_KEY", KEY)
        yield service


def endpoint_config(url: str, **endpoint: Any) -> str:
    settings = "".join(f"{key} = {json.dumps(value)}\n" for key, value in endpoint.items())
    return (
        PROJECT + "[tool.pytest_finetune.training]\nretries = 3\n"
        f'[tool.pytest_finetune.training.endpoint]\nbase-url = "{url}"\n{settings}'
    )


def project(
    pytester: pytest.Pytester,
    server: FakeServer,
    body: str = "    pass\n",
    *,
    chat: bool = False,
    url: str | None = None,
    endpoint: dict[str, Any] | None = None,
    model: str | None = MODEL,
    **declaration: Any,
) -> None:
    declaration = {"train": "data/intent_train.jsonl", "backend": "endpoint", **declaration}
    if model is not None:
        declaration["model"] = model
    write_files(
        pytester.path,
        {
            "pyproject.toml": endpoint_config(url or server.url, **(endpoint or {})),
            "test_model.py": marked_test(body, **declaration),
            **intent_files(chat=chat),
        },
    )


def run(pytester: pytest.Pytester, *args: str) -> tuple[pytest.RunResult, dict[str, Any]]:
    report = pytester.path / "report.json"
    result = pytester.runpytest(
        "test_model.py", "--finetune-train", f"--finetune-report={report}", "-rs", *args
    )
    return result, json.loads(report.read_text()) if report.exists() else {}


def expected_accuracy() -> float:
    """What the served classifier scores on the validation split."""
    train = read_examples(TRAIN)
    valid = read_examples(VALID, train.conventions)
    classifier = LocalClassifier(seed=42)
    classifier.fit(train.texts(), [e.expected for e in train.examples])
    answers = classifier.answer(valid.texts())
    return sum(a == e.expected for a, e in zip(answers, valid.examples, strict=True)) / len(answers)


def lines(*patterns: str) -> list[str]:
    """fnmatch patterns in which ``[`` is itself (``*`` still matches anything)."""
    return [pattern.replace("[", "[[]") for pattern in patterns]


def everything(result: pytest.RunResult, report: dict[str, Any]) -> str:
    return result.stdout.str() + result.stderr.str() + json.dumps(report)


# -- the gate ------------------------------------------------------------------------


def test_a_served_model_is_measured_and_gated_like_a_fine_tuned_one(pytester, server):
    body = (
        "    assert finetune.backend == 'endpoint'\n"
        f"    assert finetune.model == {MODEL!r}\n"
        "    assert finetune.job is None and not finetune.reused\n"
        "    assert finetune.confusion.to_numpy().sum() == 45\n"
        "    assert finetune.per_class['4'].support == 15\n"
        "    assert finetune.cost is None\n"
    )
    project(pytester, server, body, min_accuracy=0.8, min_class_f1=0.5)
    result, report = run(pytester, "-s")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(
        lines(
            f"[*] {server.url}/ serves {MODEL}: nothing to train, measuring it",
            f"Measuring {MODEL} on 45 examples of intent_valid.jsonl",
            "finetune: endpoint:intent-lora thresholds met: accuracy * on 45 examples",
        )
    )
    [training] = report["training"]
    assert training["backend"] == "endpoint"
    assert training["model"] == MODEL
    assert training["job"] is None
    assert training["cost"] is None
    assert training["metrics"]["accuracy"] == pytest.approx(expected_accuracy())
    assert set(training["evaluation"]["per_class"]) == {" 1", " 2", " 3", " 4"}
    assert sum(map(sum, training["evaluation"]["confusion_matrix"]["counts"])) == 45
    # Prompt/completion data: the completions API, the prompt as it is in the file,
    # at temperature 0; nothing uploaded, no job, and no key but vLLM's placeholder.
    completions = [r.body for r in server.requests if r.path == "/v1/completions"]
    assert len(completions) == 45
    assert all(body["prompt"].endswith(" ->") and body["temperature"] == 0 for body in completions)
    assert {r.path for r in server.requests} == {"/v1/models", "/v1/completions"}
    assert {r.authorization for r in server.requests} == {"Bearer EMPTY"}


def test_a_model_below_the_threshold_fails_with_the_evidence(pytester, server):
    project(pytester, server, min_accuracy=0.99, max_valid_loss=0.5)
    result, report = run(pytester)
    result.assert_outcomes(failed=1)
    accuracy = expected_accuracy()
    result.stdout.fnmatch_lines(
        lines(
            f"2 thresholds not met by endpoint:{MODEL} on intent_valid.jsonl (model {MODEL}):",
            f"  min_accuracy: accuracy {accuracy:.3f} is below the threshold 0.99",
            "  max_valid_loss: valid_loss was not measured (the backend reported no such figure), *",
            "Per class: precision, recall, F1 (examples)",
            "Confusion matrix (rows: expected, columns: predicted)",
        )
    )
    assert report["training"][0]["thresholds_passed"] is False


def test_chat_data_is_asked_through_chat_completions(pytester, server):
    server.serve("intent-chat", TRAIN, chat=True)
    project(pytester, server, chat=True, model="intent-chat", min_accuracy=0.8)
    result, _ = run(pytester)
    result.assert_outcomes(passed=1)
    chats = [r.body for r in server.requests if r.path == "/v1/chat/completions"]
    assert len(chats) == 45
    # max_tokens, which every compatible server knows (max_completion_tokens is OpenAI's).
    assert all("max_tokens" in body and "max_completion_tokens" not in body for body in chats)
    assert chats[0]["messages"][0]["role"] == "system"
    assert server.count("POST", "/v1/completions") == 0


def test_the_api_setting_asks_prompts_through_chat_completions(pytester, server):
    project(pytester, server, endpoint={"api": "chat"})
    result, _ = run(pytester)
    result.assert_outcomes(passed=1)
    chats = [r.body for r in server.requests if r.path == "/v1/chat/completions"]
    assert len(chats) == 45
    prompts = [example.prompt for example in read_examples(VALID).examples]
    assert all(body["messages"][0]["role"] == "user" for body in chats)
    assert sorted(body["messages"][0]["content"] for body in chats) == sorted(prompts)


def test_chat_data_cannot_be_asked_through_completions(pytester, server):
    project(pytester, server, chat=True, endpoint={"api": "completions"})
    result, _ = run(pytester)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        lines(
            'intent_train.jsonl is chat data, which the completions API cannot take: set api = "chat" in [tool.pytest_finetune.training.endpoint], or remove api.'
        )
    )
    assert not server.requests


def test_every_run_asks_the_server_again(pytester, server):
    project(pytester, server)
    run(pytester)[0].assert_outcomes(passed=1)
    run(pytester)[0].assert_outcomes(passed=1)
    assert server.count("POST", "/v1/completions") == 90
    assert not (pytester.path / ".pytest_cache/d/finetune/jobs.json").exists()


# -- the server's words, never a traceback -------------------------------------------


def test_a_server_that_is_down_is_one_clear_line(pytester, server):
    project(pytester, server, url="http://127.0.0.1:9/v1")
    result, report = run(pytester)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        lines(
            "Could not reach the server at http://127.0.0.1:9/v1/ while listing its models: *. Is the server running? Start it, or check base-url in [tool.pytest_finetune.training.endpoint]."
        )
    )
    assert "Traceback" not in result.stdout.str()
    assert "Retrying" not in result.stdout.str()
    assert report["training"][0]["error"].startswith("Could not reach the server at")


def test_a_wrong_model_name_fails_in_the_servers_words(pytester, server):
    project(pytester, server, model="intent-lora-v2")
    result, _ = run(pytester, "-s")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        lines(
            f"[*] WARNING: {server.url}/ lists no model named intent-lora-v2 (it lists "
            "intent-lora); asking for it anyway",
            f"The server at {server.url}/ refused asking intent-lora-v2 (HTTP 404): The model "
            "`intent-lora-v2` does not exist. Check model='...' against the models the server "
            "serves, and base-url in [tool.pytest_finetune.training.endpoint].",
        )
    )
    assert "Retrying" not in result.stdout.str()


def test_a_server_without_a_model_list_is_asked_all_the_same(pytester):
    with FakeServer(lists_models=False) as server:
        server.serve(MODEL, TRAIN, chat=False)
        project(pytester, server, min_accuracy=0.8)
        result, _ = run(pytester)
    result.assert_outcomes(passed=1)
    assert server.count("POST", "/v1/completions") == 45


def test_rate_limits_and_a_loading_server_are_retried(pytester, server):
    # A gateway in front of the server rate limits; the server is still loading.
    wait = {"retry-after": "0"}
    server.fail("POST", "/v1/completions", 429, "Rate limit exceeded", times=4, headers=wait)
    server.fail("POST", "/v1/completions", 503, "Model is loading", times=2, headers=wait)
    # Enough retries for one example to meet every fault.
    project(pytester, server, min_accuracy=0.8, endpoint={"concurrency": 2, "retries": 6})
    result, report = run(pytester)
    result.assert_outcomes(passed=1)
    assert server.count("POST", "/v1/completions") == 45 + 6
    assert report["training"][0]["metrics"]["accuracy"] == pytest.approx(expected_accuracy())


def test_retries_are_a_setting_and_running_out_is_a_clear_failure(pytester, server):
    server.fail("POST", "/v1/completions", 503, "Model is loading", times=-1)
    project(pytester, server, endpoint={"retries": 1, "concurrency": 1})
    result, _ = run(pytester)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        lines(
            f"The server at {server.url}/ failed while asking intent-lora (HTTP 503): Model is loading. Run again later."
        )
    )
    # One example asked twice (once, then one retry), and the run stopped.
    assert server.count("POST", "/v1/completions") == 2


def test_the_key_is_sent_to_a_server_that_wants_one_and_never_shown(pytester, monkeypatch):
    key = "sk-vllm-ServerKeyNeverPrintedAnywhere42"
    monkeypatch.setenv("VLLM_API_KEY", key)
    with FakeServer(api_key=key) as server:
        server.serve(MODEL, TRAIN, chat=False)
        project(pytester, server, endpoint={"api-key-env": "VLLM_API_KEY"}, min_accuracy=0.99)
        result, report = run(pytester, "-s", "-v")
    result.assert_outcomes(failed=1)
    assert {r.authorization for r in server.requests} == {f"Bearer {key}"}
    assert key not in everything(result, report)


def test_a_wrong_key_is_refused_in_the_servers_words(pytester, monkeypatch):
    monkeypatch.setenv("VLLM_API_KEY", "sk-vllm-WrongKeyNeverPrinted0000000")
    with FakeServer(api_key="sk-vllm-RightKey") as server:
        server.serve(MODEL, TRAIN, chat=False)
        project(pytester, server, endpoint={"api-key-env": "VLLM_API_KEY"})
        result, report = run(pytester)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        lines(
            f"The server at {server.url}/ refused listing its models (HTTP 401): Unauthorized. Check the key in VLLM_API_KEY."
        )
    )
    assert "WrongKeyNeverPrinted" not in everything(result, report)


def test_a_server_that_wants_a_key_says_where_to_name_it(pytester):
    with FakeServer(api_key="sk-vllm-RightKey") as server:
        server.serve(MODEL, TRAIN, chat=False)
        project(pytester, server)
        result, _ = run(pytester)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        lines(
            "* (HTTP 401): Unauthorized. The server wants a key: name its variable with api-key-env in [tool.pytest_finetune.training.endpoint]."
        )
    )


def test_a_named_key_variable_that_is_unset_says_which(pytester, server, monkeypatch):
    monkeypatch.delenv("VLLM_API_KEY", raising=False)
    project(pytester, server, endpoint={"api-key-env": "VLLM_API_KEY"})
    result, _ = run(pytester)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        lines("No key for the endpoint: set the VLLM_API_KEY environment variable.")
    )
    assert not server.requests


# -- declarations ----------------------------------------------------------------------


def test_without_a_base_url_the_failure_says_where_to_set_it(pytester, server):
    project(pytester, server)
    (pytester.path / "pyproject.toml").write_text(PROJECT)
    result, _ = run(pytester)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        lines(
            "The endpoint backend measures the model a server serves: set base-url in [tool.pytest_finetune.training.endpoint] *"
        )
    )


def test_the_model_is_the_served_name_never_the_projects_model_to_fine_tune(pytester, server):
    project(pytester, server, model=None)
    config = pytester.path / "pyproject.toml"
    config.write_text(config.read_text().replace(PROJECT, PROJECT + 'model = "gpt-4o-mini"\n'))
    result, _ = run(pytester)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        lines(
            "*: the endpoint backend needs model='...': the name the server or provider knows the model by"
        )
    )


def test_an_unknown_api_is_a_configuration_error(pytester, server):
    project(pytester, server, endpoint={"api": "responses"})
    result = pytester.runpytest("test_model.py", "--finetune-train")
    assert result.ret != 0
    result.stdout.fnmatch_lines(
        lines('*training.endpoint.api must be "chat" or "completions", got \'responses\'*')
    )
