"""``pytest-finetune stats``: the summary of datasets, with their classes and tokens."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from pytest_finetune.cli.lint_files import Linted, lint, selection_options
from pytest_finetune.cli.status import USAGE
from pytest_finetune.money import dollars
from pytest_finetune.outputs import report, summary, terminal
from pytest_finetune.wording import plural


def add_parser(commands: Any) -> None:
    """Add the command to ``commands`` (argparse's subparsers)."""
    stats = commands.add_parser(
        "stats",
        help="the summary table for datasets: format, examples, classes, tokens, cost, findings",
        description="Lint datasets and print the summary: format, examples, classes, "
        "tokens, estimated cost and findings by code. Exit status: 2 on a usage or "
        "configuration error or a check that crashed, 0 otherwise, whatever the findings "
        "(`check` fails on them).",
    )
    stats.add_argument("paths", nargs="+", type=Path, metavar="FILE", help="dataset files")
    stats.add_argument("--format", choices=("text", "json"), default="text", help="output format")
    # No --fail-on: stats prints a summary and fails on no finding (`check` does).
    selection_options(stats, without=("fail-on",))
    stats.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Run the command."""
    linted = lint(args)
    if linted is None:
        return USAGE
    if args.format == "json":
        print(json.dumps(report.build(linted.results), indent=2, ensure_ascii=False))
    else:
        columns = terminal.width()
        for line in _text(linted, columns):
            for part in terminal.hanging(line, columns):
                print(part)
    return linted.exit_status(findings_fail=False)


def _text(linted: Linted, columns: int | None = None) -> list[str]:
    results = linted.results
    if not results.datasets:
        return [linted.nothing_ran()]
    lines = summary.dataset_table(results, columns)
    lines += [
        wrapped
        for line in summary.estimates(results)
        for wrapped in terminal.hanging(line, columns)
    ]
    for dataset in sorted(results.datasets.values(), key=lambda d: d.path):
        classes = dataset.stats.get("classes")
        if classes:
            total = sum(classes.values())
            largest, smallest = max(classes.values()), min(classes.values())
            lines += [
                "",
                f"{dataset.path}: {len(classes)} classes, the largest "
                f"{largest / smallest:.1f} times the smallest",
            ]
            lines += [
                f"  {label!r:<30} {count:>8,}  {count / total:6.1%}"
                for label, count in classes.items()
            ]
        tokens = dataset.stats.get("tokens")
        if tokens and tokens.get("total") is not None:
            lines += ["", f"{dataset.path}: {_token_line(tokens)}"]
    figures = summary.figures(results)
    if figures:
        lines += ["", *figures]
    statistics = summary.statistics(results)
    if statistics:
        lines += ["", *statistics]
    return lines


def _token_line(tokens: dict[str, Any]) -> str:
    exact = "exact" if tokens.get("exact", True) else "estimated"
    line = f"{tokens['total']:,} tokens ({exact}"
    if tokens.get("encoding"):
        line += f", {tokens['encoding']}"
    line += ")"
    if tokens.get("max") is not None:
        line += f", the longest example {tokens['max']:,}"
    if tokens.get("epochs"):
        line += f"; {plural(tokens['epochs'], 'epoch')} of {tokens.get('model', 'the model')}"
        if tokens.get("billed") is not None:
            line += f", {tokens['billed']:,} tokens billed"
        if tokens.get("estimated_cost") is not None:
            line += f", about {dollars(tokens['estimated_cost'])}"
    return line
