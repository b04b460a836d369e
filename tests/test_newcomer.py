"""What a new user meets first: the version, the header, help, words and names of checks."""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import pytest
from conftest import write_files
from helpers import intents, jsonl, pc
from test_tokens import offline

from pytest_finetune import REGISTRY, __version__
from pytest_finetune.cli import main


def test_version_is_printed_as_every_command_prints_it(pytester: pytest.Pytester):
    script = Path(sys.executable).with_name("pytest-finetune")
    result = pytester.run(script, "--version")
    assert result.ret == 0
    assert result.outlines == [f"pytest-finetune {__version__}"]


def test_header_counts_the_checks_selected_not_the_registry(pytester: pytest.Pytester):
    pytester.makefile(".jsonl", train=jsonl(*intents(12)))
    family = sum(code.startswith("FT1") for code in REGISTRY)
    result = pytester.runpytest("-p", "no:cacheprovider", "--finetune-select=FT1")
    result.stdout.fnmatch_lines(
        [f"finetune: {family} of {len(REGISTRY)} checks selected, configuration: defaults"]
    )
    # By default, every check but the opt-in ones (FT010).
    opt_in = sum(not check.default for check in REGISTRY.values())
    assert opt_in >= 1
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.stdout.fnmatch_lines([f"finetune: {len(REGISTRY) - opt_in} of {len(REGISTRY)} *"])


def test_help_does_not_claim_every_check_runs_by_default(pytester: pytest.Pytester):
    result = pytester.runpytest("--help")
    text = " ".join(result.stdout.str().split())
    assert "finetune_select (linelist): pytest-finetune: Checks to run" in text
    assert "default ALL" not in text
    assert "default: all but the opt-in ones" in text


def test_rules_speak_markdown_not_restructuredtext(capsys):
    assert main(["rules"]) == 0
    listing = capsys.readouterr().out
    assert main(["rules", *REGISTRY]) == 0
    explained = capsys.readouterr().out
    assert "``" not in listing + explained
    assert "Convert with `pytest-finetune prepare FILE`" in explained


