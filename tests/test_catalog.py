"""The check catalog is true: every page is current and its examples do what it says."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import needs_encodings

from pytest_finetune import REGISTRY, Settings, catalog
from pytest_finetune.checks import DOC_SECTIONS
from pytest_finetune.cli import main
from pytest_finetune.lint import lint

CATALOG = Path(__file__).resolve().parent.parent / "checks"
CHECKS = sorted(REGISTRY.values(), key=lambda check: check.code)
#: Checks whose examples need the model's tokenizer (skipped when it cannot load).
TOKENIZED = {"FT503", "FT504", "FT601", "FT602"}
EXAMPLES = [
    pytest.param(check, marks=needs_encodings) if check.code in TOKENIZED else check
    for check in CHECKS
]


def findings_of(check, kind: str) -> list[str]:
    folder = CATALOG / check.slug()
    settings = Settings(overrides={"select": [check.code]})
    rendered = []
    for path in catalog.examples(folder, kind):
        result = lint(path, settings, display_path=path.relative_to(folder).as_posix())
        outcome = result.outcomes.get(check.code)
        assert outcome is not None, f"{check.code} does not apply to {path.name}"
        assert outcome.crash is None, outcome.crash
        rendered += [finding.render() for finding in outcome.sorted_findings()]
    return rendered


@pytest.mark.parametrize("check", EXAMPLES, ids=lambda check: check.code)
def test_failing_example_gives_exactly_the_documented_findings(check):
    folder = CATALOG / check.slug()
    assert catalog.examples(folder, "fail"), f"{folder} has no failing example"
    expected = catalog.expected_findings(folder)
    assert expected, f"{folder / catalog.EXPECTED} lists no findings"
    assert findings_of(check, "fail") == expected


@pytest.mark.parametrize("check", CHECKS, ids=lambda check: check.code)
def test_passing_example_gives_no_finding(check):
    assert catalog.examples(CATALOG / check.slug(), "pass"), "no passing example"
    assert findings_of(check, "pass") == []


@pytest.mark.parametrize("check", CHECKS, ids=lambda check: check.code)
def test_declaration_is_complete(check):
    sections = check.sections()
    assert list(sections) == list(DOC_SECTIONS)
    assert all(sections.values()), "a docstring section is empty"
    assert check.summary().endswith(".")
    for option in check.option_docs():
        assert option.doc, f"option {option.name} is undocumented"


def test_pages_are_generated_from_the_registry():
    stale = [
        path.relative_to(CATALOG).as_posix()
        for path, text in catalog.pages(CATALOG).items()
        if not path.exists() or path.read_text("utf-8") != text
    ]
    assert not stale, f"catalog pages out of date: {stale}; run `make docs`"


#: The hand-written Markdown with blocks generated from the registry.
DOCS = [CATALOG.parent / "README.md", *sorted((CATALOG.parent / "docs").glob("*.md"))]


def test_counts_and_tables_of_checks_in_the_docs_are_generated_from_the_registry():
    stale = [
        path.name
        for path in DOCS
        if catalog.render_docs(text := path.read_text("utf-8"), _link(path)) != text
    ]
    assert not stale, f"generated blocks out of date in {stale}; run `make docs`"
    readme = DOCS[0].read_text("utf-8")
    default = sum(check.default for check in CHECKS)
    assert f"runs\n<!-- generated: default-checks -->{default}<!-- end generated --> checks" in (
        readme
    )
    # The families' pages list their checks, each row linking to its catalog page.
    tables = "".join(path.read_text("utf-8") for path in DOCS[1:])
    for check in CHECKS:
        if check.code[:3] in ("FT1", "FT2", "FT3", "FT4", "FT5", "FT6"):
            row = f"| [{check.code}](../checks/{check.slug()}/README.md) | {check.name} |"
            assert row in tables


def test_docs_blocks_follow_the_registry_when_a_check_is_added(tmp_path):
    page = tmp_path / "docs" / "page.md"
    page.parent.mkdir()
    page.write_text(
        "Runs <!-- generated: default-checks -->1<!-- end generated --> checks.\n\n"
        "<!-- generated: checks FT00 -->\n| stale |\n<!-- end generated -->\n",
        "utf-8",
    )
    assert main(["rules", "--catalog", str(tmp_path / "checks"), "--docs", str(page)]) == 0
    text = page.read_text("utf-8")
    default = sum(check.default for check in CHECKS)
    assert text.startswith(f"Runs <!-- generated: default-checks -->{default}<!-- end")
    first = min(check.code for check in CHECKS if check.code.startswith("FT00"))
    assert f"| [{first}](../checks/{REGISTRY[first].slug()}/README.md) |" in text
    assert "| stale |" not in text
    page.write_text("<!-- generated: checks FT9 -->\n<!-- end generated -->\n", "utf-8")
    assert main(["rules", "--catalog", str(tmp_path / "checks"), "--docs", str(page)]) == 2


def _link(path):
    return "checks" if path.parent == CATALOG.parent else "../checks"


def test_catalog_has_no_folder_without_a_check():
    folders = {path.name for path in CATALOG.iterdir() if path.is_dir()}
    assert folders == {check.slug() for check in CHECKS}
