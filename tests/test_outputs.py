"""What a run shows: failing items, the summary, the JSON report, SARIF, GitHub annotations."""

from __future__ import annotations

import json
from importlib import resources

import pytest
from conftest import write_files
from helpers import intents, jsonl, pc

from pytest_finetune import REGISTRY
from pytest_finetune.findings import Finding, Severity
from pytest_finetune.outputs import github, report

GOOD = jsonl(*intents(100))
UNSPACED = [{"prompt": f"Ticket {i} is late ->", "completion": "shipping\n"} for i in (1, 2)]
BROKEN = GOOD + "".join(f'{{"prompt": "x{i}",}}\n' for i in range(25))


def test_a_failing_item_says_what_and_where_capped_at_20_findings(lint):
    run = lint({"data/train.jsonl": BROKEN})
    run.result.stdout.fnmatch_lines(
        [
            "*_ data/train.jsonl _*",
            "FT003 invalid-json: 25 errors in data/train.jsonl",
            "data/train.jsonl:101:16: FT003 Invalid JSON: trailing comma is not allowed",
            "data/train.jsonl:120:17: FT003 Invalid JSON: trailing comma is not allowed",
            "... and 5 more",
        ]
    )
    assert "data/train.jsonl:121:" not in run.output
    assert run.result.ret == 1


def test_clean_data_passes(lint):
    run = lint({"data/train.jsonl": GOOD})
    assert run.result.ret == 0
    assert run.dataset("data/train.jsonl")["findings"] == []


def test_summary_table_and_statistics(lint):
    # Not valid.jsonl: beside train.jsonl, that would be its validation half; 30
    # examples, 10 a class: few, but no class is rare.
    run = lint({"data/train.jsonl": BROKEN, "data/urgent.jsonl": jsonl(*intents(30))})
    run.result.stdout.fnmatch_lines(
        [
            "*= pytest-finetune =*",
            "dataset*format*examples*findings",
            "data/train.jsonl*prompt_completion*100*FT003x25",
            "data/urgent.jsonl*prompt_completion*30*3*FT014x1",
            "",
            "25  FT003  invalid-json  error",
            " 1  FT014  few-examples  warning",
            "",
            "warnings*",
            "data/urgent.jsonl: FT014 30 examples; at least 100 are recommended*",
        ]
    )


def test_statistics_show_the_severity_findings_had_after_overrides(lint):
    # few-examples is a warning and FT120 an error by default; the project says
    # otherwise, and other/ overrides few-examples again: one row per severity.
    run = lint(
        {
            "pyproject.toml": (
                "[tool.pytest_finetune.checks.few-examples]\nseverity = 'error'\n"
                "[tool.pytest_finetune.checks.FT120]\nseverity = 'warning'\n"
            ),
            "other/finetune.toml": "[checks.FT014]\nseverity = 'info'\n",
            "data/urgent.jsonl": jsonl(*intents(30), *UNSPACED),
            "other/urgent.jsonl": jsonl(*intents(30)),
        }
    )
    lines = run.result.stdout.lines
    start = lines.index("2  FT120  completion-missing-leading-space  warning  [*]")
    assert lines[start : start + 5] == [
        "2  FT120  completion-missing-leading-space  warning  [*]",
        "1  FT014  few-examples                      error",
        "1  FT014  few-examples                      info",
        "1  FT502  rare-class                        warning",
        "",
    ]


def test_json_report_follows_schema_version_1(lint):
    run = lint({"data/train.jsonl": BROKEN.replace('{"prompt": "x0",}', "")})
    report = run.report
    assert report["version"] == 1
    assert report["training"] == []
    [dataset] = report["datasets"]
    assert {"path", "format", "examples", "classes", "tokens", "findings"} <= set(dataset)
    assert (dataset["path"], dataset["format"], dataset["examples"]) == (
        "data/train.jsonl",
        "prompt_completion",
        100,
    )
    first, *_ = dataset["findings"]
    assert first == {
        "code": "FT007",
        "name": "blank-line",
        "severity": "error",
        "line": 101,
        "message": "Blank line; JSON Lines has one object on every line",
        "fixable": True,
    }
    assert dataset["counts"] == {"FT003": 24, "FT007": 1}


def test_the_report_schema_is_in_the_package_and_rejects_what_version_1_is_not(lint):
    import jsonschema  # noqa: PLC0415
    from conftest import validate_report  # noqa: PLC0415

    schema = resources.files("pytest_finetune") / "outputs" / "report-v1.schema.json"
    assert json.loads(schema.read_text("utf-8"))["properties"]["version"] == {"const": 1}
    report_ = lint({"data/train.jsonl": BROKEN}).report
    validate_report(report_)  # as every report the suite reads
    assert report_["interrupted"] is False
    for broken in (
        {**report_, "version": 2},
        {**report_, "interrupted": "no"},
        {**report_, "datasets": [{**report_["datasets"][0], "examples": -1}]},
        {**report_, "datasets": [{**report_["datasets"][0], "findings": [{"code": "FT003"}]}]},
    ):
        with pytest.raises(jsonschema.ValidationError):
            validate_report(broken)


