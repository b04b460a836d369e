"""The results of a run, gathered from item reports (so that xdist workers' count too)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pytest_finetune.findings import Finding, Severity

if TYPE_CHECKING:
    from collections.abc import Iterable

    from pytest_finetune.checks.context import CheckOutcome, DatasetStats
    from pytest_finetune.scan import ScanResult


def scan_payload(stats: DatasetStats, outcomes: Iterable[CheckOutcome]) -> dict[str, Any]:
    """What checks' runs on one file tell the summary and the reports, as plain data.

    Plain data, so that it crosses from an xdist worker to the controller: the file's
    statistics once, and each check with a finding or a reason it could not run (the
    others, most of them, have nothing to tell).
    """
    checks = []
    for outcome in outcomes:
        if not outcome.counts and outcome.skipped is None:
            continue
        skipped = outcome.skipped if not outcome.count else None
        checks.append(
            {
                "code": outcome.code,
                "findings": [finding.to_dict() for finding in outcome.sorted_findings()],
                "counts": {str(severity): count for severity, count in outcome.counts.items()},
                "skipped": skipped,
            }
        )
    return {"dataset": stats.to_dict(), "checks": checks}


@dataclass
class DatasetResult:
    """One dataset: its statistics and the findings of the checks that ran on it."""

    stats: dict[str, Any]
    #: Kept findings, by check code.
    findings: dict[str, list[Finding]] = field(default_factory=dict)
    #: Every finding counted, kept or not: code -> severity -> count.
    counts: dict[str, dict[Severity, int]] = field(default_factory=dict)
    #: The checks that could not run on it: code -> why (what to do about it).
    skipped: dict[str, str] = field(default_factory=dict)

    @property
    def path(self) -> str:
        """The dataset's path as findings show it."""
        return str(self.stats["path"])

    def all_findings(self) -> list[Finding]:
        """Kept findings of every check, by line then code."""
        found = [finding for findings in self.findings.values() for finding in findings]
        return sorted(found, key=lambda f: (f.line or 0, f.column or 0, f.code))

    def code_counts(self) -> dict[str, int]:
        """How many findings each check reported, by code."""
        return {
            code: sum(by_severity.values())
            for code, by_severity in sorted(self.counts.items())
            if sum(by_severity.values())
        }


@dataclass
class RunResults:
    """Every dataset checked and every model trained in this run, by the controller."""

    datasets: dict[str, DatasetResult] = field(default_factory=dict)
    training: list[dict[str, Any]] = field(default_factory=list)

    def add(self, payload: dict[str, Any]) -> None:
        """Take the payload of one check item's report (see :func:`scan_payload`)."""
        stats = payload["dataset"]
        dataset = self.datasets.setdefault(stats["path"], DatasetResult(stats))
        # Items of one file report the same statistics; checks that finish later may
        # have added figures (classes, tokens), so keep the fullest.
        for key, value in stats.items():
            if value is not None:
                dataset.stats[key] = value
        for check in payload["checks"]:
            code = check["code"]
            dataset.findings[code] = [
                Finding.from_dict(dataset.path, data) for data in check["findings"]
            ]
            dataset.counts[code] = {
                Severity.parse(name): count for name, count in check["counts"].items()
            }
            if check["skipped"]:
                dataset.skipped[code] = check["skipped"]

    def add_scan(self, result: ScanResult) -> None:
        """Take every check of one scan (a lint outside pytest)."""
        self.add(scan_payload(result.stats, result.outcomes.values()))

    def findings(self, minimum: Severity = Severity.INFO) -> list[Finding]:
        """Kept findings of every dataset at ``minimum`` severity or above, by path and line.

        In that order whatever order the datasets finished in (xdist workers race).
        """
        return [
            finding
            for dataset in sorted(self.datasets.values(), key=lambda d: d.path)
            for finding in dataset.all_findings()
            if finding.severity >= minimum
        ]
