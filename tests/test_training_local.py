"""The finetune marker and ``[[train]]`` declarations, end to end, with the local backend.

The local backend needs no key and trains in a second, so these runs show the whole
pytest side: skipping without ``--finetune-train``, items beside the dataset's check
items, thresholds, the check-error gate, the JSON report, plots and xdist.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from conftest import write_files
from helpers import jsonl, pc
from training_project import PROJECT, intent_files, marked_test

# Loaded by this process, not by each in-process run (which would drop and reload
# them, scikit-learn included, every time).
import pytest_finetune.training.backends.local
import pytest_finetune.training.plots
import pytest_finetune.training.run  # noqa: F401

LOCAL = '[[tool.pytest_finetune.train]]\ntrain = "data/intent_train.jsonl"\nbackend = "local"\n'


def run(pytester: pytest.Pytester, *args: str) -> tuple[pytest.RunResult, dict[str, Any]]:
    report = pytester.path / "report.json"
    result = pytester.runpytest(f"--finetune-report={report}", "-rs", *args)
    return result, json.loads(report.read_text()) if report.exists() else {}


def config(declaration: str = LOCAL) -> str:
    return PROJECT + declaration


# -- opting in -----------------------------------------------------------------------


def test_without_finetune_train_training_items_are_skipped_saying_how_to_run_them(pytester):
    write_files(
        pytester.path,
        {
            "pyproject.toml": config(),
            "test_model.py": marked_test(train="data/intent_train.jsonl", backend="local"),
            **intent_files(),
        },
    )
    result, report = run(pytester)
    outcomes = result.parseoutcomes()
    assert outcomes["skipped"] == 2
    assert "failed" not in outcomes  # the check items of the two files run and pass
    result.stdout.fnmatch_lines(
        [
            "SKIPPED [1] data/intent_train.jsonl:1: Training runs only with --finetune-train (it "
            "takes time and, except with backend='local', money): pytest --finetune-train "
            "data/intent_train.jsonl::finetune[local]",
            "SKIPPED [[]1] test_model.py:4: Training runs only with --finetune-train *: pytest "
            "--finetune-train test_model.py::test_intent_model",
        ]
    )
    assert report["training"] == []


def test_a_train_declaration_adds_an_item_beside_the_datasets_check_items(pytester):
    write_files(pytester.path, {"pyproject.toml": config(), **intent_files()})
    result = pytester.runpytest("--collect-only", "-q")
    items = [line for line in result.stdout.lines if "::" in line]
    assert "data/intent_train.jsonl::finetune[local]" in items
    assert "data/intent_train.jsonl::checks" in items
    assert not [item for item in items if item.startswith("data/intent_valid.jsonl::finetune")]


# -- the gate ------------------------------------------------------------------------


def test_train_items_carry_the_finetune_marker_as_marked_tests_do(pytester):
    write_files(
        pytester.path,
        {
            "pyproject.toml": config(),
            "test_model.py": marked_test(train="data/intent_train.jsonl", backend="local"),
            **intent_files(),
        },
    )
    result = pytester.runpytest("--collect-only", "-q", "-m", "finetune")
    assert result.outlines[:2] == [
        "data/intent_train.jsonl::finetune[local]",
        "test_model.py::test_intent_model",
    ]


def test_pytest_data_gates_on_accuracy_with_no_python_test_file(pytester):
    write_files(
        pytester.path, {"pyproject.toml": config(LOCAL + "min-accuracy = 0.9\n"), **intent_files()}
    )
    result, report = run(pytester, "--finetune-train", "data")
    assert "failed" not in result.parseoutcomes()  # the check items and the training item
    [training] = report["training"]
    assert training["nodeid"] == "data/intent_train.jsonl::finetune[local]"
    assert training["backend"] == "local"
    assert training["passed"] is True
    assert training["thresholds"] == {"min_accuracy": 0.9}
    assert training["metrics"]["accuracy"] >= 0.9
    evaluation = training["evaluation"]
    assert evaluation["examples"] == 45
    assert evaluation["confusion_matrix"]["labels"] == [" 1", " 2", " 3", " 4"]
    assert [sum(row) for row in evaluation["confusion_matrix"]["counts"]] == [12, 13, 5, 15]
    assert {label: f["support"] for label, f in evaluation["per_class"].items()} == {
        " 1": 12,
        " 2": 13,
        " 3": 5,
        " 4": 15,
    }
    assert training["job"] is None  # nothing outlives the process
    assert training["cost"] is None  # free
    result.stdout.fnmatch_lines(
        [
            "training * backend * model * accuracy * f1 * cost * result",
            "data/intent_train.jsonl::finetune[[]local] * local * local:tfidf-sgd:local-1 * 0.9* -  passed",
        ]
    )


def test_a_threshold_a_model_misses_fails_naming_metric_value_and_threshold(pytester):
    declaration = (
        LOCAL
        + "min-accuracy = 0.99\n[tool.pytest_finetune.train.min-class-f1]\n' 3' = 0.5\n' 1' = 0.99\n"
    )
    write_files(pytester.path, {"pyproject.toml": config(declaration), **intent_files()})
    result, report = run(pytester, "--finetune-train", "data/intent_train.jsonl::finetune[local]")
    result.assert_outcomes(failed=1)
    [training] = report["training"]
    accuracy = training["metrics"]["accuracy"]
    f1 = training["evaluation"]["per_class"][" 1"]["f1"]
    result.stdout.fnmatch_lines(
        [
            "*_ finetune[[]local] _*",
            "2 thresholds not met by local on intent_valid.jsonl (model local:tfidf-sgd:local-1):",
            f"  min_accuracy: accuracy {accuracy:.3f} is below the threshold 0.99",
            f"  min_class_f1: F1 of class ' 1' {f1:.3f} is below the threshold 0.99",
            f"Measured on 45 validation examples: accuracy {accuracy:.3f}, macro F1 *",
        ]
    )
    assert f"finetune: local thresholds not met: accuracy {accuracy:.3f}" in result.stdout.str()
    assert "Traceback" not in result.stdout.str()
    assert (training["passed"], training["thresholds_passed"]) == (False, False)
    passed = {(v["threshold"], v["label"]): v["passed"] for v in training["verdicts"]}
    assert passed == {
        ("min_accuracy", None): False,
        ("min_class_f1", " 3"): True,
        ("min_class_f1", " 1"): False,
    }


def test_the_fixture_gives_the_model_its_figures_and_confusion_matrix(pytester):
    body = """\
    import pandas as pd

    assert finetune.backend == "local"
    assert 0.8 <= finetune.accuracy <= 1
    assert finetune.f1 == pytest.approx(sum(m.f1 for m in finetune.per_class.values()) / 4)
    assert finetune.per_class["4"] is finetune.per_class[" 4"]
    assert finetune.per_class["4"].support == 15
    assert isinstance(finetune.confusion, pd.DataFrame)
    assert list(finetune.confusion.index) == [" 1", " 2", " 3", " 4"]
    assert finetune.confusion.to_numpy().sum() == 45
    assert sum(p.correct for p in finetune.predictions) == round(finetune.accuracy * 45)
    steps = finetune.metrics
    assert list(steps["step"]) == list(range(1, len(steps) + 1))
    assert {"train_loss", "valid_loss", "full_valid_loss"} <= set(steps.columns)
    assert finetune.final["valid_loss"] == steps["full_valid_loss"].dropna().iloc[-1]
    assert finetune.cost is None
