"""GitHub Actions annotations: workflow commands on stdout, escaped and capped."""

from __future__ import annotations

from pytest_finetune.findings import Finding, Severity

#: GitHub shows at most 10 annotations of each level per step; the rest are dropped
#: silently, so the last one says how many more there are.
MAX_PER_LEVEL = 10
_COMMANDS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}


def escape_data(text: str) -> str:
    """Escape a command's message as the runner expects."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """Escape a property value (file, title): also ``:`` and ``,``."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def annotation(finding: Finding) -> str:
    """One ``::error file=...,line=...::message`` command."""
    properties = [f"file={escape_property(finding.path)}"]
    if finding.line is not None:
        properties.append(f"line={finding.line}")
        if finding.column is not None:
            properties.append(f"col={finding.column}")
    properties.append(f"title={escape_property(f'{finding.code} {finding.name}')}")
    return f"::{_COMMANDS[finding.severity]} {','.join(properties)}::{escape_data(finding.message)}"


def commands(findings: list[Finding]) -> list[str]:
    """The commands for ``findings``: errors and warnings first, capped per level."""
    lines: list[str] = []
    left_out = 0
    for severity in (Severity.ERROR, Severity.WARNING):
        matching = [finding for finding in findings if finding.severity is severity]
        lines.extend(annotation(finding) for finding in matching[:MAX_PER_LEVEL])
        left_out += max(0, len(matching) - MAX_PER_LEVEL)
    if left_out:
        lines.append(
            f"::notice title=pytest-finetune::{left_out:,} more findings are not annotated; "
            "see the job log or the report"
        )
    return lines