def test_report_keeps_the_first_1000_findings_per_check_and_counts_all(lint):
    data = GOOD + "{oops\n" * 1500
    run = lint({"data/train.jsonl": data})
    dataset = run.dataset("data/train.jsonl")
    assert len([f for f in dataset["findings"] if f["code"] == "FT003"]) == 1000
    assert dataset["counts"]["FT003"] == 1500


def test_sarif_log(lint, tmp_path):
    sarif_path = tmp_path / "out.sarif"
    run = lint({"data/train.jsonl": BROKEN}, f"--finetune-sarif={sarif_path}")
    assert run.result.ret == 1
    log = json.loads(sarif_path.read_text())
    assert log["version"] == "2.1.0"
    [sarif_run] = log["runs"]
    rules = sarif_run["tool"]["driver"]["rules"]
    assert [rule["id"] for rule in rules] == sorted(REGISTRY)
    result = sarif_run["results"][0]
    assert result["ruleId"] == "FT003"
    assert rules[result["ruleIndex"]]["id"] == "FT003"
    assert result["level"] == "error"
    assert result["locations"][0]["physicalLocation"] == {
        "artifactLocation": {"uri": "data/train.jsonl"},
        "region": {"startLine": 101, "startColumn": 16},
    }


def test_github_annotations_are_printed_on_github_actions(lint, monkeypatch):
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    run = lint({"data/train.jsonl": BROKEN})
    annotations = [line for line in run.result.stdout.lines if line.startswith("::")]
    assert annotations[0] == (
        "::error file=data/train.jsonl,line=101,col=16,title=FT003 invalid-json::"
        "Invalid JSON: trailing comma is not allowed"
    )
    assert len([a for a in annotations if a.startswith("::error")]) == github.MAX_PER_LEVEL
    assert annotations[-1].startswith("::notice title=pytest-finetune::15 more findings")


def test_github_annotations_only_when_asked_or_on_github(lint, monkeypatch):
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    assert "::error" not in lint({"data/train.jsonl": BROKEN}).output
    assert "::error" in lint({"data/train.jsonl": BROKEN}, "--finetune-github").output
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    assert "::error" not in lint({"data/train.jsonl": BROKEN}, "--no-finetune-github").output


def test_annotation_escaping():
    finding = Finding(
        "FT003", "invalid-json", Severity.WARNING, "a,b:c%.jsonl", 3, "50% broken\nsee line 2\r"
    )
    assert github.commands([finding]) == [
        "::warning file=a%2Cb%3Ac%25.jsonl,line=3,title=FT003 invalid-json::"
        "50%25 broken%0Asee line 2%0D"
    ]


@pytest.mark.parametrize("option", ["--finetune-report", "--finetune-sarif"])
def test_report_files_are_written_whole(lint, tmp_path, option):
    target = tmp_path / "reports" / "out.json"
    lint({"data/train.jsonl": GOOD}, f"{option}={target}")
    assert json.loads(target.read_text())
    assert [p.name for p in target.parent.iterdir()] == ["out.json"]


@pytest.mark.parametrize(
    ("option", "message"),
    [
        ("--finetune-report=adir", "--finetune-report: adir is a folder; give the path of a file"),
        ("--finetune-sarif=adir", "--finetune-sarif: adir is a folder; give the path of a file"),
        (
            "--finetune-report=afile/out.json",
            "--finetune-report: cannot write afile/out.json: afile is not a folder",
        ),
        (
            "--finetune-sarif=afile/sub/out.sarif",
            "--finetune-sarif: cannot write afile/sub/out.sarif: afile is not a folder",
        ),
        (
            "--finetune-plots=afile",
            "--finetune-plots: afile is not a folder; give a folder for the charts "
            "(created if missing)",
        ),
        (
            "--finetune-plots=afile/sub",
            "--finetune-plots: cannot create the folder afile/sub: afile is not a folder",
        ),
    ],
)
def test_output_paths_that_cannot_be_written_stop_the_run_before_any_test(
    lint, pytester, option, message
):
    (pytester.path / "adir").mkdir()
    run = lint({"afile": "", "data/train.jsonl": GOOD}, option)
    assert run.result.ret == pytest.ExitCode.USAGE_ERROR
    assert run.result.stderr.lines[0] == f"ERROR: {message}"
    assert "INTERNALERROR" not in run.output
    assert sorted(p.name for p in pytester.path.iterdir()) == ["adir", "afile", "data"]
    assert list((pytester.path / "adir").iterdir()) == []