"""
    write_files(
        pytester.path,
        {
            "pyproject.toml": PROJECT,
            "test_model.py": marked_test(
                body, train="data/intent_train.jsonl", backend="local", n_epochs=2
            ),
            **intent_files(),
        },
    )
    result, _ = run(pytester, "--finetune-train", "test_model.py")
    result.assert_outcomes(passed=1)


def local_project(pytester: pytest.Pytester, body: str) -> None:
    """The intent split and a test of ``body`` marked to train it with the local backend."""
    write_files(
        pytester.path,
        {
            "pyproject.toml": PROJECT,
            "test_model.py": marked_test(body, train="data/intent_train.jsonl", backend="local"),
            **intent_files(),
        },
    )


def test_a_body_that_fails_after_the_thresholds_fails_in_the_table_and_report(pytester):
    # No thresholds: training "passes", then the test's own assertion fails it.
    body = "    assert finetune.accuracy > 0.99\n"
    local_project(pytester, body)
    result, report = run(pytester, "--finetune-train", "test_model.py")
    result.assert_outcomes(failed=1)
    [training] = report["training"]
    assert (training["passed"], training["thresholds_passed"]) == (False, True)
    accuracy = training["metrics"]["accuracy"]
    assert accuracy < 0.99
    result.stdout.fnmatch_lines(
        [
            f"finetune: local no thresholds: accuracy {accuracy:.3f} on 45 examples",
            "training * result",
            "test_model.py::test_intent_model * local * failed: test body",
        ]
    )
    assert f"passed: accuracy {accuracy:.3f}" not in result.stdout.str()


@pytest.mark.parametrize(
    ("body", "outcome"),
    [
        ("    pytest.skip('not today')\n", "skipped"),
        ("    pytest.xfail('known to be weak')\n", "xfailed"),
    ],
)
def test_a_body_that_skips_or_xfails_is_not_called_a_failure(pytester, body, outcome):
    local_project(pytester, body)
    result, report = run(pytester, "--finetune-train", "test_model.py")
    result.assert_outcomes(**{outcome: 1})
    [training] = report["training"]
    assert (training["outcome"], training["passed"]) == (outcome, False)
    result.stdout.fnmatch_lines([f"test_model.py::test_intent_model * local * {outcome}"])


def test_with_xdist_the_report_has_the_test_outcome_too(pytester):
    # The outcome comes from the call report, which workers send to the controller.
    body = "    assert finetune.accuracy > 0.99\n"
    local_project(pytester, body)
    report = pytester.path / "report.json"
    result = pytester.runpytest_subprocess(
        f"--finetune-report={report}", "--finetune-train", "-n", "2", "test_model.py"
    )
    result.assert_outcomes(failed=1)
    [training] = json.loads(report.read_text())["training"]
    assert (training["passed"], training["thresholds_passed"]) == (False, True)
    result.stdout.fnmatch_lines(["test_model.py::test_intent_model * failed: test body"])


def test_the_progress_line_tells_whether_the_thresholds_were_met(pytester):
    write_files(
        pytester.path,
        {
            "pyproject.toml": PROJECT,
            "test_model.py": marked_test(
                train="data/intent_train.jsonl", backend="local", min_accuracy=0.5
            ),
            **intent_files(),
        },
    )
    result, report = run(pytester, "--finetune-train", "test_model.py")
    result.assert_outcomes(passed=1)
    [training] = report["training"]
    assert (training["passed"], training["thresholds_passed"]) == (True, True)
    result.stdout.fnmatch_lines(
        ["finetune: local thresholds met: accuracy * on 45 examples", "*test_model.py::* passed"]
    )


def test_a_marker_path_may_be_relative_to_the_test_file(pytester):
    write_files(
        pytester.path,
        {
            "pyproject.toml": PROJECT,
            "tests/test_model.py": marked_test(train="data/intent_train.jsonl", backend="local"),
            **intent_files(folder="tests/data"),
        },
    )
    result, _ = run(pytester, "--finetune-train", "tests/test_model.py")
    result.assert_outcomes(passed=1)


def test_data_that_is_not_classification_is_skipped_by_the_local_backend(pytester):
    open_ended = [
        pc(f"Summarise report {i} ->", f" Report {i} says sales grew by {i}%.\n") for i in range(40)
    ]
    files = {
        "data/summary_train.jsonl": jsonl(*open_ended[:30]),
        "data/summary_valid.jsonl": jsonl(*open_ended[30:]),
        "test_model.py": marked_test(train="data/summary_train.jsonl", backend="local"),
    }
    write_files(pytester.path, files)
    result, _ = run(pytester, "--finetune-train", "test_model.py")
    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines(
        [
            "SKIPPED [1] test_model.py:4: The local backend trains a text classifier; "
            "summary_train.jsonl is not classification data (30 distinct answers in 30 "
            "examples; classification needs fewer than a third as many answers as "
            "examples). Use backend='openai' for it."
        ]
    )


# -- the data must pass its checks first ----------------------------------------------


def broken_split() -> dict[str, str | bytes]:
    files = intent_files()
    train = files["data/intent_train.jsonl"]
    assert isinstance(train, bytes)
    lines = train.splitlines(keepends=True)
    files["data/intent_train.jsonl"] = b"".join(
        [*lines[:4], b'{"prompt": "Hi ->", "completion": " 3"\n', *lines[4:]]
    )
    return files


def test_a_dataset_with_check_errors_is_not_trained(pytester):
    write_files(pytester.path, {"pyproject.toml": config(), **broken_split()})
    result, report = run(pytester, "--finetune-train", "data/intent_train.jsonl::finetune[local]")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "Not trained: the data has 1 check error (FT003), and a model trained on it would "
            "be measured on broken examples. Fix them (the dataset's check items list them "
            "all), or pass allow_check_errors=True (allow-check-errors = true in config) to "
            "train anyway.",
            "  data/intent_train.jsonl:5:*: FT003 *",
        ]
    )
    assert "Trained a tfidf-sgd classifier" not in result.stdout.str()
    assert report["training"][0]["error"].startswith("Not trained: the data has 1 check error")


def test_check_errors_can_be_allowed(pytester):
    declaration = LOCAL + "allow-check-errors = true\n"
    write_files(pytester.path, {"pyproject.toml": config(declaration), **broken_split()})
    result, _ = run(pytester, "--finetune-train", "data/intent_train.jsonl::finetune[local]", "-s")
    result.assert_outcomes(passed=1)
    # The line that is not JSON is left out; the other 178 examples are learnt.
    result.stdout.fnmatch_lines(["*Trained a tfidf-sgd classifier on 178 examples of 4 classes*"])


# -- declarations that cannot run ------------------------------------------------------


def test_an_unknown_marker_keyword_fails_with_a_suggestion(pytester):
    write_files(
        pytester.path,
        {
            "test_model.py": marked_test(
                train="data/intent_train.jsonl", backend="local", min_acuracy=0.9
            ),
            **intent_files(),
        },
    )
    result, _ = run(pytester, "--finetune-train", "test_model.py")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "test_model.py::test_intent_model: @pytest.mark.finetune: unknown key 'min_acuracy'; did you mean 'min_accuracy'? (keys: *)"
        ]
    )


def test_an_unknown_key_in_a_train_table_is_a_usage_error(pytester):
    write_files(
        pytester.path, {"pyproject.toml": config(LOCAL + "min-acuracy = 0.9\n"), **intent_files()}
    )
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [
            "*[[]tool.pytest_finetune]: train[[]0]: unknown key 'min-acuracy'; did you mean 'min-accuracy'?"
        ]
    )


def test_a_train_table_naming_a_missing_file_is_a_usage_error(pytester):
    write_files(
        pytester.path,
        {"pyproject.toml": config(LOCAL.replace("intent_train", "intnet_train")), **intent_files()},
    )
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [
            "*[[]tool.pytest_finetune]: [[][[]train]] #1: train file 'data/intnet_train.jsonl' not found (looked for *)"
        ]
    )


def test_a_training_file_without_a_validation_split_says_what_to_give(pytester):
    files = {"pyproject.toml": PROJECT, **intent_files()}
    files["data/intent_heldout.jsonl"] = files.pop("data/intent_valid.jsonl")
    files["test_model.py"] = marked_test(train="data/intent_train.jsonl", backend="local")
    write_files(pytester.path, files)
    result, _ = run(pytester, "--finetune-train", "test_model.py")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*: no validation file for intent_train.jsonl: accuracy is measured on held-out examples; give valid='...' or put a *_valid.jsonl file beside the training file"
        ]
    )
    files["test_model.py"] = marked_test(
        train="data/intent_train.jsonl", valid="data/intent_heldout.jsonl", backend="local"
    )
    write_files(pytester.path, files)
    run(pytester, "--finetune-train", "test_model.py")[0].assert_outcomes(passed=1)


def test_the_openai_backend_needs_a_model(pytester):
    write_files(
        pytester.path,
        {"test_model.py": marked_test(train="data/intent_train.jsonl"), **intent_files()},
    )
    result, _ = run(pytester, "--finetune-train", "test_model.py")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*: the openai backend needs a base model to fine-tune, e.g. model='gpt-4.1-mini-2025-04-14' (or the top-level 'model' key in the configuration)"
        ]
    )


@pytest.mark.parametrize("backend", ["openai", "local"])
def test_an_unknown_model_fails_the_item_with_a_suggestion_before_any_training(pytester, backend):
    # The local baseline too: the paid run of the same declaration could not train it.
    write_files(
        pytester.path,
        {
            "test_model.py": marked_test(
                train="data/intent_train.jsonl", backend=backend, model="gpt4o-mini"
            ),
            **intent_files(),
        },
    )
    result, _ = run(pytester, "--finetune-train", "test_model.py")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            f"{backend}:gpt4o-mini: model: unknown model "
            "'gpt4o-mini'; did you mean 'gpt-4o-mini'? Or add it as *"
        ]
    )
    assert "Traceback" not in result.stdout.str()
    assert "Created" not in result.stdout.str()  # no job, not even a local one


def test_the_fixture_without_the_marker_says_what_is_missing(pytester):
    write_files(pytester.path, {"test_model.py": "def test_model(finetune):\n    pass\n"})
    result, _ = run(pytester, "--finetune-train")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        ["The finetune fixture needs @pytest.mark.finetune(train='...') on the test."]
    )


def test_strict_markers_and_config_accept_the_marker_and_keys(pytester):
    write_files(
        pytester.path,
        {
            "pyproject.toml": config(LOCAL)
            + "[tool.pytest_finetune.training]\npoll-interval = 1\n[tool.pytest.ini_options]\naddopts = '--strict-markers --strict-config'\n",
            "test_model.py": marked_test(train="data/intent_train.jsonl", backend="local"),
            **intent_files(),
        },
    )
    result, _ = run(pytester, "test_model.py")
    result.assert_outcomes(skipped=1)


# -- outputs -----------------------------------------------------------------------------


def test_plots_are_written_as_html_that_loads_plotly_from_its_cdn_or_embeds_it(pytester):
    write_files(pytester.path, {"pyproject.toml": config(), **intent_files()})
    result, report = run(
        pytester,
        "--finetune-train",
        "--finetune-plots=plots",
        "data/intent_train.jsonl::finetune[local]",
    )
    result.assert_outcomes(passed=1)
    [page] = (pytester.path / "plots").iterdir()
    assert page.name == "data_intent_train.jsonl_finetune_local.html"
    assert pytester.path / report["training"][0]["plot"] == page
    # Every chart's path is printed.
    result.stdout.fnmatch_lines(
        [f"charts of data/intent_train.jsonl::finetune[[]local]: {report['training'][0]['plot']}"]
    )
    html = page.read_text()
    assert 'src="https://cdn.plot.ly/plotly-' in html
    assert len(html) < 200_000  # not the 4.8 MB of plotly.js
    result, _ = run(
        pytester,
        "--finetune-train",
        "--finetune-plots=plots",
        "--finetune-plots-offline",
        "data/intent_train.jsonl::finetune[local]",
    )
    html = page.read_text()
    assert "<script src=" not in html  # plotly.js is inlined: the file opens offline
    assert "Plotly.newPlot" in html
    for trace in (
        "train_loss",
        "full_valid_loss",
        "full_valid_mean_token_accuracy",
        "Confusion matrix",
    ):
        assert trace in html
