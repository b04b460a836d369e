"""The terminal summary: a table of datasets and, as ``ruff --statistics``, of codes."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from pytest_finetune.checks import REGISTRY
from pytest_finetune.findings import Severity, render_list
from pytest_finetune.money import dollars
from pytest_finetune.outputs.results import RunResults
from pytest_finetune.outputs.terminal import hanging
from pytest_finetune.token_counting import CHARS_PER_TOKEN, unavailable_reason
from pytest_finetune.wording import plural


def dataset_table(
    results: RunResults, columns: int | None = None, *, quiet: bool = False
) -> list[str]:
    """One row per dataset: format, examples, classes, tokens, cost and findings by code.

    Where the rows are wider than ``columns`` (a narrow terminal), each dataset is a
    block instead: its path, then its figures and its findings, wrapped. ``quiet``
    (``-q``): only the datasets with findings, at most ``QUIET_ROWS`` of them, then how
    many more there are and how many are clean.
    """
    header = ("dataset", "format", "examples", "classes", "tokens", "cost", "findings")
    rows = [header]
    datasets = sorted(results.datasets.values(), key=lambda d: d.path)
    notes = []
    if quiet:
        found = [dataset for dataset in datasets if dataset.code_counts()]
        if len(found) > QUIET_ROWS:
            notes.append(f"... and {plural(len(found) - QUIET_ROWS, 'more dataset')} with findings")
        if len(found) < len(datasets):
            notes.append(f"{plural(len(datasets) - len(found), 'dataset')} without findings")
        datasets = found[:QUIET_ROWS]
        if not datasets:
            return notes
    for dataset in datasets:
        stats = dataset.stats
        counts = dataset.code_counts()
        rows.append(
            (
                dataset.path,
                str(stats.get("format", "")),
                f"{stats.get('examples', 0):,}",
                str(len(stats["classes"])) if stats.get("classes") else "-",
                _tokens(stats.get("tokens")),
                _cost(stats.get("tokens")),
                " ".join(f"{code}x{count}" for code, count in counts.items()) or "-",
            )
        )
    lines = _align(rows, right={2, 3, 4, 5})
    if columns is None or max(map(len, lines)) <= columns:
        return lines + notes
    return [line for row in rows[1:] for line in _block(row, columns)] + notes


def _block(row: tuple[str, ...], columns: int) -> list[str]:
    """One dataset's row as lines that fit ``columns``."""
    path, fmt, examples, classes, tokens, cost, findings = row
    figures = [fmt, f"{examples} examples"]
    if classes != "-":
        figures.append(f"{classes} classes")
    figures.append(f"{tokens} tokens")
    if cost != "-":
        figures.append(cost)
    return [
        path,
        *hanging("  " + ", ".join(figures), columns, indent=2),
        *hanging(f"  findings: {findings}", columns, indent=12),
    ]


def skipped(results: RunResults) -> list[str]:
    """The checks that could not run, each with why and on which datasets (or how many)."""
    where: dict[tuple[str, str], list[str]] = {}
    for dataset in sorted(results.datasets.values(), key=lambda d: d.path):
        for code, reason in sorted(dataset.skipped.items()):
            where.setdefault((code, reason), []).append(dataset.path)
    lines = []
    for (code, reason), paths in where.items():
        check = REGISTRY.get(code)
        name = f"{code} {check.name}" if check else code
        on = paths[0] if len(paths) == 1 else plural(len(paths), "dataset")
        lines.append(f"{name} did not run on {on}: {reason}")
    return lines


def estimates(results: RunResults) -> list[str]:
    """What the ``~`` of estimated token figures means, said once for the run."""
    offline = sorted(
        {
            str(tokens.get("encoding"))
            for dataset in results.datasets.values()
            if (tokens := dataset.stats.get("tokens")) and tokens.get("estimate") == "offline"
        }
    )
    proxies = sorted(
        {
            f"{tokens.get('model')} ({tokens.get('encoding')} stands in)"
            for dataset in results.datasets.values()
            if (tokens := dataset.stats.get("tokens")) and tokens.get("estimate") == "proxy"
        }
    )
    sampled = any(
        (dataset.stats.get("tokens") or {}).get("estimate") == "sample"
        for dataset in results.datasets.values()
    )
    lines = []
    if offline:
        lines.append(
            f"~ token figures are estimates, a token per {CHARS_PER_TOKEN} characters, and the "
            f"cost with them: {unavailable_reason(', '.join(offline))}"
        )
    if proxies:
        lines.append(
            "~ token figures are estimates where the target's tokenizer is not tiktoken's: "
            + ", ".join(proxies)
        )
    if sampled:
        lines.append(
            "~ token figures of files over exact-tokens-max-bytes are estimated from a sample "
            "counted exactly"
        )
    return lines


#: Datasets the ``-q`` table lists (those with findings); the report has them all.
QUIET_ROWS = 20


