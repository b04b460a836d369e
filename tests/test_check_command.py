"""`pytest-finetune check` and `stats`: the plugin's checks and outputs outside pytest."""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
from pathlib import Path

import numpy  # noqa: F401  (pytester unloads modules a test imports; numpy cannot reload)
import pytest
from conftest import REAL, ROOT, needs_encodings, needs_fifos, write_files
from helpers import intents, jsonl, pc

from pytest_finetune.cli import main

ANSWERS = [pc(f"Question {i} ->", f" Answer {i}.\n") for i in range(12)]
BROKEN = jsonl(*ANSWERS) + '{"prompt": "oops ->",\n' + jsonl(pc("Question 12?", "Answer 12.\n"))
PROJECT = {
    "pytest.ini": "[pytest]\nfinetune_ignore = FT014\n",
    "data/finetune.toml": (
        '[per-file-ignores]\n"pairs.jsonl" = ["FT306"]\n\n[checks.FT501]\nmax-ratio = 2\n'
    ),
    "data/intents_train.jsonl": jsonl(
        *intents(40),
        pc(" Tell me more ->", " billing\n"),
        *[pc(f"Track order {i} ->", " shipping\n") for i in range(20)],
    ),
    "data/intents_valid.jsonl": jsonl(*intents(12), pc("Hello there ->", " refunds\n")),
    "more/broken.jsonl": BROKEN,
    "data/chat.jsonl": jsonl(
        {"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hey"}]},
        {"messages": [{"role": "user", "content": "Hi"}]},
        {"messages": [{"role": "captain", "content": "Ahoy"}]},
    ),
    "notes/readme.txt": "not a dataset\n",
}


@pytest.fixture
def project(pytester: pytest.Pytester) -> Path:
    write_files(pytester.path, PROJECT)
    (pytester.path / "real").mkdir()
    for path in REAL.glob("*.jsonl"):
        shutil.copy(path, pytester.path / "real" / path.name)
    return pytester.path


def check(*args: str) -> int:
    return main(["check", *args])


def test_check_finds_exactly_what_the_plugin_finds(project, pytester, capsys):
    report = project / "report.json"
    # In a subprocess: as users run it (and an in-process run unloads numpy afterwards).
    pytester.runpytest_subprocess("-p", "no:cacheprovider", f"--finetune-report={report}", ".")
    plugin = json.loads(report.read_text("utf-8"))
    capsys.readouterr()
    assert check("--format", "json", ".") == 1
    command = json.loads(capsys.readouterr().out)
    assert command == plugin
    # The comparison is worth something: every family and the configuration are in it.
    found = {f["code"] for d in plugin["datasets"] for f in d["findings"]}
    assert {"FT003", "FT111", "FT113", "FT202", "FT501", "FT510", "FT511"} <= found
    assert "FT014" not in found  # ignored by the pytest ini key, on both sides
    assert len(plugin["datasets"]) == 4 + len(list(REAL.glob("*.jsonl")))
    assert "notes/readme.txt" not in {d["path"] for d in plugin["datasets"]}


def test_check_with_selection_options_matches_the_plugin_options(project, pytester, capsys):
    report = project / "report.json"
    pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", f"--finetune-report={report}", "--finetune-select=FT1,FT5",
        "--finetune-ignore=FT113", "--finetune-fail-on=warning", "data/intents_valid.jsonl",
    )  # fmt: skip
    plugin = json.loads(report.read_text("utf-8"))
    capsys.readouterr()
    status = check(
        "--format", "json", "--select", "FT1,FT5", "--ignore", "FT113", "--fail-on", "warning",
        "data/intents_valid.jsonl",
    )  # fmt: skip
    assert json.loads(capsys.readouterr().out) == plugin
    assert status == 1
    assert {f["code"] for f in plugin["datasets"][0]["findings"]} == {"FT510", "FT511"}


def test_text_output_is_one_finding_a_line_then_the_statistics(project, capsys):
    assert check("more/broken.jsonl", "data/intents_train.jsonl") == 1
    out = capsys.readouterr().out.splitlines()
    # File-level findings first, then by line; a folder's finetune.toml applies (FT501).
    assert out[0].startswith(
        "data/intents_train.jsonl: FT501 [warning] The largest class ' shipping'"
    )
    assert out[1].startswith("data/intents_train.jsonl:41: FT113 [warning] The prompt starts with")
    assert out[2] == "more/broken.jsonl:13:1: FT003 [error] Invalid JSON: unexpected end of data"
    assert out[3].startswith("more/broken.jsonl:14: FT111 [error] The prompt does not end with")
    assert out[4].startswith(
        "more/broken.jsonl:14: FT120 [error] The completion does not start with"
    )
    assert out[5] == ""
    assert re.match(r"dataset +format +examples +classes +tokens +cost +findings$", out[6])
    assert "1  FT003  invalid-json" in "\n".join(out)
    assert out[-2] == "Found 5 findings in 2 files (3 errors, 2 warnings)."
    assert (
        out[-1]
        == "[*] 3 findings have a safe fix: run `pytest-finetune check --fix` (--diff to preview)."
    )