def test_check_lines_show_the_severity(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    rows = [pc(f"Question {i} ->", f" Answer {i}.\n") for i in range(12)]
    rows[3] = pc("Question 3 ->", "Answer 3.\n")
    Path("answers.jsonl").write_text(jsonl(*rows), "utf-8")
    assert main(["check", "answers.jsonl"]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("answers.jsonl: FT014 [warning] 12 examples; at least 100")
    assert out[1].startswith("answers.jsonl:4: FT120 [error] The completion does not start")


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("FT12O", "FT120"),  # a letter O for a zero: FT120, not FT212
        ("ft120", "FT120"),
        ("FT21l", "FT211"),
        ("FT1200", "FT120"),
        ("FT121", "FT120"),  # one digit off: the code sharing the longest start
        ("few-exampels", "few-examples"),
    ],
)
def test_a_mistyped_check_suggests_the_one_meant(typed, meant, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    Path("a.jsonl").write_text(jsonl(*intents(12)), "utf-8")
    assert main(["check", "--select", typed, "a.jsonl"]) == 2
    assert capsys.readouterr().err == (
        f"pytest-finetune: command line: select: unknown check {typed!r}; did you mean {meant!r}?\n"
    )
    if typed.upper() not in REGISTRY:  # rules takes codes in any case
        assert main(["rules", typed]) == 2
        assert f"; did you mean {meant!r}?" in capsys.readouterr().err


def test_a_code_near_no_check_says_where_the_codes_are(capsys):
    assert main(["rules", "FT999"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("pytest-finetune: unknown check 'FT999'; no check has that code ")
    assert "FT0 file and syntax" in err
    assert "`pytest-finetune rules` lists all" in err


def test_finetune_toml_takes_the_pyproject_table_pasted_in(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    write_files(
        tmp_path,
        {
            "finetune.toml": '[tool.pytest_finetune]\nselect = ["FT014"]\n',
            "a.jsonl": jsonl(*intents(20)),
        },
    )
    assert main(["check", "a.jsonl"]) == 0
    assert "a.jsonl: FT014 [warning] 20 examples" in capsys.readouterr().out
    # Both forms at once, or another tool's table: which was meant is a guess.
    Path("finetune.toml").write_text(
        'ignore = ["FT1"]\n[tool.pytest_finetune]\nselect = ["FT014"]\n', "utf-8"
    )
    assert main(["check", "a.jsonl"]) == 2
    assert capsys.readouterr().err == (
        f"pytest-finetune: {tmp_path / 'finetune.toml'}: a finetune.toml takes the keys of "
        "[tool.pytest_finetune] at top level (select = [...]), or that one table alone; move "
        "every key to one of the two and other tools' tables out of it\n"
    )


@pytest.mark.parametrize(
    ("option", "target"), [("--finetune-report", "out/r.json"), ("--finetune-plots", "out")]
)
def test_a_path_option_given_as_two_words_does_not_move_the_rootdir(
    pytester: pytest.Pytester, tmp_path_factory: pytest.TempPathFactory, option, target
):
    write_files(
        pytester.path,
        {"pytest.ini": "[pytest]\ntestpaths = data\n", "data/a.jsonl": jsonl(*intents(12))},
    )
    outside = tmp_path_factory.mktemp("elsewhere")
    (outside / "out").mkdir()
    first_run = '{"version": 1, "datasets": [], "training": []}\n'
    (outside / "out/r.json").write_text(first_run, "utf-8")  # the report of a first run
    value = str(outside / target)
    result = pytester.runpytest("-p", "no:cacheprovider", option, value)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert result.stderr.lines[0] == (
        f"ERROR: {option} {value}: pytest took {value} for a test path when it chose the "
        f"rootdir (it chose {os.path.commonpath([outside, pytester.path])}, not "
        f"{pytester.path}), as it does before it knows the plugins' options; write "
        f"{option}={value}"
    )
    # With "=", or a path that does not exist yet, the rootdir stays where it belongs.
    result = pytester.runpytest("-p", "no:cacheprovider", f"{option}={value}")
    result.stdout.fnmatch_lines([f"rootdir: {pytester.path}", "configfile: pytest.ini"])
    assert result.ret == pytest.ExitCode.OK
    fresh = str(outside / "new" / "r.json")
    result = pytester.runpytest("-p", "no:cacheprovider", "--finetune-report", fresh)
    assert result.ret == pytest.ExitCode.OK


def _many_datasets() -> dict[str, str]:
    """22 datasets with warnings (11 each: FT014, and FT113 on 10 lines), 3 without."""
    warned = jsonl(*intents(40), *[pc(f" Tell me more {i} ->", " billing\n") for i in range(10)])
    files = {f"data/warned_{i:02}.jsonl": warned for i in range(22)}
    files.update({f"data/clean_{i}.jsonl": jsonl(*intents(120)) for i in range(3)})
    return files


def _section(output: str) -> list[str]:
    lines = output.splitlines()
    start = next(i for i, line in enumerate(lines) if "pytest-finetune" in line and "=" in line)
    ends = (i for i in range(start + 1, len(lines)) if re.match(r"=|\d+ passed", lines[i]))
    return lines[start + 1 : next(ends, len(lines))]


def test_warnings_are_capped_in_all_with_how_many_more(lint):
    run = lint(_many_datasets())
    section = _section(run.output)
    title = 'warnings (they do not fail the run unless fail-on = "warning"):'
    listed = section[section.index(title) + 1 :]
    # Each file lists its FT014 and five of its FT113 then "... and 6 more": 7 lines; the
    # list stops once it has 50 lines, with how many warnings it leaves out.
    assert len(listed) == 7 * 7 + 1 + 1
    assert listed[-2].startswith("data/warned_07.jsonl: FT014 ")
    assert listed[-1] == (
        f"... and {22 * 12 - (7 * 12 + 1)} more warnings: the report "
        "(--finetune-report=PATH) lists them all"
    )
    assert sum(len(d["findings"]) for d in run.report["datasets"]) == 22 * 12  # all reported


def test_quiet_shortens_the_summary(lint):
    run = lint(_many_datasets(), "-q")
    section = _section(run.output)
    rows = [line for line in section if line.startswith("data/")]
    assert [row.split()[0] for row in rows] == [f"data/warned_{i:02}.jsonl" for i in range(20)]
    assert all(row.endswith("  FT014x1 FT113x11") for row in rows)
    assert "... and 2 more datasets with findings" in section
    assert "3 datasets without findings" in section
    assert not any(line.startswith("warnings (") for line in section)
    assert not any(": FT113 " in line for line in section)


def test_quiet_twice_leaves_one_line(lint):
    run = lint(_many_datasets(), "-qq")
    assert "pytest-finetune" not in run.output  # no section
    lines = run.output.splitlines()
    assert lines.count("finetune: 25 datasets, 264 warnings") == 1
    assert not any(line.startswith("data/") for line in lines)


def test_checks_that_need_tiktokens_files_are_skipped_with_the_reason_offline(
    pytester: pytest.Pytester, monkeypatch, tmp_path_factory
):
    cache = tmp_path_factory.mktemp("empty-cache")
    offline(monkeypatch, cache)
    pytester.makefile(".jsonl", train=jsonl(*intents(120)))
    result = pytester.runpytest("-p", "no:cacheprovider", "-rs", "-k", "FT50 or FT60")
    reason = (
        f"tiktoken's encoding files for cl100k_base are not available (offline, and "
        f"TIKTOKEN_CACHE_DIR ({cache}) holds none); set TIKTOKEN_CACHE_DIR to a folder that "
        "holds them, or run once online to cache them"
    )
    outcomes = result.parseoutcomes()
    assert outcomes["skipped"] == 2, result.stdout.str()
    text = " ".join(result.stdout.str().split())  # the short summary wraps at 80 columns
    for code in ("FT503-multi-token-label", "FT504-labels-share-first-token"):
        assert f"SKIPPED [1] train.jsonl::{code}: {reason}" in text
    # The token figures are estimates: said in words, once.
    estimate = "~ token figures are estimates, a token per 4 characters, and the cost with them"
    assert text.count(estimate) == 1
    assert f"{estimate}: {reason}" in text


def test_check_says_which_checks_were_skipped_and_that_figures_are_estimates(
    tmp_path, monkeypatch, capsys
):
    offline(monkeypatch, tmp_path / "empty-cache")
    monkeypatch.chdir(tmp_path)
    Path("train.jsonl").write_text(jsonl(*intents(120)), "utf-8")
    assert main(["check", "train.jsonl"]) == 0
    captured = capsys.readouterr()
    assert captured.err.splitlines() == [
        f"pytest-finetune: {code} skipped on train.jsonl: tiktoken's encoding files for "
        f"cl100k_base are not available (offline, and TIKTOKEN_CACHE_DIR "
        f"({tmp_path / 'empty-cache'}) holds none); set TIKTOKEN_CACHE_DIR to a folder that "
        "holds them, or run once online to cache them"
        for code in ("FT503", "FT504")
    ]
    out = " ".join(captured.out.split())
    assert out.count("~ token figures are estimates") == 1


def test_with_one_item_per_dataset_the_summary_names_the_checks_that_could_not_run(
    pytester: pytest.Pytester, monkeypatch, tmp_path_factory
):
    cache = tmp_path_factory.mktemp("empty-cache")
    offline(monkeypatch, cache)
    pytester.makefile(".jsonl", train=jsonl(*intents(120)), more=jsonl(*intents(90)))
    result = pytester.runpytest("-p", "no:cacheprovider")
    assert result.parseoutcomes() == {"passed": 2}  # every check that ran passed
    section = _section(result.stdout.str())
    start = section.index("skipped (these checks could not run: they did not pass):")
    reason = "tiktoken's encoding files for cl100k_base are not available (offline, and "
    assert [line.split(": ", 1)[0] for line in section[start + 1 : start + 3]] == [
        "FT503 multi-token-label did not run on 2 datasets",
        "FT504 labels-share-first-token did not run on 2 datasets",
    ]
    assert section[start + 1].split(": ", 1)[1].startswith(reason)
    result = pytester.runpytest("-p", "no:cacheprovider", "-qq")
    assert re.search(
        r"^finetune: 2 datasets, .*; 4 checks could not run \(see the summary without -qq\)$",
        result.stdout.str(),
        re.MULTILINE,
    )