def one_line(results: RunResults) -> str:
    """The whole run in a line, for ``-qq``: datasets, findings by severity, models trained."""
    counts: Counter[Severity] = Counter()
    for dataset in results.datasets.values():
        for by_severity in dataset.counts.values():
            counts.update(by_severity)
    found = ", ".join(
        plural(counts[severity], str(severity)) for severity in sorted(counts, reverse=True)
    )
    parts = [f"{plural(len(results.datasets), 'dataset')}, {found or 'no findings'}"]
    unrun = sum(len(dataset.skipped) for dataset in results.datasets.values())
    if unrun:
        parts.append(f"{plural(unrun, 'check')} could not run (see the summary without -qq)")
    if results.training:
        parts.append(f"{plural(len(results.training), 'model')} trained")
    return "finetune: " + "; ".join(parts)


def training_table(results: RunResults) -> list[str]:
    """One row per trained model: backend, model, measured accuracy and F1, cost, verdict."""
    if not results.training:
        return []
    header = ("training", "backend", "model", "accuracy", "f1", "cost", "result")
    rows = [header]
    for entry in sorted(results.training, key=lambda e: str(e.get("nodeid"))):
        evaluation = entry.get("evaluation") or {}
        failed = [v["threshold"] for v in entry.get("verdicts", []) if not v["passed"]]
        if entry.get("error"):
            verdict = "error"
        elif failed:
            verdict = "failed: " + ", ".join(dict.fromkeys(failed))
        elif entry.get("outcome", "passed") == "failed":
            verdict = "failed: test body"  # every threshold met, an assertion not
        else:
            verdict = entry.get("outcome", "passed")  # or skipped, xfailed, xpassed
        cost = (entry.get("cost") or {}).get("usd")
        rows.append(
            (
                str(entry.get("nodeid", "")),
                str(entry.get("backend") or "-"),
                str(entry.get("model") or "-"),
                _fraction(evaluation.get("accuracy")),
                _fraction(evaluation.get("f1")),
                "-" if cost is None else dollars(cost),
                verdict,
            )
        )
    return _align(rows, right={3, 4, 5})


def _fraction(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def figures(results: RunResults) -> list[str]:
    """What checks measured beyond the table: the length bias of preference data."""
    lines = []
    for dataset in sorted(results.datasets.values(), key=lambda d: d.path):
        bias = dataset.stats.get("length_bias")
        if bias and bias.get("pairs"):
            pairs, longer = bias["pairs"], bias["preferred_longer"]
            lines.append(
                f"{dataset.path}: the preferred answer is longer in {longer:,} of {pairs:,} "
                f"pairs ({longer / pairs:.0%}), shorter in {bias['preferred_shorter']:,}"
            )
    return lines


def statistics(results: RunResults) -> list[str]:
    """Findings per code and severity across the run, most frequent first; ``[*]``: a safe fix.

    The severity is the one the findings had, after any override; a code whose findings
    had several severities (overridden for some files only) has a row for each.
    """
    totals: Counter[tuple[str, Severity]] = Counter()
    for dataset in results.datasets.values():
        for code, by_severity in dataset.counts.items():
            totals.update({(code, severity): n for severity, n in by_severity.items() if n})
    rows = []
    ordered = sorted(totals.items(), key=lambda item: (-item[1], item[0][0], -item[0][1]))
    for (code, severity), count in ordered:
        check = REGISTRY.get(code)
        name = check.name if check else ""
        fixable = "[*]" if check and check.fixable else ""
        rows.append((f"{count:,}", code, name, str(severity), fixable))
    return _align(rows, right={0}) if rows else []


#: Warnings listed per check and file in the summary; the report has them all.
WARNINGS_SHOWN = 5
#: Lines of warnings listed in all: a run over many files lists the first, then counts.
WARNINGS_LINES = 50


def warnings(results: RunResults, limit: int = WARNINGS_LINES) -> list[str]:
    """Warning findings (which do not fail items unless fail-on says so), capped.

    At most ``WARNINGS_SHOWN`` per check and file, and about ``limit`` lines in all, then
    ``... and N more`` as for the findings of a failing item.
    """
    lines: list[str] = []
    listed = total = 0
    for dataset in sorted(results.datasets.values(), key=lambda d: d.path):
        for code, findings in sorted(dataset.findings.items()):
            shown = [f for f in findings if f.severity is Severity.WARNING]
            count = dataset.counts.get(code, {}).get(Severity.WARNING, 0)
            total += count
            if shown and len(lines) < limit:
                lines.extend(render_list(shown, count, WARNINGS_SHOWN))
                listed += count
    if total > listed:
        lines.append(
            f"... and {plural(total - listed, 'more warning')}: the report "
            "(--finetune-report=PATH) lists them all"
        )
    return lines


def _tokens(tokens: dict[str, Any] | None) -> str:
    if not tokens or tokens.get("total") is None:
        return "-"
    prefix = "" if tokens.get("exact", True) else "~"
    return f"{prefix}{tokens['total']:,}"


def _cost(tokens: dict[str, Any] | None) -> str:
    if not tokens or tokens.get("estimated_cost") is None:
        return "-"
    return dollars(tokens["estimated_cost"])


def _align(rows: Sequence[tuple[str, ...]], right: set[int]) -> list[str]:
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    lines = []
    for row in rows:
        cells = [
            cell.rjust(width) if column in right else cell.ljust(width)
            for column, (cell, width) in enumerate(zip(row, widths, strict=True))
        ]
        lines.append("  ".join(cells).rstrip())
    return lines