def test_exit_status_follows_fail_on(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    Path("clean.jsonl").write_text(jsonl(*intents(120)), "utf-8")
    Path("warned.jsonl").write_text(jsonl(*intents(40), pc(" Tell me ->", " billing\n")), "utf-8")
    assert check("clean.jsonl") == 0
    assert capsys.readouterr().out.endswith("All checks passed (1 file).\n")
    assert check("warned.jsonl") == 0  # warnings do not fail by default
    assert check("warned.jsonl", "--fail-on", "warning") == 1


def test_usage_and_configuration_errors_exit_2(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    Path("a.jsonl").write_text(jsonl(*intents(12)), "utf-8")
    assert check("nowhere.jsonl") == 2
    assert "nowhere.jsonl: no such file or folder" in capsys.readouterr().err
    assert check("--select", "FT999", "a.jsonl") == 2
    assert "unknown check 'FT999'" in capsys.readouterr().err
    Path("finetune.toml").write_text("fail-on = 3\n", "utf-8")
    assert check("a.jsonl") == 2
    assert "fail-on must be a string" in capsys.readouterr().err
    Path("finetune.toml").write_bytes('model = "x"\n'.encode("utf-16"))
    assert check("a.jsonl") == 2
    assert capsys.readouterr().err == (
        f"pytest-finetune: {tmp_path / 'finetune.toml'}: not UTF-8 text; a configuration file "
        "must be UTF-8 TOML: save it as UTF-8\n"
    )
    with pytest.raises(SystemExit) as exited:
        check("--format", "xml", "a.jsonl")
    assert exited.value.code == 2


@needs_fifos
@pytest.mark.parametrize("command", ["check", "stats"])
def test_pipes_and_devices_are_refused_without_being_opened(tmp_path, monkeypatch, capsys, command):
    monkeypatch.chdir(tmp_path)
    os.mkfifo("pipe.jsonl")  # opening it to read would wait for a writer forever
    assert main([command, "pipe.jsonl", "/dev/null"]) == 2
    assert capsys.readouterr().err.splitlines() == [
        "pytest-finetune: pipe.jsonl: not a regular file (a pipe or a device); "
        "name dataset files or folders",
        "pytest-finetune: /dev/null: not a regular file (a pipe or a device); "
        "name dataset files or folders",
    ]


def test_links_to_nothing_and_missing_paths_are_told_apart(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    Path("loop.jsonl").symlink_to("loop.jsonl")
    Path("broken.jsonl").symlink_to("gone.jsonl")
    assert main(["check", "loop.jsonl", "broken.jsonl", "missing.jsonl"]) == 2
    assert capsys.readouterr().err.splitlines() == [
        "pytest-finetune: loop.jsonl: a link to nothing (broken, or a loop); point it at a dataset",
        "pytest-finetune: broken.jsonl: a link to nothing (broken, or a loop); "
        "point it at a dataset",
        "pytest-finetune: missing.jsonl: no such file or folder",
    ]


@needs_fifos
def test_a_pipe_in_a_folder_is_not_a_dataset(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    Path("data").mkdir()
    os.mkfifo("data/pipe.jsonl")
    Path("data/train.jsonl").write_text(jsonl(*intents(120)), "utf-8")
    assert check("--format", "json", "data") == 0
    paths = [d["path"] for d in json.loads(capsys.readouterr().out)["datasets"]]
    assert paths == ["data/train.jsonl"]


def test_sarif_and_github_formats(project, capsys):
    assert check("--format", "sarif", "more/broken.jsonl") == 1
    log = json.loads(capsys.readouterr().out)
    assert log["version"] == "2.1.0"
    results = log["runs"][0]["results"]
    assert [r["ruleId"] for r in results] == ["FT003", "FT111", "FT120"]
    assert results[0]["locations"][0]["physicalLocation"]["region"] == {
        "startLine": 13,
        "startColumn": 1,
    }
    assert check("--format", "github", "more/broken.jsonl") == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == (
        "::error file=more/broken.jsonl,line=13,col=1,title=FT003 invalid-json::"
        "Invalid JSON: unexpected end of data"
    )
    assert len(lines) == 3


def test_sarif_points_file_level_findings_at_line_1(project, capsys):
    # GitHub code scanning rejects a result without region.startLine (rule GH1003).
    check("--format", "sarif", "data/intents_train.jsonl")
    results = json.loads(capsys.readouterr().out)["runs"][0]["results"]
    regions = {r["ruleId"]: r["locations"][0]["physicalLocation"]["region"] for r in results}
    assert regions == {"FT501": {"startLine": 1}, "FT113": {"startLine": 41}}


def test_folders_are_searched_as_pytest_collects(project, capsys):
    write_files(project, {".hidden/x.jsonl": "{oops\n", "node_modules/y.jsonl": "{oops\n"})
    check("--format", "json", ".")
    paths = [d["path"] for d in json.loads(capsys.readouterr().out)["datasets"]]
    assert paths == sorted(paths)
    assert all(path.startswith(("data/", "more/", "real/")) for path in paths)


@needs_encodings
def test_stats_prints_the_summary_of_one_file(project, capsys):
    assert main(["stats", "real/azuresamples__context_switching_prepared_train.jsonl"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert re.match(
        r"real/azuresamples__context_switching_prepared_train\.jsonl +prompt_completion +178 +4 ",
        out[1],
    )
    assert "real/azuresamples__context_switching_prepared_train.jsonl: 4 classes, the largest " in (
        "\n".join(out)
    )
    assert any(re.match(r"  ' 1' +51  +28\.7%", line) for line in out)
    assert re.search(
        r"\n\S+: 2,386 tokens \(exact, cl100k_base\), the longest example 19; 3 epochs of "
        r"babbage-002, 7,158 tokens billed, about \$0\.0029\n",
        "\n".join(out),
    )
    assert main(["stats", "--format", "json", "data/chat.jsonl"]) == 0
    [dataset] = json.loads(capsys.readouterr().out)["datasets"]
    assert (dataset["format"], dataset["examples"]) == ("chat", 3)


def test_stats_summarises_and_fails_on_no_finding(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    Path("empty.jsonl").write_text("", "utf-8")
    assert main(["stats", "empty.jsonl"]) == 0
    assert "1  FT001  empty-file  error" in capsys.readouterr().out.splitlines()
    with pytest.raises(SystemExit) as exited:  # failing is `check`'s job
        main(["stats", "--fail-on", "error", "empty.jsonl"])
    assert exited.value.code == 2
    assert "unrecognized arguments: --fail-on" in capsys.readouterr().err


def test_pre_commit_hook_runs_check_on_jsonl_files():
    text = (ROOT / ".pre-commit-hooks.yaml").read_text("utf-8")
    hooks = re.findall(r"^- id: (.+)$", text, re.MULTILINE)
    assert hooks == ["pytest-finetune-check"]
    # Every staged file the regex takes is named: --force-exclude leaves those that are
    # not datasets (package.json, excluded fixtures) alone, as a folder search would.
    assert "\n  entry: pytest-finetune check --force-exclude\n" in text
    assert "\n  language: python\n" in text
    [files] = re.findall(r"^  files: (.+)$", text, re.MULTILINE)
    assert re.search(files, "data/train.jsonl")
    assert re.search(files, "data/identity.json")
    assert not re.search(files, "data/train.csv")


def test_console_script_runs_check(pytester: pytest.Pytester):
    pytester.makefile(".jsonl", train=jsonl(*intents(9)))
    script = Path(sys.executable).with_name("pytest-finetune")
    result = pytester.run(script, "check", "train.jsonl")
    assert result.ret == 1
    assert result.outlines[0] == (
        "train.jsonl: FT013 [error] Only 9 examples; fine-tuning needs at least 10"
    )


def test_command_line_select_starts_a_new_set_over_the_configurations_ignore(
    tmp_path, monkeypatch, capsys
):
    monkeypatch.chdir(tmp_path)
    write_files(
        tmp_path,
        {
            "finetune.toml": 'ignore = ["FT014"]\nextend-select = ["FT010"]\n',
            "data/x.jsonl": jsonl(*intents(20)),
        },
    )
    assert check("--format", "json", "--select", "FT014", "data/") == 0
    codes = {
        f["code"] for d in json.loads(capsys.readouterr().out)["datasets"] for f in d["findings"]
    }
    assert codes == {"FT014"}


@pytest.mark.parametrize(
    ("config", "args", "why"),
    [
        ('ignore = ["ALL"]\n', [], "ignore in {config}"),
        ("select = []\n", [], "select in {config}"),
        (
            'ignore = ["FT014"]\n',
            ["--select", "FT2"],
            "ignore in {config}; select in command line",
        ),
        ('[per-file-ignores]\n"data/*" = ["ALL"]\n', [], "per-file-ignores 'data/*' in {config}"),
    ],
)
def test_datasets_with_no_check_selected_are_named_not_reported_missing(
    tmp_path, monkeypatch, capsys, config, args, why
):
    monkeypatch.chdir(tmp_path)
    write_files(tmp_path, {"finetune.toml": config, "data/x.jsonl": jsonl(*intents(20))})
    assert check(*args, "data/") == 0
    captured = capsys.readouterr()
    assert captured.out == "No check ran on 1 dataset: none selected applies to it.\n"
    reason = why.format(config=tmp_path / "finetune.toml")
    if "FT2" in args:  # a chat family on a prompt/completion file: selected, none applies
        assert captured.err == (
            "pytest-finetune: no selected check applies to data/x.jsonl "
            "(a prompt_completion dataset)\n"
        )
    else:
        assert captured.err == f"pytest-finetune: no check selected for data/x.jsonl ({reason})\n"
