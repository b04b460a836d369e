"""SARIF 2.1.0 (``--finetune-sarif``), for code scanning dashboards."""

from __future__ import annotations

from typing import Any

from pytest_finetune import __version__
from pytest_finetune.checks import REGISTRY
from pytest_finetune.findings import Severity
from pytest_finetune.outputs.results import RunResults

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
CATALOG = "https://github.com/pytest-finetune/pytest-finetune/blob/main/checks"
_LEVELS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}


def build(results: RunResults) -> dict[str, Any]:
    """The SARIF log of a run: every registered check as a rule, every kept finding."""
    checks = sorted(REGISTRY.values(), key=lambda check: check.code)
    index = {check.code: position for position, check in enumerate(checks)}
    rules = [
        {
            "id": check.code,
            "name": check.name,
            "shortDescription": {"text": check.summary()},
            "fullDescription": {"text": check.sections()["What it does"]},
            "help": {"text": check.sections()["Fix"]},
            "helpUri": f"{CATALOG}/{check.slug()}/README.md",
            "defaultConfiguration": {"level": _LEVELS[check.severity]},
            "properties": {"family": check.family().title, "fixable": check.fixable},
        }
        for check in checks
    ]
    sarif_results = []
    for finding in results.findings():
        # GitHub code scanning rejects a result without region.startLine (GH1003):
        # a finding about the whole file points at its first line.
        region: dict[str, Any] = {"startLine": 1 if finding.line is None else finding.line}
        if finding.line is not None and finding.column is not None:
            region["startColumn"] = finding.column
        location = {"artifactLocation": {"uri": finding.path}, "region": region}
        sarif_results.append(
            {
                "ruleId": finding.code,
                "ruleIndex": index[finding.code],
                "level": _LEVELS[finding.severity],
                "message": {"text": finding.message},
                "locations": [{"physicalLocation": location}],
            }
        )
    return {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "pytest-finetune",
                        "version": __version__,
                        "informationUri": CATALOG.rsplit("/blob", 1)[0],
                        "rules": rules,
                    }
                },
                "results": sarif_results,
            }
        ],
    }
