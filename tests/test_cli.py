"""The command line: `pytest-finetune rules` lists and explains the checks."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from pytest_finetune import REGISTRY
from pytest_finetune.cli import main


def test_rules_lists_every_check_once(capsys):
    assert main(["rules"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == sorted(REGISTRY)
    assert lines[6].split()[:4] == ["FT007", "blank-line", "error", "[*]"]


def test_rules_explains_one_check_by_code_or_name(capsys):
    assert main(["rules", "ft003"]) == 0
    by_code = capsys.readouterr().out
    assert main(["rules", "invalid-json"]) == 0
    assert capsys.readouterr().out == by_code
    assert by_code.startswith("FT003 invalid-json (error)\n\nA line is not valid JSON.\n")
    for heading in ("What it does:", "Why it matters:", "Example:", "Fix:"):
        assert f"\n{heading}\n" in by_code


def test_rules_as_json(capsys):
    assert main(["rules", "--format", "json", "FT013"]) == 0
    [rule] = json.loads(capsys.readouterr().out)
    assert rule["code"] == "FT013"
    assert rule["options"] == [
        {
            "name": "min-examples",
            "default": 10,
            "doc": "Fewer examples than this is an error (the service minimum).",
            "minimum": 0,
        }
    ]


def test_unknown_rule_is_a_usage_error(capsys):
    assert main(["rules", "FT999"]) == 2
    assert "unknown check 'FT999'" in capsys.readouterr().err


def test_catalog_is_written_where_asked(tmp_path, capsys):
    assert main(["rules", "--catalog", str(tmp_path)]) == 0
    assert (tmp_path / "README.md").exists()
    assert (tmp_path / "FT003-invalid-json" / "README.md").exists()
    assert main(["rules", "--catalog", str(tmp_path)]) == 0
    assert capsys.readouterr().out.endswith(f"0 page(s) changed under {tmp_path}\n")


def test_catalog_keeps_the_example_files_beside_its_pages(tmp_path, capsys):
    folder = tmp_path / "FT003-invalid-json"
    folder.mkdir()
    (folder / "fail.jsonl").write_text("{oops\n", "utf-8")
    (folder / "expected.txt").write_text("fail.jsonl:1:2: FT003 Invalid JSON\n", "utf-8")
    assert main(["rules", "--catalog", str(tmp_path)]) == 0
    assert (folder / "fail.jsonl").read_text("utf-8") == "{oops\n"
    assert (folder / "expected.txt").read_text("utf-8") == "fail.jsonl:1:2: FT003 Invalid JSON\n"
    assert "Invalid JSON" in (folder / "README.md").read_text("utf-8")


def test_catalog_overwrites_no_file_it_did_not_generate(tmp_path, capsys):
    (tmp_path / "README.md").write_text("precious\n", "utf-8")
    page = tmp_path / "FT120-completion-missing-leading-space" / "README.md"
    page.parent.mkdir()
    page.write_text("mine too\n", "utf-8")
    assert main(["rules", "--catalog", str(tmp_path)]) == 2
    assert capsys.readouterr().err == (
        f"pytest-finetune: will not overwrite {page}, {tmp_path / 'README.md'}: not generated "
        "by `pytest-finetune rules --catalog`; move them away or choose another folder\n"
    )
    assert (tmp_path / "README.md").read_text("utf-8") == "precious\n"
    assert page.read_text("utf-8") == "mine too\n"
    assert sorted(path.name for path in tmp_path.iterdir()) == [page.parent.name, "README.md"]


def test_catalog_regenerates_its_own_stale_pages(tmp_path, capsys):
    assert main(["rules", "--catalog", str(tmp_path)]) == 0
    page = tmp_path / "FT003-invalid-json" / "README.md"
    page.write_text(page.read_text("utf-8").replace("# FT003", "# FT033"), "utf-8")
    capsys.readouterr()
    assert main(["rules", "--catalog", str(tmp_path)]) == 0
    assert capsys.readouterr().out == f"wrote {page}\n1 page(s) changed under {tmp_path}\n"


def test_catalog_in_a_file_is_a_usage_error(tmp_path, capsys):
    afile = tmp_path / "afile"
    afile.touch()
    assert main(["rules", "--catalog", str(afile)]) == 2
    assert capsys.readouterr().err == (
        f"pytest-finetune: {afile} is not a folder; give --catalog the folder to write in\n"
    )
    assert afile.read_text("utf-8") == ""


def test_catalog_takes_no_check_selection(tmp_path, capsys):
    assert main(["rules", "--catalog", str(tmp_path), "FT120"]) == 2
    assert capsys.readouterr().err == (
        "pytest-finetune: --catalog regenerates every page; name no CHECK with it\n"
    )
    assert list(tmp_path.iterdir()) == []


def test_no_command_prints_help(capsys):
    assert main([]) == 2
    assert "rules" in capsys.readouterr().out


def test_console_script_is_installed(pytester: pytest.Pytester):
    script = Path(sys.executable).with_name("pytest-finetune")
    result = pytester.run(script, "rules", "FT001")
    assert result.ret == 0
    assert result.outlines[0] == "FT001 empty-file (error)"
