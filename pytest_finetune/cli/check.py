"""``pytest-finetune check``: the checks the plugin runs, printed as ruff prints its own."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from pytest_finetune.checks import REGISTRY
from pytest_finetune.cli.linting import Linted, lint, selection_options
from pytest_finetune.cli.status import USAGE
from pytest_finetune.findings import Severity, plural
from pytest_finetune.outputs import github, report, sarif, summary


def add_parser(commands: Any) -> None:
    """Add the command to ``commands`` (argparse's subparsers)."""
    check = commands.add_parser(
        "check",
        help="run the checks on datasets, as `pytest` does",
        description="Run the checks the pytest plugin runs, with the same configuration, "
        "and print the findings. Exit status: 1 if a finding fails (fail-on), 2 on a "
        "usage or configuration error, 0 otherwise.",
    )
    check.add_argument(
        "paths",
        nargs="*",
        type=Path,
        default=[Path()],
        metavar="PATH",
        help="dataset files, or folders to search for them (default: .)",
    )
    check.add_argument(
        "--format",
        choices=("text", "json", "sarif", "github"),
        default="text",
        help="text: path:line: CODE [severity] message lines, then the statistics; json: the "
        "report of --finetune-report; sarif: SARIF 2.1.0; github: GitHub Actions annotations",
    )
    selection_options(check)
    check.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Run the command."""
    linted = lint(args)
    if linted is None:
        return USAGE
    results = linted.results
    if args.format == "json":
        print(json.dumps(report.build(results), indent=2, ensure_ascii=False))
    elif args.format == "sarif":
        print(json.dumps(sarif.build(results), indent=2, ensure_ascii=False))
    elif args.format == "github":
        for line in github.commands(results.findings()):
            print(line)
    else:
        for line in _text(linted):
            print(line)
    return linted.exit_status(findings_fail=True)


def _text(linted: Linted) -> list[str]:
    """Findings as ``path:line: CODE [severity] message``, then the summary and statistics.

    As ruff prints, with the severity that an error and a warning would otherwise not
    show (as yamllint's ``[error]``).
    """
    results = linted.results
    if not results.datasets:
        return [linted.nothing_ran()]
    lines = []
    for dataset in sorted(results.datasets.values(), key=lambda d: d.path):
        lines += [
            f"{finding.location()}: {finding.code} [{finding.severity}] {finding.message}"
            for finding in dataset.all_findings()
        ]
        for code, findings in sorted(dataset.findings.items()):
            more = sum(dataset.counts.get(code, {}).values()) - len(findings)
            if more > 0:
                lines.append(f"{dataset.path}: ... and {more:,} more {code} findings")
    counts: dict[Severity, int] = {}
    fixable = 0
    for dataset in results.datasets.values():
        for code, by_severity in dataset.counts.items():
            for severity, count in by_severity.items():
                counts[severity] = counts.get(severity, 0) + count
            check = REGISTRY.get(code)
            if check is not None and check.fixable:
                fixable += sum(by_severity.values())
    total = sum(counts.values())
    if lines:
        lines.append("")
    lines += summary.dataset_table(results)
    statistics = summary.statistics(results)
    if statistics:
        lines += ["", *statistics]
    files = plural(len(results.datasets), "file")
    if not total:
        lines += ["", f"All checks passed ({files})."]
        return lines
    severities = ", ".join(
        plural(counts[severity], str(severity)) for severity in sorted(counts, reverse=True)
    )
    lines += ["", f"Found {plural(total, 'finding')} in {files} ({severities})."]
    if fixable:
        have = "has" if fixable == 1 else "have"
        lines.append(
            f"[*] {plural(fixable, 'finding')} {have} a safe fix: "
            "run `pytest-finetune prepare FILE`."
        )
    return lines