def test_missing_folders_of_output_paths_are_created(lint, tmp_path):
    target = tmp_path / "new" / "deeper" / "out.json"
    run = lint({"data/train.jsonl": GOOD}, f"--finetune-sarif={target}")
    assert run.result.ret == 0
    assert json.loads(target.read_text())["version"] == "2.1.0"


def test_a_failed_atomic_write_leaves_no_temporary_file(tmp_path):
    (tmp_path / "adir").mkdir()
    with pytest.raises(IsADirectoryError):
        report.write_json(tmp_path / "adir", {"a": 1})
    assert [p.name for p in tmp_path.iterdir()] == ["adir"]


def test_a_report_that_cannot_be_written_at_the_end_fails_the_run_without_a_traceback(
    pytester,
):
    write_files(
        pytester.path,
        {
            "data/a.jsonl": GOOD,
            # The folder was there when the run began, and is a file by its end.
            "conftest.py": (
                "import pathlib, shutil\n"
                "def pytest_collection_finish(session):\n"
                "    shutil.rmtree('out')\n"
                "    pathlib.Path('out').write_text('')\n"
            ),
        },
    )
    (pytester.path / "out").mkdir()
    result = pytester.runpytest("-p", "no:cacheprovider", "--finetune-report=out/r.json")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["finetune: cannot write out/r.json: File exists (out)"])
    assert "Traceback" not in result.stdout.str() + result.stderr.str()


def test_class_balance_is_drawn_for_each_classification_dataset(lint, tmp_path):
    pytest.importorskip("plotly")
    charts = tmp_path / "charts"
    run = lint(
        {"data/a.jsonl": GOOD, "data/chat.jsonl": '{"messages": []}\n'},
        f"--finetune-plots={charts}",
    )
    chart = charts / "class-balance.html"
    run.result.stdout.fnmatch_lines([f"class balance: {chart}"])
    html = chart.read_text()
    assert "a.jsonl: 3 classes, 100 examples" in html
    assert "chat.jsonl" not in html  # no classes, no chart
    # Labels as the model sees them (here without the stop sequence), quoted.
    assert '"x":["\' shipping\'","\' account\'","\' billing\'"],"y":[34,33,33]' in html
    assert 'src="https://cdn.plot.ly/plotly-' in html  # plotly.js from its CDN, 4.8 MB less


def test_the_class_balance_puts_labels_in_one_order_and_can_embed_plotly(lint, tmp_path):
    pytest.importorskip("plotly")
    charts = tmp_path / "charts"
    labels = [" 1\n"] * 40 + [" 2\n"] * 30 + [" 4\n"] * 20 + [" 3\n"] * 10
    train = [pc(f"question {i} ->", label) for i, label in enumerate(labels)]
    valid = [pc(f"other {i} ->", label) for i, label in enumerate(labels[::-1][:40])]
    lint(
        {"data/a_train.jsonl": jsonl(*train), "data/a_valid.jsonl": jsonl(*valid)},
        f"--finetune-plots={charts}",
        "--finetune-plots-offline",
    )
    html = (charts / "class-balance.html").read_text()
    # By count over both: the valid split alone would put ' 4' (20) before ' 2' (10).
    assert '"x":["\' 1\'","\' 2\'","\' 4\'","\' 3\'"],"y":[40,30,20,10]' in html
    assert '"x":["\' 2\'","\' 4\'","\' 3\'"],"y":[10,20,10]' in html
    assert "<script src=" not in html  # plotly.js embedded: opens offline


def test_a_chart_that_cannot_be_written_is_one_line_and_leaves_nothing_half_written(lint, tmp_path):
    pytest.importorskip("plotly")
    charts = tmp_path / "charts"
    (charts / "class-balance.html").mkdir(parents=True)  # in the way of the rename
    run = lint({"data/a.jsonl": GOOD}, f"--finetune-plots={charts}")
    run.result.stdout.fnmatch_lines([f"finetune: cannot write {charts / 'class-balance.html'}: *"])
    assert "Traceback" not in run.output
    assert [p.name for p in charts.iterdir()] == ["class-balance.html"]
    assert run.report["datasets"]  # the report is written all the same


def test_no_class_balance_chart_without_classes(lint, tmp_path):
    charts = tmp_path / "charts"
    lint({"data/chat.jsonl": '{"messages": []}\n'}, f"--finetune-plots={charts}")
    assert not (charts / "class-balance.html").exists()
