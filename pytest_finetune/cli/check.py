"""``pytest-finetune check``: the checks the plugin runs, printed as ruff prints its own."""

from __future__ import annotations

import argparse
import difflib
import json
import sys
from pathlib import Path
from typing import Any

from pytest_finetune.checks import REGISTRY
from pytest_finetune.cli.lint_files import Linted, lint, selection_options
from pytest_finetune.cli.status import FAILED, OK, USAGE
from pytest_finetune.config import FileSettings
from pytest_finetune.findings import Severity
from pytest_finetune.outputs import github, report, sarif, summary, terminal
from pytest_finetune.paths import shown
from pytest_finetune.prepare import in_place
from pytest_finetune.prepare.read import PrepareError
from pytest_finetune.redact import redact
from pytest_finetune.wording import plural


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
    check.add_argument(
        "--fix",
        action="store_true",
        help="apply the safe fixes ([*]) to the datasets in place, then report what is "
        "left; a file that cannot be read whole is left alone",
    )
    check.add_argument(
        "--diff",
        action="store_true",
        help="print what --fix would change as a unified diff, and change nothing; exit "
        "status 1 if anything would change",
    )
    check.add_argument(
        "--force-exclude",
        action="store_true",
        help="leave files named that the configuration does not make datasets (include, "
        "exclude, a .json that holds no examples) alone, quietly, as in folders; without "
        "it, a file named is checked or refused (for pre-commit, which names every file)",
    )
    selection_options(check)
    check.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Run the command."""
    if args.diff:
        return _diff(args)
    fixer = _Fixer() if args.fix else None
    linted = lint(args, fixer)
    if linted is None:
        return USAGE
    if fixer is not None and fixer.fixed:
        print(f"Fixed {plural(fixer.fixed, 'example')} in {plural(fixer.files, 'file')}.")
    results = linted.results
    if args.format == "json":
        print(json.dumps(report.build(results), indent=2, ensure_ascii=False))
    elif args.format == "sarif":
        print(json.dumps(sarif.build(results), indent=2, ensure_ascii=False))
    elif args.format == "github":
        for line in github.commands(results.findings()):
            print(line)
    else:
        columns = terminal.width()
        for line in _text(linted, columns):
            for part in terminal.hanging(line, columns):
                print(part)
    return linted.exit_status(findings_fail=True)


def _text(linted: Linted, columns: int | None = None) -> list[str]:
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
    lines += summary.dataset_table(results, columns)
    lines += [
        wrapped
        for line in summary.estimates(results)
        for wrapped in terminal.hanging(line, columns)
    ]
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
            "run `pytest-finetune check --fix` (--diff to preview)."
        )
    return lines


class _Fixer:
    """``--fix``: each dataset fixed in place before it is linted."""

    def __init__(self) -> None:
        self.fixed = 0
        self.files = 0

    def __call__(self, path: Path, settings: FileSettings) -> bool:
        outcome = in_place.fix(path, shown(path), settings)
        if outcome.skipped is not None:
            print(f"pytest-finetune: {redact(outcome.skipped)}", file=sys.stderr)
        elif outcome.changed:
            try:
                in_place.write(outcome)
            except (PrepareError, OSError) as error:
                reason = getattr(error, "message", None) or f"cannot write it: {error}"
                print(f"pytest-finetune: {shown(path)}: {redact(reason)}", file=sys.stderr)
                return True
            self.fixed += outcome.fixed
            self.files += 1
            for change in outcome.changes:
                print(f"{shown(path)}: fixed: {redact(change.what)}")
        return True


def _diff(args: argparse.Namespace) -> int:
    """``--diff``: what ``--fix`` would change, as a unified diff; nothing is written."""
    outcomes: list[in_place.InPlace] = []

    def collect(path: Path, settings: FileSettings) -> bool:
        outcomes.append(in_place.fix(path, shown(path), settings))
        return False

    if lint(args, collect) is None:
        return USAGE
    changed = 0
    for outcome in outcomes:
        if outcome.skipped is not None:
            print(f"pytest-finetune: {redact(outcome.skipped)}", file=sys.stderr)
            continue
        if not outcome.changed:
            continue
        changed += 1
        name = shown(outcome.path)
        before = outcome.before.decode("utf-8", "replace").splitlines(keepends=True)
        after = outcome.after.decode("utf-8", "replace").splitlines(keepends=True)
        for line in difflib.unified_diff(before, after, f"a/{name}", f"b/{name}"):
            # The data's secrets are masked here as in every other output.
            print(redact(line.rstrip("\n")))
    if changed:
        print(f"\nWould fix {plural(changed, 'file')}.", file=sys.stderr)
        return FAILED
    print("No fixes available.", file=sys.stderr)
    return OK
